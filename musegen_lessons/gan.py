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
fragment), `copy_rate` and lesson 07's longest shared run (`metrics.longest_shared_runs`).

Lesson: 11_gan
"""

import time
from collections import Counter
from pathlib import Path

import numpy as np

from .encoding import HOLD, REST, Vocabulary
from .errors import ChoiceError, MelodyError, ModelFileError

FRAGMENT_BARS = 2
BAR_STEPS = 16  # fragments are cut from the chorales in 4/4 only, so that every fragment is two whole bars
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
KEPT_GENERATORS = Path(__file__).resolve().parents[1] / "data" / "models" / "gan"


def cut_fragments(pieces, bars=FRAGMENT_BARS):
    """Every stretch of `bars` whole bars of the 4/4 pieces, starting at each bar line, as token lists.

    Lesson: 11_gan

    A stretch that begins inside a tied note (a HOLD on its first step) is left out rather than changed, so that
    every fragment is exactly what the chorale has there; so is a stretch without a note.
    """
    steps = bars * BAR_STEPS
    fragments = []
    for piece in pieces:
        if piece.time_signature != "4/4":
            continue
        first_bar_line = (BAR_STEPS - piece.pickup_steps) % BAR_STEPS
        for start in range(first_bar_line, len(piece.tokens) - steps + 1, BAR_STEPS):
            fragment = list(piece.tokens[start : start + steps])
            if fragment[0] != HOLD and any(t not in (HOLD, REST) for t in fragment):
                fragments.append(fragment)
    if not fragments:
        raise MelodyError(f"No piece in 4/4 is {bars} bars long: there are no fragments to cut.")
    return fragments


def chorale_fragments():
    """The chorales' fragments as lessons 11 and 12 and their benchmarks use them, from the tune-disjoint split of
    every melody benchmark: (vocabulary, training fragments, held-out fragments, training melodies as token lists).

    Lesson: 11_gan (lesson 12 trains on the same)
    """
    from .corpus import load_melodies
    from .dataset import build_dataset

    dataset = build_dataset(load_melodies("chorales", quick=False).pieces)
    training, held_out = cut_fragments(dataset.pieces["train"]), cut_fragments(dataset.pieces["test"])
    return dataset.vocabulary, training, held_out, [piece.tokens for piece in dataset.pieces["train"]]


def fragments_to_one_hot(fragments, vocabulary):
    """Token fragments as a float32 array (fragments, steps, vocabulary size), one-hot at every step.

    Lesson: 11_gan
    """
    ids = np.array([vocabulary.encode(f) for f in fragments], dtype=np.int64)
    return np.eye(len(vocabulary), dtype=np.float32)[ids]


def decode_fragments(probabilities, vocabulary):
    """The generator's probabilities (fragments, steps, vocabulary size) made into token fragments.

    Lesson: 11_gan

    The most likely token at every step; a HOLD with no note sounding (at the start, or after a REST) becomes a
    REST, as in `encoding.excerpt`, so that every fragment is a valid melody.
    """
    fragments = []
    for ids in np.asarray(probabilities).argmax(axis=-1):
        tokens, sounding = [], False
        for token in vocabulary.decode(ids):
            if token == HOLD and not sounding:
                token = REST
            sounding = token != REST
            tokens.append(token)
        fragments.append(tokens)
    return fragments


def softplus(x):
    """ln(1 + eˣ), computed without overflow for large |x|: −ln σ(−x) = softplus(x).

    Lesson: 11_gan
    """
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64))


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss, −mean ln σ(D(x)) − mean ln(1 − σ(D(G(z)))), from its logits.

    Lesson: 11_gan

    With −ln σ(a) = softplus(−a) and −ln(1 − σ(a)) = softplus(a), it is the binary cross-entropy of 'real' (1) on
    real fragments and 'fake' (0) on generated ones, and stays finite for any logits.
    """
    return float(softplus(-np.asarray(real_logits)).mean() + softplus(fake_logits).mean())


def generator_loss(fake_logits, saturating=False):
    """The generator's loss from the discriminator's logits on generated fragments.

    Lesson: 11_gan

    Non-saturating (the default, Goodfellow et al. 2014, section 3): −mean ln σ(D(G(z))) = mean softplus(−D(G(z))).
    Saturating (`saturating=True`, the minimax game's own): mean ln(1 − σ(D(G(z)))) = −mean softplus(D(G(z))).
    """
    fake_logits = np.asarray(fake_logits)
    return float(-softplus(fake_logits).mean() if saturating else softplus(-fake_logits).mean())


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
    epsilon = np.reshape(epsilon, (-1,) + (1,) * (np.ndim(real) - 1))
    return epsilon * real + (1 - epsilon) * fake


def penalty_from_gradients(gradients):
    """mean over the batch of (‖g‖₂ − 1)², each g the gradient of the critic's score with respect to all of one
    fragment's inputs (every step and token together).

    Lesson: 11_gan
    """
    gradients = np.asarray(gradients, dtype=np.float64)
    norms = np.sqrt((gradients.reshape(len(gradients), -1) ** 2).sum(axis=1))
    return float(np.mean((norms - 1.0) ** 2))


def gradient_penalty(critic, real, fake, epsilon):
    """WGAN-GP's penalty E (‖∇ₓ̂ D(x̂)‖₂ − 1)² (without λ) at x̂ = ε x + (1 − ε) x̃, in TensorFlow, differentiable.

    Lesson: 11_gan

    The gradient of the critic's score with respect to its input comes from an inner `tf.GradientTape`; training
    differentiates the penalty again, with respect to the critic's weights.
    """
    import tensorflow as tf

    real = tf.convert_to_tensor(real, tf.float32)
    fake = tf.convert_to_tensor(fake, tf.float32)
    epsilon = tf.reshape(tf.cast(epsilon, tf.float32), [-1, 1, 1])
    between = epsilon * real + (1.0 - epsilon) * fake
    with tf.GradientTape() as tape:
        tape.watch(between)
        scores = critic(between, training=True)
    gradients = tape.gradient(scores, between)
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1, 2]) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


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
                f"{fragments.shape}. Make them with gan.fragments_to_one_hot(gan.cut_fragments(pieces), vocabulary)."
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

    def _discriminator_step(self):
        import tensorflow as tf

        real = self._real_batch()
        fake = self.generator(self.noise(self.batch_size), training=True)
        with tf.GradientTape() as tape:
            real_scores = self.discriminator(real, training=True)
            fake_scores = self.discriminator(fake, training=True)
            if self.loss == "gan":
                loss = tf.reduce_mean(tf.nn.softplus(-real_scores)) + tf.reduce_mean(tf.nn.softplus(fake_scores))
            else:
                epsilon = self.random.uniform((self.batch_size,))
                penalty = gradient_penalty(self.discriminator, real, fake, epsilon)
                loss = tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores) + PENALTY_WEIGHT * penalty
        weights = self.discriminator.trainable_variables
        self.discriminator_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    def _step(self):
        import tensorflow as tf

        discriminator_loss = self._discriminator_step()
        # the further critic steps of WGAN-GP as one graph loop (autograph), not unrolled: it compiles in half the time
        for _ in tf.range(CRITIC_STEPS[self.loss] - 1):
            discriminator_loss = self._discriminator_step()
        with tf.GradientTape() as tape:
            scores = self.discriminator(self.generator(self.noise(self.batch_size), training=True), training=True)
            if self.loss == "gan":
                loss = tf.reduce_mean(tf.nn.softplus(-scores))
            else:
                loss = -tf.reduce_mean(scores)
        weights = self.generator.trainable_variables
        self.generator_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return discriminator_loss, loss

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
        history = {"discriminator_loss": [], "generator_loss": [], "snapshots": {}}
        started = time.perf_counter()
        for _ in range(steps + 1):
            if self.steps_done in snapshot_at and snapshot_noise is not None:
                history["snapshots"][self.steps_done] = self.sample_probabilities(noise=snapshot_noise)
            if len(history["generator_loss"]) == steps:
                break
            d_loss, g_loss = self._train_step()
            history["discriminator_loss"].append(float(d_loss))
            history["generator_loss"].append(float(g_loss))
            self.steps_done += 1
            if report_every and self.steps_done % report_every == 0:
                print(
                    f"step {self.steps_done:>5}: discriminator loss {np.mean(history['discriminator_loss'][-50:]):.3f}"
                    f", generator loss {np.mean(history['generator_loss'][-50:]):.3f}"
                )
        history["seconds"] = time.perf_counter() - started
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
    from .models import read_keras_model

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
            loss = -tf.reduce_mean(tf.nn.softplus(scores)) if saturating else tf.reduce_mean(tf.nn.softplus(-scores))
        gradients = tape.gradient(loss, gan.generator.trainable_variables)
        norms[name] = float(tf.linalg.global_norm(gradients))
    norms["mean D(G(z))"] = float(tf.reduce_mean(tf.sigmoid(scores)))
    return norms


def count_distinct(fragments):
    """How many different fragments there are among `fragments` (token lists or arrays of token numbers).

    Lesson: 11_gan
    """
    return len({tuple(f) for f in _as_rows(fragments)})


def most_common_share(fragments):
    """The share of the fragments taken by the single most frequent one: near 1 when a generator has collapsed.

    Lesson: 11_gan
    """
    rows = [tuple(f) for f in _as_rows(fragments)]
    return Counter(rows).most_common(1)[0][1] / len(rows)


def nearest_fragments(samples, training, chunk=256):
    """For every sample, its nearest training fragment by Hamming distance (the number of steps that differ).

    Lesson: 11_gan

    Args:
        samples, training: fragments of one length, as token lists (encoded alike) or arrays of token numbers.

    Returns:
        (distances, indices): int arrays, one entry per sample; a distance of 0 is an exact copy.
    """
    samples, training = _encoded(samples), _encoded(training)
    if samples.shape[1:] != training.shape[1:]:
        raise MelodyError(
            f"Samples of {samples.shape[1]} steps cannot be compared with fragments of {training.shape[1]} steps."
        )
    distances, indices = [], []
    for start in range(0, len(samples), chunk):
        differ = (samples[start : start + chunk, None, :] != training[None, :, :]).sum(axis=2)
        indices.append(differ.argmin(axis=1))
        distances.append(differ.min(axis=1))
    return np.concatenate(distances), np.concatenate(indices)


def copy_rate(samples, training):
    """The share of samples that are exactly some training fragment.

    Lesson: 11_gan
    """
    distances, _ = nearest_fragments(samples, training)
    return float(np.mean(distances == 0))


def measure_samples(samples, training, training_melodies, held_out=None, seconds=None):
    """Every figure of lesson 11's table for one set of fragments (token lists), as a dict.

    Lesson: 11_gan

    - collapse: 'distinct' fragments (of 'count') and the 'most_common_share';
    - copying: the 'mean_nearest_distance' (steps that differ from the nearest training fragment), the 'copy_rate'
      (the share identical to a training fragment), and lesson 07's measure, the longest run shared with any
      training melody: its mean ('mean_longest_run') and the share of samples found whole in a training melody
      ('verbatim_rate', a copy wherever it falls, not only at a bar line);
    - closeness: lesson 07's mean overlapping area and KL divergence against the `held_out` fragments, over
      `metrics.FEATURES` ('mean_overlap', 'mean_kl'), of the fragments that hold a note; 'silent_share' is the
      share that holds none. Without `held_out` (the held-out fragments themselves, which it would compare with
      themselves) both are None.
    """
    from .metrics import compare_sets, longest_shared_runs

    distances, _ = nearest_fragments(samples, training)
    runs = np.array([length for length, _, _ in longest_shared_runs(samples, training_melodies)])
    steps = len(samples[0])
    # a fragment of rests has no pitch features: it is counted ('silent_share'), and left out of the closeness
    sounding = [s for s in samples if any(t not in (HOLD, REST) for t in s)]
    figures = {
        "count": len(samples),
        "distinct": count_distinct(samples),
        "most_common_share": round(most_common_share(samples), 4),
        "mean_nearest_distance": round(float(distances.mean()), 3),
        "copy_rate": round(float(np.mean(distances == 0)), 4),
        "mean_longest_run": round(float(runs.mean()), 2),
        "verbatim_rate": round(float(np.mean(runs == steps)), 4),
        "silent_share": round(1 - len(sounding) / len(samples), 4),
        "mean_overlap": None,
        "mean_kl": None,
    }
    if held_out is not None and sounding:
        closeness = compare_sets(sounding, held_out)
        figures["mean_overlap"] = round(float(np.mean([r["overlap"] for r in closeness.values()])), 4)
        figures["mean_kl"] = round(float(np.mean([r["kl"] for r in closeness.values()])), 4)
    if seconds is not None:
        figures["train_seconds"] = round(seconds, 1)
    return figures


def fragments_from_melody_model(step_generator, vocabulary, training, count=1000, temperature=1.0, seed=0):
    """Fragments as long as the training fragments, written by a next-token model (lesson 05's LSTM) step by step.

    Lesson: 11_gan

    Each starts on a downbeat from the first token of a training fragment drawn at random (the data's own first
    notes, so that the model is not asked to begin a phrase from nothing), and the model writes the rest.
    """
    from .generate import generate

    rng = np.random.default_rng(seed)
    steps = len(training[0])
    firsts = [training[i][0] for i in rng.integers(0, len(training), count)]
    return [
        generate(step_generator, vocabulary, [first], steps - 1, temperature=temperature, seed=seed + i)
        for i, first in enumerate(firsts)
    ]


def _as_rows(fragments):
    rows = [tuple(np.asarray(f).tolist()) if isinstance(f, np.ndarray) else tuple(f) for f in fragments]
    if not rows:
        raise MelodyError("There are no fragments to count.")
    return rows


def _encoded(fragments):
    """Fragments as one int array (fragments, steps): token numbers as they are, tokens mapped to numbers (REST −1,
    HOLD −2, a pitch its MIDI number), so that two sets compare alike whether or not a vocabulary encoded them."""
    rows = _as_rows(fragments)
    if len({len(r) for r in rows}) != 1:
        raise MelodyError("Fragments of different lengths cannot be compared step by step.")
    mapping = {REST: -1, HOLD: -2}
    return np.array([[mapping.get(t, t) for t in r] for r in rows], dtype=np.int64)
