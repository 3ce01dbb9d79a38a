"""Generative adversarial networks for two-bar melody fragments: the game, its losses, a generator and a critic,
and the measures of collapse and copying that a GAN's samples must be read with.

A **generator** G turns random noise z into a fragment; a **discriminator** D (a *critic* in the Wasserstein
form) scores how real a fragment looks. They are trained against each other (Goodfellow et al. 2014):

- the discriminator minimises −E log σ(D(x)) − E log(1 − σ(D(G(z)))) (`discriminator_loss`), with D's outputs
  as logits;
- the generator minimises the *non-saturating* loss −E log σ(D(G(z))) rather than the minimax game's own
  E log(1 − σ(D(G(z)))), whose gradient vanishes while D rejects every fake (`generator_loss`, lesson 11 measures
  both);
- WGAN-GP (Gulrajani et al. 2017), the stabiliser of the lesson: a critic with unbounded scores, the losses
  E D(G(z)) − E D(x) and −E D(G(z)), and a penalty λ E (‖∇D(x̂)‖₂ − 1)² at points x̂ between real and fake
  fragments (`gradient_penalty`).

**Tokens are discrete**, so no gradient passes through choosing one. The generator here writes a softmax over the
vocabulary at every step, the discriminator reads those probabilities (real fragments are one-hot), and a sample
becomes tokens afterwards by taking the most likely token at each step (`decode_fragments`): the continuous
output binarised afterwards of MidiNet and MuseGAN, in token form, and the way Gulrajani et al. trained their
language GAN (section 5.5).

**Collapse and copying**: `count_distinct`, `nearest_fragments` (Hamming distance to the closest training
fragment), `copy_rate` and lesson 07's longest shared run (`copying.longest_shared_runs`).

Lesson: 11_gan
"""

from pathlib import Path

import numpy as np

from musegen_lessons.corpora.fragments import BAR_STEPS, FRAGMENT_BARS
from musegen_lessons.errors import ChoiceError, MelodyError, ModelFileError
from musegen_lessons.families.saving import read_keras_model
from musegen_lessons.families.training import running_mean, train_in_steps
from musegen_lessons.layers.backend import formula_inputs, formula_result
from musegen_lessons.lesson import DATA_DIR
from musegen_lessons.music.encoding import Vocabulary

NOISE_DIM = 64
LOSSES = ("gan", "wgan-gp")
# Each loss with the optimiser settings of the paper that introduced it for such networks: DCGAN's Adam (Radford et
# al. 2016) for the plain GAN; Gulrajani et al.'s Algorithm 1 for WGAN-GP (5 critic steps a generator step, λ = 10).
OPTIMISERS = {
    "gan": {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999},
    "wgan-gp": {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9},
}
CRITIC_STEPS = {"gan": 1, "wgan-gp": 5}
PENALTY_WEIGHT = 10.0
# The full budgets of `benchmarks/gan.py`, in generator steps; a WGAN-GP step costs about four plain ones (five critic
# steps, each differentiated twice for the penalty).
TRAINING_STEPS = {"gan": 3000, "wgan-gp": 3000}
# The generators that budget made (seed 0), kept so that lesson 11 can play what the full training reached.
KEPT_GENERATORS = DATA_DIR / "models" / "gan"


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss, −mean ln σ(D(x)) − mean ln(1 − σ(D(G(z)))), from its logits.

    Lesson: 11_gan

    With −ln σ(a) = softplus(−a) and −ln(1 − σ(a)) = softplus(a), it is the binary cross-entropy of 'real' (1) on
    real fragments and 'fake' (0) on generated ones, and stays finite for any logits. Written once, in `keras.ops`:
    the training step calls it on its tensors; numpy arrays give a number back.
    """
    ops, (real, fake), given_numpy = formula_inputs(real_logits, fake_logits)
    return formula_result(ops, ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(fake)), given_numpy)


def generator_loss(fake_logits, saturating=False):
    """The generator's loss from the discriminator's logits on generated fragments.

    Lesson: 11_gan

    Non-saturating (the default, Goodfellow et al. 2014, section 3): −mean ln σ(D(G(z))) = mean softplus(−D(G(z))).
    Saturating (`saturating=True`, the minimax game's own): mean ln(1 − σ(D(G(z)))) = −mean softplus(D(G(z))).
    Written once, in `keras.ops`, for the training step and for numpy arrays alike.
    """
    ops, (fake,), given_numpy = formula_inputs(fake_logits)
    loss = -ops.mean(ops.softplus(fake)) if saturating else ops.mean(ops.softplus(-fake))
    return formula_result(ops, loss, given_numpy)


def critic_loss(real_scores, fake_scores):
    """WGAN's critic loss, E D(G(z)) − E D(x) (without the gradient penalty): the critic learns to score real
    fragments high and generated ones low, its scores unbounded.

    Lesson: 11_gan
    """
    ops, (real, fake), given_numpy = formula_inputs(real_scores, fake_scores)
    return formula_result(ops, ops.mean(fake) - ops.mean(real), given_numpy)


def critic_generator_loss(fake_scores):
    """WGAN's generator loss, −E D(G(z)): the generator learns to raise the critic's scores of its fragments.

    Lesson: 11_gan
    """
    ops, (fake,), given_numpy = formula_inputs(fake_scores)
    return formula_result(ops, -ops.mean(fake), given_numpy)


# Each loss by name: (the discriminator's or critic's loss, the generator's loss), as the training step takes them.
LOSS_FUNCTIONS = {"gan": (discriminator_loss, generator_loss), "wgan-gp": (critic_loss, critic_generator_loss)}


def optimal_discriminator(p_data, p_generator):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), the best discriminator for a fixed generator; 1/2 where both are 0.

    Lesson: 11_gan
    """
    p_data, p_generator = np.asarray(p_data, float), np.asarray(p_generator, float)
    total = p_data + p_generator
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def game_value(discriminator, p_data, p_generator):
    """V(D, G) = E_data ln D(x) + E_G ln(1 − D(x)) over a discrete space, with D given as probabilities.

    Lesson: 11_gan

    At the optimal discriminator it equals −ln 4 + 2 JSD(p_data ‖ p_g) (`jensen_shannon`).
    """
    d = np.clip(np.asarray(discriminator, float), 1e-300, 1 - 1e-16)
    return float(np.sum(p_data * np.log(d)) + np.sum(p_generator * np.log1p(-d)))


def jensen_shannon(p, q):
    """The Jensen–Shannon divergence of two discrete distributions, in nats (0 for equal ones, at most ln 2).

    Lesson: 11_gan
    """
    p, q = np.asarray(p, float), np.asarray(q, float)
    m = (p + q) / 2

    def kl(a, b):
        inside = a > 0
        return float(np.sum(a[inside] * np.log(a[inside] / b[inside])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def interpolate(real, fake, epsilon):
    """x̂ = ε x + (1 − ε) x̃, one ε per fragment (shape (batch,)): the points where WGAN-GP's penalty is taken.

    Lesson: 11_gan
    """
    ops, (real, fake, epsilon), given_numpy = formula_inputs(real, fake, epsilon)
    epsilon = ops.reshape(epsilon, (-1,) + (1,) * (len(real.shape) - 1))
    return formula_result(ops, epsilon * real + (1.0 - epsilon) * fake, given_numpy)


def penalty_from_gradients(gradients, smoothing=0.0):
    """mean over the batch of (‖g‖₂ − 1)², each g the gradient of the critic's score with respect to all of one
    fragment's inputs (every step and token together).

    Lesson: 11_gan

    The norm is √(Σ g² + `smoothing`): training (`gradient_penalty`) adds 10⁻¹², so that the norm's own gradient
    stays finite where g is 0, as it must be differentiated again.
    """
    ops, (gradients,), given_numpy = formula_inputs(gradients)
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=tuple(range(1, len(gradients.shape)))) + smoothing)
    return formula_result(ops, ops.mean(ops.square(norms - 1.0)), given_numpy)


def gradient_penalty(critic, real, fake, epsilon):
    """WGAN-GP's penalty E (‖∇ₓ̂ D(x̂)‖₂ − 1)² (without λ) at x̂ = ε x + (1 − ε) x̃, in TensorFlow, differentiable.

    Lesson: 11_gan

    The gradient of the critic's score with respect to its input comes from an inner `tf.GradientTape`; training
    differentiates the penalty again, with respect to the critic's weights.
    """
    import tensorflow as tf  # the gradient tape: here, so that the numpy formulas above load without TensorFlow

    between = interpolate(
        tf.convert_to_tensor(real, tf.float32), tf.convert_to_tensor(fake, tf.float32), tf.cast(epsilon, tf.float32)
    )
    with tf.GradientTape() as tape:
        tape.watch(between)
        scores = critic(between, training=True)
    return penalty_from_gradients(tape.gradient(scores, between), smoothing=1e-12)


def build_generator(vocab_size, steps=FRAGMENT_BARS * BAR_STEPS, noise_dim=NOISE_DIM, width=64):
    """The generator: noise (batch, noise_dim) to a softmax over the vocabulary at every step (batch, steps, vocab).

    Lesson: 11_gan

    DCGAN's shape in one dimension (Radford et al. 2016): a dense layer makes steps / 8 steps of `width` channels,
    and three rounds of doubling the steps (`UpSampling1D`) and a convolution across them, each with batch
    normalisation and ReLU, reach `steps`; a last 1 × 1 convolution gives each step's token logits.
    """
    import keras

    if steps % 8:
        raise ChoiceError(f"The generator doubles its steps three times: {steps} steps is not a multiple of 8.")
    noise = keras.Input((noise_dim,), name="noise")
    x = keras.layers.Dense(steps // 8 * width, name="project")(noise)
    x = keras.layers.Reshape((steps // 8, width))(x)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    for level in range(3):
        x = keras.layers.UpSampling1D(2, name=f"double_{level + 1}")(x)
        x = keras.layers.Conv1D(width, 5, padding="same", name=f"conv_{level + 1}")(x)
        x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    logits = keras.layers.Conv1D(vocab_size, 1, name="token_logits")(x)
    probabilities = keras.layers.Softmax(name="tokens")(logits)
    return keras.Model(noise, probabilities, name="generator")


def build_discriminator(vocab_size, steps=FRAGMENT_BARS * BAR_STEPS, width=64):
    """The discriminator (the critic, for WGAN-GP): a fragment (batch, steps, vocab) to one score, a logit.

    Lesson: 11_gan

    Three strided convolutions halve the steps each time, with leaky ReLU; no batch normalisation, since WGAN-GP's
    penalty is taken fragment by fragment, and batch normalisation would mix the fragments of a batch.
    """
    import keras

    fragment = keras.Input((steps, vocab_size), name="fragment")
    x = fragment
    for level, channels in enumerate((width, 2 * width, 2 * width)):
        x = keras.layers.Conv1D(channels, 5, strides=2, padding="same", name=f"conv_{level + 1}")(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    score = keras.layers.Dense(1, name="score")(keras.layers.Flatten()(x))
    return keras.Model(fragment, score, name="discriminator")


class GAN:
    """A generator and a discriminator (or critic) with their optimisers and one compiled training step.

    Lesson: 11_gan

    `loss` is 'gan' (the discriminator's cross-entropy and the non-saturating generator loss) or 'wgan-gp'.
    Batches of real fragments are drawn at random, with replacement, from `fragments` (one-hot, in memory: two
    bars of 35 tokens are small); the noise comes from a seeded `tf.random.Generator`, so that a run repeats.
    """

    def __init__(self, fragments, loss="gan", batch_size=64, seed=0, width=64):
        import keras
        import tensorflow as tf

        if loss not in LOSSES:
            raise ChoiceError(f"Unknown loss {loss!r}: choose one of {', '.join(LOSSES)}.")
        try:
            fragments = np.asarray(fragments, np.float32)
        except ValueError:  # tokens (HOLD, REST) where numbers belong
            fragments = np.asarray(fragments, object)
        if fragments.dtype != np.float32 or fragments.ndim != 3 or not len(fragments):
            raise MelodyError(
                f"A GAN trains on one-hot fragments shaped (fragments, steps, tokens), at least one; these are shaped "
                f"{fragments.shape}. Make them with fragments_to_one_hot(cut_fragments(pieces), vocabulary) "
                "(corpora.fragments)."
            )
        keras.utils.set_random_seed(seed)
        self.loss, self.batch_size = loss, batch_size
        self.fragments = tf.constant(fragments)
        steps, vocab_size = self.fragments.shape[1:]
        self.generator = build_generator(vocab_size, steps, width=width)
        self.discriminator = build_discriminator(vocab_size, steps, width=width)
        self.generator_optimizer = keras.optimizers.Adam(**OPTIMISERS[loss])
        self.discriminator_optimizer = keras.optimizers.Adam(**OPTIMISERS[loss])
        self.random = tf.random.Generator.from_seed(seed)
        self.steps_done = 0
        self._train_step = tf.function(self._step)
        self._train_discriminator_step = tf.function(self._discriminator_step)

    def noise(self, count):
        return self.random.normal((count, NOISE_DIM))

    def _real_batch(self):
        import tensorflow as tf

        rows = self.random.uniform((self.batch_size,), 0, self.fragments.shape[0], dtype=tf.int32)
        return tf.gather(self.fragments, rows)

    def discriminator_objective(self, real, fake, epsilon=None):
        """What a discriminator step minimises on a batch: LOSS_FUNCTIONS[loss][0] of its scores of real and fake
        fragments, and for WGAN-GP the gradient penalty at the points `epsilon` (one per fragment) between them."""
        real_scores = self.discriminator(real, training=True)
        fake_scores = self.discriminator(fake, training=True)
        loss = LOSS_FUNCTIONS[self.loss][0](real_scores, fake_scores)
        if self.loss == "wgan-gp":
            loss += PENALTY_WEIGHT * gradient_penalty(self.discriminator, real, fake, epsilon)
        return loss

    def generator_objective(self, noise):
        """What a generator step minimises: LOSS_FUNCTIONS[loss][1] of the discriminator's scores of the fragments the
        generator writes from `noise`."""
        scores = self.discriminator(self.generator(noise, training=True), training=True)
        return LOSS_FUNCTIONS[self.loss][1](scores)

    def _discriminator_step(self):
        import tensorflow as tf

        real = self._real_batch()
        fake = self.generator(self.noise(self.batch_size), training=True)
        epsilon = self.random.uniform((self.batch_size,)) if self.loss == "wgan-gp" else None
        with tf.GradientTape() as tape:
            loss = self.discriminator_objective(real, fake, epsilon)
        weights = self.discriminator.trainable_variables
        self.discriminator_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    def generator_step(self):
        """One update of the generator on a fresh batch of noise, the discriminator (or critic) held fixed; returns
        the generator's loss."""
        import tensorflow as tf

        noise = self.noise(self.batch_size)
        with tf.GradientTape() as tape:
            loss = self.generator_objective(noise)
        weights = self.generator.trainable_variables
        self.generator_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    def _step(self):
        import tensorflow as tf

        discriminator_loss = self._discriminator_step()
        # the further critic steps of WGAN-GP as one graph loop (autograph), not unrolled: it compiles in half the time
        for _ in tf.range(CRITIC_STEPS[self.loss] - 1):
            discriminator_loss = self._discriminator_step()
        return discriminator_loss, self.generator_step()

    def train_discriminator(self, steps):
        """Train the discriminator alone, `steps` times, against the generator as it is; return its last loss.

        Lesson 11 measures the generator's gradients once the discriminator has learned to reject its fragments.
        """
        loss = None
        for _ in range(steps):
            loss = float(self._train_discriminator_step())
        return loss

    def train(self, steps, snapshot_at=(), snapshot_noise=None, report_every=0):
        """Train for `steps` generator steps (each after CRITIC_STEPS[loss] discriminator steps).

        Returns a dict: 'discriminator_loss' and 'generator_loss' (one value per generator step), 'seconds',
        and 'snapshots' {generator step: probabilities for `snapshot_noise`} at every step of `snapshot_at`
        (counted from the first step this GAN ever took; 0 is before training).
        """
        snapshots = {}

        def snapshot():
            if self.steps_done in snapshot_at and snapshot_noise is not None:
                snapshots[self.steps_done] = self.sample_probabilities(noise=snapshot_noise)

        def step():
            snapshot()
            d_loss, g_loss = self._train_step()
            self.steps_done += 1
            return {"discriminator_loss": d_loss, "generator_loss": g_loss}

        def describe(history):
            d_loss, g_loss = running_mean(history["discriminator_loss"]), running_mean(history["generator_loss"])
            return f"discriminator loss {d_loss:.3f}, generator loss {g_loss:.3f}"

        history = {"discriminator_loss": [], "generator_loss": []}
        history.update(train_in_steps(step, steps, self.steps_done, report_every, describe))
        snapshot()  # after the last step
        history["snapshots"] = snapshots
        return history

    def sample_probabilities(self, count=None, noise=None, batch_size=500):
        """The generator's probabilities for `count` fragments of fresh noise, or for the noise given."""
        if noise is None:
            noise = self.noise(count)
        return np.concatenate(
            [
                np.asarray(self.generator(noise[i : i + batch_size], training=False))
                for i in range(0, len(noise), batch_size)
            ]
        )


def save_generator(generator, vocabulary, directory, loss):
    """Keep a trained generator as <loss>.keras beside the vocabulary it writes in; return the model's path.

    Lesson: 11_gan
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    generator.save(directory / f"{loss}.keras")
    vocabulary.save(directory / "vocabulary.json")
    return directory / f"{loss}.keras"


def load_generator(loss, directory=KEPT_GENERATORS):
    """A kept generator with Keras's safe mode, and its vocabulary: (generator, vocabulary).

    Lesson: 11_gan

    Raises:
        ModelFileError: the generator or its vocabulary is missing or damaged.
    """

    path = Path(directory) / f"{loss}.keras"
    if not path.is_file():
        raise ModelFileError(f"No kept generator at '{path}': `python benchmarks/gan.py` trains and keeps one.")
    generator = read_keras_model(path, "Train it again with `python benchmarks/gan.py`.")
    try:
        vocabulary = Vocabulary.load(Path(directory) / "vocabulary.json")
    except (OSError, ValueError) as error:
        raise ModelFileError(f"The vocabulary beside '{path}' cannot be read: {error}") from error
    if generator.output_shape[-1] != len(vocabulary):
        raise ModelFileError(f"The generator in '{path}' and the vocabulary beside it do not belong together.")
    return generator, vocabulary


def generator_gradient_norms(gan, count=256):
    """How strongly each generator loss would push the generator now: the norm of the gradient of the
    saturating and of the non-saturating loss with respect to all the generator's weights, on `count` fragments.

    Lesson: 11_gan
    """
    import tensorflow as tf

    noise = gan.noise(count)
    norms = {}
    for name, saturating in (("saturating", True), ("non-saturating", False)):
        with tf.GradientTape() as tape:
            scores = gan.discriminator(gan.generator(noise, training=False), training=False)
            loss = generator_loss(scores, saturating)
        gradients = tape.gradient(loss, gan.generator.trainable_variables)
        norms[name] = float(tf.linalg.global_norm(gradients))
    norms["mean D(G(z))"] = float(tf.reduce_mean(tf.sigmoid(scores)))
    return norms
