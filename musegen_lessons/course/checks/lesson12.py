"""Checks of the exercises in lesson 12_vae: the Gaussian KL, the reparameterisation trick, the free-bits loss and a
training step, and spherical interpolation; each answer is compared with the package's on values known by hand and
on codes of many dimensions, the training step against the same step taken here, on copies of its models.

Lesson: 12_vae
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise
from musegen_lessons.course.checks.behaviour import (
    copy_model,
    expect_number,
    expect_step,
    fragment_writer,
    step_fragments,
)
from musegen_lessons.course.checks.lesson03 import compare
from musegen_lessons.families.vae import (
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


@exercise(
    "12.2",
    "my_reparameterise",
    "the reparameterisation trick",
    setup=NUMPY,
    references=("musegen_lessons.families.vae.reparameterise",),
)
def check_reparameterise(fn):

    rng = np.random.default_rng(3)
    for what, (mean, log_variance) in [
        ("a code with log-variance 0 (σ = 1)", (np.full((1, 3), 0.5), np.zeros((1, 3)))),
        ("a code with log-variance ln 4 (σ = 2)", (np.zeros((1, 2)), np.full((1, 2), np.log(4.0)))),
        ("4 fragments' codes of 16 dimensions", _codes(4, 16, 4)),
    ]:
        noise = rng.normal(size=mean.shape)
        compare(
            what,
            call(fn, mean.copy(), log_variance.copy(), noise.copy()),
            reparameterise(mean, log_variance, noise),
            PACKAGE,
        )
    return "μ + σ ⊙ ε: the draw is a function of μ and σ, and the gradient reaches both."


@exercise(
    "12.4",
    "my_slerp",
    "spherical interpolation",
    setup=NUMPY,
    references=("musegen_lessons.families.vae.slerp",),
)
def check_slerp(fn):

    rng = np.random.default_rng(5)
    cases = [
        ("a quarter circle of radius 2, [2, 0] to [0, 2]", np.array([2.0, 0.0]), np.array([0.0, 2.0])),
        ("two codes of 16 dimensions", rng.normal(size=16), rng.normal(size=16)),
        ("codes of different lengths", np.array([1.0, 0.0, 0.0]), np.array([0.0, 3.0, 1.0])),
    ]
    for what, z0, z1 in cases:
        for t in (0.0, 0.25, 0.5, 1.0):
            got = call(fn, z0.copy(), z1.copy(), t)
            if np.shape(got) != z0.shape:
                raise CheckFailed(f"For {what} at t = {t} the point has shape {z0.shape}; yours has {np.shape(got)}.")
            compare(f"{what}, t = {t}", got, slerp(z0, z1, t), PACKAGE)
    return "along the great circle: t = 0 is z0, t = 1 is z1, and between them the path keeps to the codes' sphere."


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
