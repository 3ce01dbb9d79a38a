"""Checks of the exercises in lesson 12_vae: the Gaussian KL, the reparameterisation trick (a draw fixed so that
the gradient passes it, judged by its values and by tf.GradientTape's gradients), the free-bits loss and a training
step, and a prediction of how far inside the prior's shell the linear midpoint of two codes falls, measured on codes
drawn from the prior; answers are compared with the package's on values known by hand and on codes of many
dimensions, the training step against the same step taken here, on copies of its models.

Lesson: 12_vae
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, Answered, CheckFailed, call, exercise
from musegen_lessons.course.checks.behaviour import (
    copy_model,
    expect_number,
    expect_step,
    fragment_writer,
    step_fragments,
)
from musegen_lessons.course.checks.lesson03 import compare
from musegen_lessons.families.vae import (
    LATENT_DIM,
    free_bits_kl,
    gaussian_kl,
    gaussian_kl_per_dimension,
    reparameterise,
    slerp,
)

PACKAGE = "the package"


def _codes(fragments, latent, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.8, size=(fragments, latent)), rng.normal(scale=0.6, size=(fragments, latent))


@exercise(
    "12.1",
    "my_gaussian_kl",
    "the KL of a Gaussian code from the prior",
    setup=NUMPY,
    references=("musegen_lessons.families.vae.gaussian_kl",),
)
def check_gaussian_kl(fn):

    cases = [
        ("a code equal to the prior (mean 0, log-variance 0)", np.zeros((1, 4)), np.zeros((1, 4))),
        ("one dimension, mean 1 and log-variance 1", np.ones((1, 1)), np.ones((1, 1))),
        ("3 fragments' codes of 16 dimensions", *_codes(3, 16, 1)),
        ("5 fragments' codes of 2 dimensions", *_codes(5, 2, 2)),
    ]
    for what, mean, log_variance in cases:
        got = call(fn, mean.copy(), log_variance.copy())
        compare(what, np.reshape(got, np.shape(got)), gaussian_kl(mean, log_variance), PACKAGE)
    return "½ Σ (μ² + σ² − 1 − ln σ²): 0 for the prior itself, growing as a code moves away or narrows."


# Exercise 12.2: the code whose draw the tape must pass (its dimensions) and the rows of noise that average E‖z‖².
TAPE_LATENT, TAPE_DRAWS = 4, 20_000


def square_gradients(draw, mean, log_variance, noise):
    """The gradients of E‖z‖² with respect to μ and ln σ², found by tf.GradientTape through the codes
    z = draw(μ, ln σ², ε): μ and ln σ² become tf.Variables, and E‖z‖² is the mean over the noise's rows of Σ_d z_d².
    Returns (∂/∂μ, ∂/∂ln σ²), each a numpy array of μ's shape, or None where no gradient came through the draw.
    Through z = μ + σ ⊙ ε they are 2μ and σ², nearly, for many rows of noise: E‖z‖² = Σ_d (μ_d² + σ_d²).

    Lesson: 12_vae (after exercise 12.2, and its check)
    """
    import tensorflow as tf

    mean = tf.Variable(np.asarray(mean, np.float32))
    log_variance = tf.Variable(np.asarray(log_variance, np.float32))
    with tf.GradientTape() as tape:
        z = tf.cast(draw(mean, log_variance, tf.constant(np.asarray(noise, np.float32))), tf.float32)
        objective = tf.reduce_mean(tf.reduce_sum(tf.square(z), axis=-1))
    return tuple(None if g is None else np.asarray(g) for g in tape.gradient(objective, [mean, log_variance]))


def _drawn_by(fn):
    """The student's draw, for `square_gradients`: its code as a tensor, or a CheckFailed that says what came back."""

    import tensorflow as tf

    def draw(mean, log_variance, noise):
        z = call(fn, mean, log_variance, noise)
        try:
            codes = tf.convert_to_tensor(z)
        except (TypeError, ValueError):
            codes = None
        if codes is None or codes.shape.rank == 0 or not (codes.dtype.is_floating or codes.dtype.is_integer):
            raise CheckFailed(
                f"Given μ and ln σ² as tf.Variables of shape {tuple(mean.shape)} and noise of shape "
                f"{tuple(noise.shape)}, return the codes, one per row of noise, not {z!r}."
            )
        return codes

    return draw


def _is_graded_apart(fn):
    """True for a student's function in a process of its own (`musegen grade`): only data reaches it, so no
    tf.Variable, and no tape, can."""
    from musegen_lessons.course.isolation import IsolatedFunction

    return isinstance(fn, IsolatedFunction)


@exercise(
    "12.2",
    "my_reparameterise",
    "find the bug: a draw the gradient cannot pass",
    setup="import numpy as np\nimport tensorflow as tf",
    references=("musegen_lessons.families.vae.reparameterise",),
)
def check_reparameterise(fn):
    rng = np.random.default_rng(3)
    tape_mean, tape_log_variance = _codes(1, TAPE_LATENT, 4)
    tape_noise = rng.normal(size=(TAPE_DRAWS, TAPE_LATENT))
    on_tape = not _is_graded_apart(fn)
    if on_tape:
        got = square_gradients(_drawn_by(fn), tape_mean, tape_log_variance, tape_noise)
        missing = [name for name, gradient in zip(("μ", "ln σ²"), got) if gradient is None]
        if missing:
            raise CheckFailed(
                f"Under tf.GradientTape, with μ and ln σ² as tf.Variables (a code of {TAPE_LATENT} dimensions, "
                f"{TAPE_DRAWS:,} rows of noise), the gradient of E‖z‖² does not reach {' or '.join(missing)}: the "
                "draw left the tape. `.numpy()`, numpy's functions (np.random, np.exp) and tf.constant make numbers "
                "the tape cannot trace back; make z from the given noise, μ and ln σ² with TensorFlow's operations."
            )
    cases = [
        ("a code with log-variance 0 (σ = 1)", np.full((1, 3), 0.5), np.zeros((1, 3))),
        ("a code with log-variance ln 4 (σ = 2)", np.zeros((1, 2)), np.full((1, 2), np.log(4.0))),
        ("4 fragments' codes of 16 dimensions", *_codes(4, 16, 4)),
    ]
    for what, mean, log_variance in cases:
        noise = rng.normal(size=mean.shape)
        expected = reparameterise(mean, log_variance, noise)
        given = [("numpy arrays", (mean.copy(), log_variance.copy(), noise.copy()))]
        if on_tape:
            import tensorflow as tf

            given.append(("tf tensors", tuple(tf.constant(a) for a in (mean, log_variance, noise))))
        for kind, args in given:
            got = call(fn, *args)
            if kind == "numpy arrays" and not isinstance(got, np.ndarray):
                raise CheckFailed(
                    f"Given {what} as numpy arrays, return a numpy array (np.asarray(z)), not {type(got).__name__}: "
                    "the grader takes numpy back. Given tf tensors, return the tensor, so that the tape can follow it."
                )
            try:
                got = np.asarray(got, dtype=np.float64)
            except (TypeError, ValueError):
                raise CheckFailed(f"On {what}, given as {kind}, return the codes as numbers, not {got!r}.") from None
            with_variance = mean + np.exp(log_variance) * noise
            if got.shape == with_variance.shape and np.allclose(got, with_variance) and log_variance.any():
                raise CheckFailed(
                    f"On {what}, yours scales the noise by exp(log_variance): that is σ², the variance. The "
                    "standard deviation is σ = exp(½ ln σ²)."
                )
            compare(f"{what}, given as {kind}", got, expected, PACKAGE)
    if not on_tape:
        return "μ + σ ⊙ ε from the given noise (the tape is checked when the check runs in the notebook)."
    got = square_gradients(_drawn_by(fn), tape_mean, tape_log_variance, tape_noise)
    expected = square_gradients(reparameterise, tape_mean, tape_log_variance, tape_noise)
    for name, mine, right in zip(("μ", "ln σ²"), got, expected):
        compare(f"the tape's gradient of E‖z‖² with respect to {name}", mine, right, "the trick")
    by_hand = np.concatenate([2 * tape_mean, np.exp(tape_log_variance)])
    off = np.abs(np.concatenate(expected) - by_hand).max() / np.abs(by_hand).max()
    return (
        "μ + σ ⊙ ε from the given noise, and under tf.GradientTape the gradients of E‖z‖² reach both parameters: "
        f"2μ and σ² to within {off:.1%} over {TAPE_DRAWS:,} draws."
    )


# Exercise 12.4: the pairs of prior codes the check draws, and how near a prediction must come to count as right.
MIDPOINT_PAIRS, MIDPOINT_TOLERANCE = 10_000, 0.05


def midpoint_norms(latent=LATENT_DIM, pairs=MIDPOINT_PAIRS, seed=12):
    """Pairs of codes a, b drawn from the prior N(0, I) in `latent` dimensions, and the norm of each pair's midpoint
    as a fraction of its codes' norms, (‖a‖ + ‖b‖) / 2: on the straight line, (a + b) / 2, and on the great circle,
    vae.slerp(a, b, ½). Returns {"code": the mean norm of a code, "linear": the mean fraction on the line,
    "linear 5%", "linear 95%": the line's 5th and 95th percentiles over the pairs, "slerp": the mean on the circle}.

    Lesson: 12_vae (exercise 12.4's measurement)
    """
    a, b = np.random.default_rng(seed).normal(size=(2, pairs, latent))
    norms = (np.linalg.norm(a, axis=1) + np.linalg.norm(b, axis=1)) / 2
    linear = np.linalg.norm((a + b) / 2, axis=1) / norms
    on_circle = np.linalg.norm([slerp(x, y, 0.5) for x, y in zip(a, b)], axis=1) / norms
    low, high = np.percentile(linear, [5, 95])
    return {
        "code": float(norms.mean()),
        "linear": float(linear.mean()),
        "linear 5%": float(low),
        "linear 95%": float(high),
        "slerp": float(on_circle.mean()),
    }


@exercise(
    "12.4",
    "my_midpoint_norm_prediction",
    "predict, then measure: how far from the prior's shell the linear midpoint falls",
    setup=NUMPY,
    references=("musegen_lessons.course.checks.lesson12.midpoint_norms",),
)
def check_midpoint_norm_prediction(fn):
    predicted = call(fn)
    number = isinstance(predicted, (int, float, np.integer, np.floating)) and not isinstance(predicted, bool)
    if not number or not np.isfinite(predicted) or predicted < 0:
        raise CheckFailed(
            "Predict one number, 0 or more: the norm of the midpoint (a + b)/2 as a fraction of the codes' norm "
            f"(1 would put it on the shell itself), not {predicted!r}."
        )
    predicted, measured = float(predicted), midpoint_norms()
    if abs(predicted - measured["linear"]) <= MIDPOINT_TOLERANCE:
        verdict = f"right, within {MIDPOINT_TOLERANCE} of the measurement"
    else:
        verdict = f"not what was measured: {measured['linear']:.3f} (within {MIDPOINT_TOLERANCE} counts as right)"
        if predicted > 1.5:
            verdict += "; a norm itself, perhaps? The question asks for a fraction of the codes' norm"
    return Answered(
        f"you predicted {predicted:.3g}, {verdict}. Over {MIDPOINT_PAIRS:,} pairs of codes drawn from N(0, I) in "
        f"{LATENT_DIM} dimensions (a code's norm {measured['code']:.2f} on average, near √{LATENT_DIM}), the "
        f"straight line's midpoint has {measured['linear']:.3f} of its codes' norm (90% of the pairs between "
        f"{measured['linear 5%']:.2f} and {measured['linear 95%']:.2f}), the slerp midpoint {measured['slerp']:.3f}. "
        "Why: (a + b)/2 of two independent codes is drawn from N(0, I/2), every coordinate's spread shrunk by "
        "1/√2 ≈ 0.707, and the norm with them; slerp walks the great circle, which keeps the norm of codes of equal "
        "length (and bulges a little between unequal ones)."
    )


# Exercise 12.3: the size of the check's VAE, its free-bits allowance (nats a dimension) and its step.
STEP_LATENT, STEP_FREE_NATS, STEP_RATE = 4, 0.5, 0.05


def step_models(seed=0):
    """A small encoder and decoder of Keras's plain layers for exercise 12.3, a batch of real one-bar fragments of
    the chorales (token numbers) and the noise that draws their codes: (encoder, decoder, ids, noise). The encoder
    gives [mean, log_variance], each (batch, latent); the decoder gives (batch, steps, tokens) probabilities."""
    import keras

    fragments, vocabulary = step_fragments()
    ids = np.array([vocabulary.encode(f) for f in fragments], np.int32)
    steps, tokens = ids.shape[1], len(vocabulary)
    keras.utils.set_random_seed(seed)
    x = keras.Input((steps,), dtype="int32")
    hidden = keras.layers.Dense(32, activation="tanh")(keras.layers.Flatten()(keras.layers.Embedding(tokens, 8)(x)))
    mean, log_variance = (keras.layers.Dense(STEP_LATENT, name=name)(hidden) for name in ("mean", "log_variance"))
    encoder = keras.Model(x, [mean, log_variance])
    # codes away from the prior in two dimensions, so that two dimensions' KL lies below the allowance and two above
    kernel, _ = encoder.get_layer("mean").get_weights()
    encoder.get_layer("mean").set_weights([kernel, np.array([0.0, 0.5, 1.5, 2.5], np.float32)[:STEP_LATENT]])
    decoder = fragment_writer(STEP_LATENT, steps, tokens, "tanh")
    noise = np.random.default_rng(seed).normal(size=(len(ids), STEP_LATENT)).astype(np.float32)
    return encoder, decoder, ids, noise


def vae_step(encoder, decoder, ids, noise, free_nats, learning_rate):
    """One step of plain gradient descent on the free-bits loss, on the models themselves. Returns (loss,
    reconstruction, KL, the encoder's gradients, the decoder's gradients), the three figures in nats, means over the
    batch: reconstruction = Σ_t −ln p(x_t | z), KL = Σ_d KL_d, loss = reconstruction + Σ_d max(λ, mean KL_d)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        mean, log_variance = encoder(ids)
        probabilities = decoder(reparameterise(mean, log_variance, noise))
        nll = tf.keras.losses.sparse_categorical_crossentropy(ids, probabilities)
        reconstruction = tf.reduce_mean(tf.reduce_sum(nll, axis=1))
        kl_per_dimension = gaussian_kl_per_dimension(mean, log_variance)
        loss = reconstruction + free_bits_kl(kl_per_dimension, free_nats)
    weights = encoder.trainable_variables + decoder.trainable_variables
    # the embedding's gradient comes as IndexedSlices, the rows the batch used: made whole here
    gradients = [np.asarray(tf.convert_to_tensor(g)) for g in tape.gradient(loss, weights)]
    for weight, gradient in zip(weights, gradients):
        weight.assign_sub(learning_rate * gradient)
    kl = float(tf.reduce_mean(tf.reduce_sum(kl_per_dimension, axis=1)))
    split = len(encoder.trainable_variables)
    return float(loss), float(reconstruction), kl, gradients[:split], gradients[split:]


@exercise(
    "12.3",
    "my_vae_step",
    "the free-bits loss and one training step of the VAE",
    setup="import numpy as np\nimport tensorflow as tf\n\nfrom musegen_lessons.families import vae",
    references=(
        "musegen_lessons.families.vae.VAE",
        "musegen_lessons.families.vae.free_bits_kl",
        "musegen_lessons.course.checks.lesson12.vae_step",
    ),
)
def check_vae_step(fn):
    encoder, decoder, ids, noise = step_models()
    e_before, d_before = encoder.get_weights(), decoder.get_weights()
    expected = vae_step(copy_model(encoder), copy_model(decoder), ids, noise, STEP_FREE_NATS, STEP_RATE)
    got = call(fn, encoder, decoder, ids, noise, STEP_FREE_NATS, STEP_RATE)
    if not isinstance(got, tuple) or len(got) != 5:
        raise CheckFailed("Return five things: (loss, reconstruction, KL, encoder, decoder).")
    loss, reconstruction, kl, new_encoder, new_decoder = got
    expect_number(
        "reconstruction",
        reconstruction,
        expected[1],
        "Decode the code z = mean + exp(log_variance / 2) · noise, sum −ln p(token) over a fragment's steps, and "
        "average over the batch.",
    )
    expect_number(
        "KL",
        kl,
        expected[2],
        "Each dimension's KL is ½(μ² + σ² − 1 − ln σ²) with ln σ² the encoder's log_variance; sum over the "
        "dimensions, average over the batch.",
    )
    expect_number(
        "loss",
        loss,
        expected[0],
        "Free bits charge each dimension for max(λ, its KL averaged over the batch), summed over the dimensions, "
        "and add the reconstruction.",
    )
    hint = "The step goes down the gradient of the loss (free bits and all) with respect to every weight of both."
    expect_step("encoder", e_before, new_encoder, expected[3], STEP_RATE, hint)
    expect_step("decoder", d_before, new_decoder, expected[4], STEP_RATE, hint)
    return (
        f"on the check's batch the reconstruction is {expected[1]:.3f} nats, the KL {expected[2]:.3f}, the loss "
        f"with λ = {STEP_FREE_NATS} nats a dimension {expected[0]:.3f}, and the step went down its gradient."
    )
