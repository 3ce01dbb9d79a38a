"""Checks of the exercises in lesson 11_gan: the discriminator's loss, the non-saturating generator loss (fixed from
one that teaches the generator to look fake), a training step of both players, the copy rate and the gradient
penalty of WGAN-GP; each answer is compared with the package's on hand-made values where the answer is known, on
logits that would overflow a naive formula, and on fragments of a real chorale; the training step against the same
step taken here, on copies of its models.

Lesson: 11_gan
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise, is_near
from musegen_lessons.course.checks.behaviour import (
    copy_model,
    expect_number,
    expect_step,
    fragment_writer,
    step_fragments,
)
from musegen_lessons.course.checks.lesson03 import real_inputs
from musegen_lessons.evaluation.copying import copy_rate
from musegen_lessons.families.gan import discriminator_loss, generator_loss, penalty_from_gradients

TOLERANCE = 1e-6


def _logits(count, seed, scale=3.0):
    return np.random.default_rng(seed).normal(scale=scale, size=count)


def _shown(values):
    values = np.asarray(values, dtype=float).ravel()
    text = ", ".join(f"{v:g}" for v in values[:4])
    return f"[{text}{', ...' if len(values) > 4 else ''}] ({len(values)} logits)"


def _expect_number(got, expected, what, hint):
    if not is_near(got, expected, TOLERANCE * max(1.0, abs(expected))):
        shown = f"{float(got):.6f}" if isinstance(got, (int, float, np.number)) else repr(got)
        raise CheckFailed(f"{what} the loss is {expected:.6f}; yours is {shown}. {hint}")


@exercise(
    "11.1",
    "my_discriminator_loss",
    "the discriminator's loss",
    setup=NUMPY,
    references=(
        "musegen_lessons.families.gan.discriminator_loss",
        "keras.losses.binary_crossentropy",
        "keras.losses.BinaryCrossentropy",
    ),
)
def check_discriminator_loss(fn):
    import keras  # noqa: F401  (imported before the answer runs, so that a call to its cross-entropy is refused)

    cases = [
        (np.zeros(1), np.zeros(1), "A discriminator that cannot tell (both logits 0, D = 1/2 everywhere): 2 ln 2."),
        (np.array([4.0, 1.0, -1.0]), np.array([-2.0, 0.5]), "Two means: one over the real, one over the fake logits."),
        (_logits(64, 1), _logits(32, 2), "−ln σ(a) for the real logits, −ln(1 − σ(a)) for the fake ones."),
        (np.array([40.0, 60.0]), np.array([-50.0, -800.0]), "Sure and right: the loss is nearly 0, not nan or inf."),
        (np.array([-40.0]), np.array([45.0]), "Sure and wrong: compute −ln σ(a) as np.logaddexp(0, −a)."),
    ]
    for real, fake, hint in cases:
        what = f"For real logits {_shown(real)} and fake logits {_shown(fake)}"
        _expect_number(call(fn, real.copy(), fake.copy()), discriminator_loss(real, fake), what, hint)
    return "'real' on real fragments and 'fake' on generated ones, as a cross-entropy of logits."


# Exercise 11.2: two fakes, one the discriminator rejects and one it accepts, D(G(z)) = σ(∓2) = 0.12 and 0.88: a
# generator's loss must be lower for the one that looks real.
REJECTED, ACCEPTED = -2.0, 2.0


@exercise(
    "11.2",
    "my_generator_loss",
    "find the bug: a generator that learns to look fake",
    setup=NUMPY,
    references=("musegen_lessons.families.gan.generator_loss", "keras.losses.binary_crossentropy"),
)
def check_generator_loss(fn):
    import keras  # noqa: F401  (imported before the answer runs, so that a call to its cross-entropy is refused)

    rejected, accepted = call(fn, np.array([REJECTED])), call(fn, np.array([ACCEPTED]))
    if all(isinstance(v, (int, float, np.number)) for v in (rejected, accepted)) and accepted > rejected:
        raise CheckFailed(
            f"For fake logits [{REJECTED:g}] (D(G(z)) = {_belief(REJECTED):.2f}) your loss is {float(rejected):.4f}, "
            f"for [{ACCEPTED:g}] (D(G(z)) = {_belief(ACCEPTED):.2f}) it is {float(accepted):.4f}: it falls as D(G(z)) "
            "falls: the generator learns to look fake. Minimising the generator's loss must push D(G(z)) up."
        )
    cases = [
        (np.zeros(1), "At D = 1/2 (logit 0) it is ln 2."),
        (np.array([-5.0, -3.0, -6.0]), "The discriminator rejects these fakes: the loss is large (about 4.7)."),
        (_logits(64, 3), "−ln σ(D(G(z))), averaged: the non-saturating loss."),
        (np.array([-60.0, 50.0]), "For very sure logits compute −ln σ(a) as np.logaddexp(0, −a): no nan, no inf."),
    ]
    for fake, hint in cases:
        got = call(fn, fake.copy())
        if isinstance(got, (int, float, np.number)) and abs(float(got) - generator_loss(fake, saturating=True)) < 1e-9:
            hint = (
                "Yours is the saturating minimax loss, mean ln(1 − D(G(z))): right direction, but its gradient "
                "vanishes where D is sure — the slopes figure above. Minimise −mean ln D(G(z)) instead."
            )
        _expect_number(got, generator_loss(fake), f"For fake logits {_shown(fake)}", hint)
    return "−E ln σ(D(G(z))): it falls as the fakes look real, and pushes hardest when the discriminator rejects them."


def _belief(logit):
    return 1 / (1 + np.exp(-logit))


def _gradients():
    """Cases (gradients, what): norms known by hand, and gradients of a critic's score at chorale fragments."""

    exactly_one = np.zeros((3, 4, 5))
    exactly_one[:, 0, 0] = 1.0
    three_and_one = np.zeros((2, 2, 2))
    three_and_one[0] = [[1.0, 2.0], [2.0, 0.0]]  # norm 3: (3 − 1)² = 4
    three_and_one[1, 1, 1] = 1.0  # norm 1: 0
    one_hot = real_inputs(32)["one-hot tokens"]
    rng = np.random.default_rng(11)
    critic_like = np.stack([one_hot * rng.normal(scale=s, size=one_hot.shape) for s in (0.05, 0.2, 0.5, 1.0)])
    return [
        (exactly_one, "3 fragments whose gradients each have norm exactly 1"),
        (three_and_one, "2 fragments, gradient norms 3 and 1"),
        (np.zeros((2, 32, 8)), "2 fragments with zero gradients"),
        (critic_like, "4 gradients (32 steps × 35 tokens) at fragments of a chorale"),
    ]


@exercise(
    "11.5",
    "my_gradient_penalty",
    "the gradient penalty",
    setup=NUMPY,
    references=("musegen_lessons.families.gan.penalty_from_gradients", "musegen_lessons.families.gan.gradient_penalty"),
)
def check_gradient_penalty(fn):

    for gradients, what in _gradients():
        expected = penalty_from_gradients(gradients)
        got = call(fn, gradients.copy())
        if not is_near(got, expected, 1e-6 * max(1.0, expected)):
            shown = f"{float(got):.6f}" if isinstance(got, (int, float, np.number)) else repr(got)
            raise CheckFailed(
                f"For {what}, shape {gradients.shape}, the penalty is {expected:.6f}; yours is {shown}. Take each "
                "fragment's norm over all its steps and tokens together, √(Σ g²), then the mean over the fragments "
                "of (norm − 1)²."
            )
    return "0 for a critic whose slope is 1 everywhere between real and fake, growing as it steepens or flattens."


def _fragments():
    """(samples, training) as token-number arrays: fragments of a real chorale and samples made from them."""

    ids = real_inputs(200)["one-hot tokens"].argmax(axis=1)
    training = np.stack([ids[start : start + 32] for start in range(0, len(ids) - 32, 16)])
    changed = training[3].copy()
    changed[7] = (changed[7] + 1) % 35  # one step different: near, but not a copy
    samples = np.stack([training[5], training[5], training[2], changed, training[0][::-1], training[-1]])
    return samples, training


@exercise(
    "11.4",
    "my_copy_rate",
    "the copy rate",
    setup=NUMPY,
    references=("musegen_lessons.evaluation.copying.copy_rate", "musegen_lessons.evaluation.copying.nearest_fragments"),
)
def check_copy_rate(fn):

    samples, training = _fragments()
    cases = [
        (samples, training, "6 samples: the same copy twice, two more copies, one a single step away, one reversed"),
        (samples[3:5], training, "2 samples, neither a copy (one a single step away)"),
        (training[:4], training, "4 samples that are all training fragments"),
        (samples[:3], training[::-1], "3 copies, with the training fragments in reverse order"),
    ]
    for sample_rows, training_rows, what in cases:
        expected = copy_rate(sample_rows, training_rows)
        got = call(fn, sample_rows.copy(), training_rows.copy())
        if not is_near(got, expected, 1e-9):
            raise CheckFailed(
                f"For {what} ({len(training_rows)} training fragments of {training_rows.shape[1]} steps), the copy "
                f"rate is {expected:g}; yours is {got!r}. Count every sample that equals some training fragment at "
                "every step (a copy twice counts twice), and divide by the number of samples."
            )
    return "the share of samples that are a training fragment, step for step."


# Exercise 11.3: the size of the check's GAN (fragments of one bar, a small noise) and its step.
STEP_FRAGMENTS, STEP_NOISE, STEP_RATE = 32, 8, 0.1


def step_models(seed=0):
    """A small generator and discriminator of Keras's plain layers for exercise 11.3, a batch of real one-bar
    fragments of the chorales (one-hot) and the noise for the generator: (generator, discriminator, real, noise)."""
    import keras

    from musegen_lessons.corpora.fragments import fragments_to_one_hot

    fragments, vocabulary = step_fragments(STEP_FRAGMENTS)
    real = fragments_to_one_hot(fragments, vocabulary)
    steps, tokens = real.shape[1:]
    keras.utils.set_random_seed(seed)
    generator = fragment_writer(STEP_NOISE, steps, tokens, "relu")
    discriminator = keras.Sequential(
        [
            keras.Input((steps, tokens)),
            keras.layers.Flatten(),
            keras.layers.Dense(32),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(1),
        ]
    )
    noise = np.random.default_rng(seed).normal(size=(len(real), STEP_NOISE)).astype(np.float32)
    return generator, discriminator, real, noise


def gan_step(generator, discriminator, real, noise, learning_rate):
    """One step of the GAN by plain gradient descent, on the models themselves: the discriminator on `real` and
    the generator's fragments of `noise`, then the generator on the same noise against the updated discriminator.
    Returns (discriminator's loss, generator's loss, the discriminator's gradients, the generator's gradients)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real), discriminator(generator(noise)))
    d_gradients = tape.gradient(d_loss, discriminator.trainable_variables)
    for weight, gradient in zip(discriminator.trainable_variables, d_gradients):
        weight.assign_sub(learning_rate * gradient)
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise)))
    g_gradients = tape.gradient(g_loss, generator.trainable_variables)
    for weight, gradient in zip(generator.trainable_variables, g_gradients):
        weight.assign_sub(learning_rate * gradient)
    return float(d_loss), float(g_loss), [np.asarray(g) for g in d_gradients], [np.asarray(g) for g in g_gradients]


@exercise(
    "11.3",
    "my_gan_step",
    "one training step of the GAN, both players",
    setup="import numpy as np\nimport tensorflow as tf\n\nfrom musegen_lessons.families import gan",
    references=("musegen_lessons.families.gan.GAN", "musegen_lessons.course.checks.lesson11.gan_step"),
)
def check_gan_step(fn):
    generator, discriminator, real, noise = step_models()
    g_before, d_before = generator.get_weights(), discriminator.get_weights()
    expected = gan_step(copy_model(generator), copy_model(discriminator), real, noise, STEP_RATE)
    got = call(fn, generator, discriminator, real, noise, STEP_RATE)
    if not isinstance(got, tuple) or len(got) != 4:
        raise CheckFailed("Return four things: (discriminator's loss, generator's loss, generator, discriminator).")
    d_loss, g_loss, new_generator, new_discriminator = got
    expect_number(
        "discriminator's loss",
        d_loss,
        expected[0],
        "L_D = mean softplus(−D(x)) + mean softplus(D(G(z))): real fragments labelled 1, generated ones 0.",
    )
    expect_step(
        "discriminator",
        d_before,
        new_discriminator,
        expected[2],
        STEP_RATE,
        "Its step goes down the gradient of L_D with respect to its own weights, once (the generator's fragments "
        "are only an input to it here), and the generator's step must leave it alone.",
    )
    expect_number(
        "generator's loss",
        g_loss,
        expected[1],
        "The non-saturating L_G = mean softplus(−D(G(z))), with the discriminator as it is after its own step.",
    )
    expect_step(
        "generator",
        g_before,
        new_generator,
        expected[3],
        STEP_RATE,
        "Its step goes down the gradient of L_G with respect to the generator's weights, through the discriminator "
        "as updated, and leaves the discriminator alone.",
    )
    return (
        f"L_D = {expected[0]:.4f} and L_G = {expected[1]:.4f} on the check's batch, and each player stepped down the "
        "gradient of its own loss only, the discriminator first."
    )
