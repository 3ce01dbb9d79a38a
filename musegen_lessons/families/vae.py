"""Variational autoencoders for two-bar melody fragments: the ELBO, the reparameterisation trick, the Gaussian KL,
posterior collapse and what prevents it, and walking between melodies in latent space.

An **encoder** q(z | x) reads a fragment and gives the mean μ and log-variance ln σ² of a Gaussian over a latent
code z; a **decoder** p(x | z) writes the fragment back from a code, token by token. Training maximises the
**evidence lower bound** (Kingma and Welling 2014):

    ELBO = E_q[ln p(x | z)] − KL(q(z | x) ‖ N(0, I))  ≤  ln p(x)

- the reconstruction term is the decoder's log-likelihood of the fragment, estimated with one code drawn by the
  **reparameterisation trick**, z = μ + σ ⊙ ε with ε ~ N(0, I), so that the gradient reaches μ and σ
  (`reparameterise`);
- the KL term has a closed form for two Gaussians (`gaussian_kl`);
- a decoder that can predict each token from the tokens before it can ignore z altogether: the KL falls to 0 and the
  code says nothing, **posterior collapse** (Bowman et al. 2016). *KL annealing* (β rising from 0 to 1, Bowman et
  al.) and *free bits* (no pressure on a dimension below λ nats, Kingma et al. 2016) are the two remedies trained
  here (`kl_weight`, `free_bits_kl`).

Walking the map: `slerp`, spherical interpolation between two codes (MusicVAE, Roberts et al. 2018), and
`lerp_notes`, interpolation in note space, for comparison.

Lesson: 12_vae
"""

from pathlib import Path

import numpy as np

from musegen_lessons.errors import ChoiceError, ModelFileError, ShapeError
from musegen_lessons.families.saving import read_keras_model
from musegen_lessons.families.training import running_mean, train_in_steps
from musegen_lessons.layers.backend import formula_inputs, formula_result
from musegen_lessons.lesson import DATA_DIR
from musegen_lessons.music.encoding import Vocabulary, rest_orphan_holds

LATENT_DIM = 16
FREE_NATS = 1.0  # per latent dimension: below 1 nat a dimension costs nothing, so the code is worth using
# The kept VAE (free bits), made by `benchmarks/vae.py`, so that lesson 12 can walk a well-trained map.
# The full budget of `benchmarks/vae.py`, in training steps of 64 fragments.
TRAINING_STEPS = 3000
KEPT_VAE = DATA_DIR / "models" / "vae"


def gaussian_kl_per_dimension(mean, log_variance):
    """KL(N(μ, σ²) ‖ N(0, 1)) of each latent dimension on its own: ½ (μ² + σ² − 1 − ln σ²), in nats.

    Lesson: 12_vae

    Written once, in `keras.ops`: the training step calls it on its tensors; numpy arrays give numpy back.

    Raises:
        ShapeError: the mean and the log-variance are shaped differently.
    """
    ops, (mean, log_variance), given_numpy = formula_inputs(mean, log_variance)
    if tuple(mean.shape) != tuple(log_variance.shape):
        raise ShapeError(f"The mean {mean.shape} and the log-variance {log_variance.shape} must have one shape.")
    kl = 0.5 * (ops.square(mean) + ops.exp(log_variance) - 1.0 - log_variance)
    return formula_result(ops, kl, given_numpy)


def gaussian_kl(mean, log_variance, axis=-1):
    """KL(N(μ, σ²) ‖ N(0, 1)) summed over the latent dimensions: ½ Σ (μ² + σ² − 1 − ln σ²), in nats.

    Lesson: 12_vae

    Args:
        mean, log_variance: arrays (or a training step's tensors) of the same shape; the last axis (or `axis`) holds
            the latent dimensions.
    """
    ops, (mean, log_variance), given_numpy = formula_inputs(mean, log_variance)
    return formula_result(ops, ops.sum(gaussian_kl_per_dimension(mean, log_variance), axis=axis), given_numpy)


def reparameterise(mean, log_variance, noise):
    """z = μ + σ ⊙ ε, with σ = exp(½ ln σ²): a code drawn from q(z | x) as a function of μ and σ.

    Lesson: 12_vae

    Written once, in `keras.ops`, for the training step and for numpy arrays alike.
    """
    ops, (mean, log_variance, noise), given_numpy = formula_inputs(mean, log_variance, noise)
    return formula_result(ops, mean + ops.exp(0.5 * log_variance) * noise, given_numpy)


def kl_weight(step, warmup_steps):
    """KL annealing: the weight β of the KL term after `step` training steps, rising linearly from 0 to 1 over
    `warmup_steps` (1 from the start when `warmup_steps` is 0).

    Lesson: 12_vae
    """
    if warmup_steps < 0:
        raise ChoiceError(f"The warm-up lasts 0 steps or more, not {warmup_steps}.")
    return 1.0 if warmup_steps == 0 else float(min(1.0, step / warmup_steps))


def free_bits_kl(kl_per_dimension, free_nats):
    """The KL term with free bits: each latent dimension's KL (averaged over the batch) counts only above
    `free_nats`, so that the optimiser gains nothing by pushing a dimension's KL below it.

    Lesson: 12_vae

    Args:
        kl_per_dimension: (batch, latent) KL of each dimension of each fragment's code (`gaussian_kl_per_dimension`).
    """
    ops, (kl,), given_numpy = formula_inputs(kl_per_dimension)
    return formula_result(ops, ops.sum(ops.maximum(ops.mean(kl, axis=0), free_nats)), given_numpy)


def slerp(z0, z1, t):
    """Spherical interpolation from code z0 (t = 0) to z1 (t = 1) along the great circle between them.

    Lesson: 12_vae

    sin((1 − t) Ω) / sin Ω · z0 + sin(t Ω) / sin Ω · z1, with Ω the angle between the two; straight-line interpolation
    where they are (nearly) parallel. Codes drawn from N(0, I) lie near a sphere, and a straight line between two of
    them passes through the sparsely visited inside; the great circle stays where codes are.
    """
    z0, z1 = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    if z0.shape != z1.shape:
        raise ShapeError(f"Codes of shapes {z0.shape} and {z1.shape} cannot be interpolated.")
    cosine = np.dot(z0, z1) / max(np.linalg.norm(z0) * np.linalg.norm(z1), 1e-12)
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def build_encoder(vocab_size, steps=32, latent_dim=LATENT_DIM, embedding_dim=32, units=64):
    """q(z | x): a fragment's token numbers (batch, steps) to the mean and log-variance of its code, each
    (batch, latent_dim).

    Lesson: 12_vae

    A bidirectional LSTM, as MusicVAE's encoder (Roberts et al. 2018), reads the fragment both ways; its two last
    states, side by side, make μ and ln σ² through a dense layer each.
    """
    import keras

    tokens = keras.Input((steps,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="token_embedding")(tokens)
    summary = keras.layers.Bidirectional(keras.layers.LSTM(units), name="both_ways")(x)
    mean = keras.layers.Dense(latent_dim, name="mean")(summary)
    log_variance = keras.layers.Dense(latent_dim, name="log_variance")(summary)
    return keras.Model(tokens, [mean, log_variance], name="encoder")


def build_decoder(vocab_size, steps=32, latent_dim=LATENT_DIM, embedding_dim=32, units=128):
    """p(x | z): a code (batch, latent_dim) and the fragment's tokens so far, shifted right behind a start token
    (batch, steps), to the distribution of each next token (batch, steps, vocab_size).

    Lesson: 12_vae

    The code sets the LSTM's first state and is fed again beside every token, so that the decoder cannot forget it;
    token number `vocab_size` is the start token, which no fragment holds.
    """
    import keras

    code = keras.Input((latent_dim,), name="code")
    previous = keras.Input((steps,), dtype="int32", name="previous_tokens")
    x = keras.layers.Embedding(vocab_size + 1, embedding_dim, name="token_embedding")(previous)
    x = keras.layers.Concatenate(name="token_and_code")([x, keras.layers.RepeatVector(steps)(code)])
    h = keras.layers.Dense(units, activation="tanh", name="first_h")(code)
    c = keras.layers.Dense(units, activation="tanh", name="first_c")(code)
    x = keras.layers.LSTM(units, return_sequences=True, name="lstm")(x, initial_state=[h, c])
    probabilities = keras.layers.Dense(vocab_size, activation="softmax", name="next_token")(x)
    return keras.Model([code, previous], probabilities, name="decoder")


KL_MODES = ("plain", "annealed", "free-bits")


class VAE:
    """An encoder and a decoder with their optimiser and one compiled training step on the negative ELBO.

    Lesson: 12_vae

    `kl` says how the KL term counts: 'plain' (β = 1 throughout: the ELBO itself), 'annealed' (β rising from 0 to 1
    over `warmup_steps`, Bowman et al. 2016) or 'free-bits' (each dimension's batch-mean KL counts only above
    `free_nats`, Kingma et al. 2016). Batches are drawn at random, with replacement, from `ids`, the training
    fragments as token numbers (fragments, steps).
    """

    def __init__(
        self,
        ids,
        vocab_size,
        kl="annealed",
        warmup_steps=1000,
        free_nats=FREE_NATS,
        latent_dim=LATENT_DIM,
        batch_size=64,
        learning_rate=1e-3,
        seed=0,
    ):
        import keras
        import tensorflow as tf

        if kl not in KL_MODES:
            raise ChoiceError(f"Unknown KL term {kl!r}: choose one of {', '.join(KL_MODES)}.")
        ids = np.asarray(ids)
        if ids.ndim != 2 or not len(ids) or not np.issubdtype(ids.dtype, np.integer):
            raise ShapeError(
                f"A VAE trains on token numbers shaped (fragments, steps), at least one; these are shaped {ids.shape} "
                f"of {ids.dtype}. Encode the fragments with the vocabulary first."
            )
        keras.utils.set_random_seed(seed)
        self.kl, self.warmup_steps, self.free_nats = kl, warmup_steps, free_nats
        self.vocab_size, self.batch_size, self.latent_dim = vocab_size, batch_size, latent_dim
        self.ids = tf.constant(ids, tf.int32)
        steps = ids.shape[1]
        self.encoder = build_encoder(vocab_size, steps, latent_dim)
        self.decoder = build_decoder(vocab_size, steps, latent_dim)
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.random = tf.random.Generator.from_seed(seed)
        self.steps_done = 0
        self._train_step = tf.function(self._step)

    def objective(self, ids, noise, beta):
        """What a training step minimises on a batch of fragments (token numbers, (batch, steps)), with the codes
        drawn by `noise`, (batch, latent): (the negative ELBO as this VAE weighs its KL term, the reconstruction NLL
        and the KL of a fragment, each the mean over the batch, in nats)."""
        import tensorflow as tf

        previous = tf.concat([tf.fill([tf.shape(ids)[0], 1], self.vocab_size), ids[:, :-1]], axis=1)
        mean, log_variance = self.encoder(ids, training=True)
        code = reparameterise(mean, log_variance, noise)
        probabilities = self.decoder([code, previous], training=True)
        nll = tf.keras.losses.sparse_categorical_crossentropy(ids, probabilities)
        reconstruction = tf.reduce_mean(tf.reduce_sum(nll, axis=1))
        kl_per_dimension = gaussian_kl_per_dimension(mean, log_variance)
        kl = tf.reduce_mean(tf.reduce_sum(kl_per_dimension, axis=1))
        penalty = free_bits_kl(kl_per_dimension, self.free_nats) if self.kl == "free-bits" else beta * kl
        return reconstruction + penalty, reconstruction, kl

    def _step(self, beta):
        import tensorflow as tf

        rows = self.random.uniform((self.batch_size,), 0, self.ids.shape[0], dtype=tf.int32)
        ids = tf.gather(self.ids, rows)
        noise = self.random.normal((self.batch_size, self.latent_dim))
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.objective(ids, noise, beta)
        weights = self.encoder.trainable_variables + self.decoder.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return reconstruction, kl

    def train(self, steps, report_every=0):
        """Train for `steps` batches; return {'reconstruction', 'kl', 'beta'} (one value per step: the reconstruction
        NLL and the KL of a fragment, in nats, and the KL's weight) and 'seconds'."""

        def step():
            beta = kl_weight(self.steps_done, self.warmup_steps if self.kl == "annealed" else 0)
            reconstruction, kl = self._train_step(np.float32(beta))
            self.steps_done += 1
            return {"reconstruction": reconstruction, "kl": kl, "beta": beta}

        def describe(history):
            reconstruction, kl = running_mean(history["reconstruction"]), running_mean(history["kl"])
            return f"reconstruction {reconstruction:.2f} nats, KL {kl:.2f} nats (β {history['beta'][-1]:.2f})"

        history = {"reconstruction": [], "kl": [], "beta": []}
        history.update(train_in_steps(step, steps, self.steps_done, report_every, describe))
        return history

    def encode(self, ids):
        """The codes' means and log-variances of fragments given as token numbers: two (fragments, latent) arrays."""
        return encode_fragments(self.encoder, ids)

    def decode(self, codes):
        """Greedy decoding of codes into token numbers (codes, steps): `decode_codes` with this VAE's decoder."""
        return decode_codes(self.decoder, codes)

    def reconstruction_accuracy(self, ids):
        """The share of steps that greedy decoding of each fragment's mean code gets right."""
        return reconstruction_accuracy(self.encoder, self.decoder, ids)


def decode_to_tokens(decoder, codes, vocabulary):
    """Greedy decoding of codes into token fragments, each a valid melody (`encoding.rest_orphan_holds`: a decoder
    may write a HOLD after a REST, which holds nothing).

    Lesson: 12_vae
    """
    return [rest_orphan_holds(vocabulary.decode(ids)) for ids in decode_codes(decoder, codes)]


def encode_fragments(encoder, ids):
    """The means and log-variances of the codes of fragments given as token numbers: two (fragments, latent) arrays.

    Lesson: 12_vae
    """
    mean, log_variance = encoder(np.asarray(ids, np.int32), training=False)
    return np.asarray(mean), np.asarray(log_variance)


def decode_codes(decoder, codes):
    """Greedy decoding: for each code, the most likely token at each step given the tokens chosen before it.

    Lesson: 12_vae

    Returns token numbers (codes, steps). The decoder runs once per step over the whole prefix (32 small runs for
    two bars), its start token, number `vocab_size`, in front.
    """
    codes = np.asarray(codes, np.float32)
    steps, vocab_size = decoder.output_shape[1], decoder.output_shape[2]
    previous = np.full((len(codes), steps), vocab_size, np.int32)
    ids = np.zeros((len(codes), steps), np.int32)
    for step in range(steps):
        probabilities = np.asarray(decoder([codes, previous], training=False))
        ids[:, step] = probabilities[:, step].argmax(axis=-1)
        if step + 1 < steps:
            previous[:, step + 1] = ids[:, step]
    return ids


def reconstruction_accuracy(encoder, decoder, ids):
    """The share of steps that greedy decoding of each fragment's mean code gets right.

    Lesson: 12_vae
    """
    ids = np.asarray(ids)
    mean, _ = encode_fragments(encoder, ids)
    return float(np.mean(decode_codes(decoder, mean) == ids))


def active_dimensions(means, threshold=0.01):
    """How many latent dimensions the codes use: those whose mean code varies across fragments by more than
    `threshold` (the activity of Burda et al. 2016, the variance over fragments of E_q[z_d]); a collapsed dimension
    gives every fragment the same mean.

    Lesson: 12_vae
    """
    return int(np.sum(np.var(np.asarray(means), axis=0) > threshold))


def save_vae(model, vocabulary, directory):
    """Keep a trained VAE as encoder.keras and decoder.keras beside its vocabulary; return the folder.

    Lesson: 12_vae
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.encoder.save(directory / "encoder.keras")
    model.decoder.save(directory / "decoder.keras")
    vocabulary.save(directory / "vocabulary.json")
    return directory


def load_vae(directory=None):
    """A kept VAE with Keras's safe mode: (encoder, decoder, vocabulary).

    Lesson: 12_vae

    Raises:
        ModelFileError: a file is missing or damaged.
    """

    directory = Path(directory or KEPT_VAE)
    parts = []
    for name in ("encoder", "decoder"):
        path = directory / f"{name}.keras"
        if not path.is_file():
            raise ModelFileError(f"No kept VAE {name} at '{path}': `python benchmarks/vae.py` trains and keeps one.")
        parts.append(read_keras_model(path, "Train it again with `python benchmarks/vae.py`."))
    try:
        vocabulary = Vocabulary.load(directory / "vocabulary.json")
    except (OSError, ValueError) as error:
        raise ModelFileError(f"The vocabulary beside '{directory}' cannot be read: {error}") from error
    return parts[0], parts[1], vocabulary
