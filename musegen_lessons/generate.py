"""Generation: prime the melody model with a seed, sample the next token again and again, and make music of it.

Three ways to run the trained model one step at a time, side by side in lesson 06:

- `WindowedGenerator`, the naive loop: at every step the whole window so far goes through `model.predict`;
- `KerasStepGenerator`: one step of the same network under `tf.function`, carrying the convolution's last inputs
  and the LSTM states from step to step;
- `NumpyStepGenerator`: the same single step in plain numpy, with lessons 03 and 04's own equations and the
  weights taken out of the trained model. It is the fastest, and the one the composer and `musegen compose` use.

All three give the same next-token distributions. Sampling (greedy, temperature, top-k, nucleus) is done in
numpy by `sample_next`, which also keeps the melody valid: never a HOLD at the start or after a REST.

Lesson: 06_generation
"""

import numpy as np

from . import equations
from .encoding import HOLD, REST, excerpt, tokens_to_notes, validate_tokens
from .errors import MelodyError, NotationError
from .lesson import quiet_tensorflow
from .notation import name_to_midi, quarters_to_steps

KEYS = {  # key name -> (tonic pitch class, mode); the melody model writes in C major or A minor
    f"{name} {mode}": (pitch_class, mode)
    for pitch_class, names in enumerate(
        [
            ("C",),
            ("C#", "Db"),
            ("D",),
            ("D#", "Eb"),
            ("E",),
            ("F",),
            ("F#", "Gb"),
            ("G",),
            ("G#", "Ab"),
            ("A",),
            ("A#", "Bb"),
            ("B",),
        ]
    )
    for name in names
    for mode in ("major", "minor")
}


def parse_melody(text, steps_per_quarter=4):
    """Turn typed notes into tokens: 'C4 D4 E4:2 r:0.5 G4' (a name, or r for a rest, and ':quarters', default 1).

    Lesson: 06_generation

    Raises:
        NotationError: an unknown note name or a duration that is not a positive number on the grid.
        MelodyError: no notes at all.
    """
    tokens = []
    for word in str(text).split():
        name, _, length = word.partition(":")
        try:
            quarters = float(length) if length else 1.0
        except ValueError:
            raise NotationError(
                f"{word!r}: the part after ':' must be a length in quarter notes, like 'C4:0.5'."
            ) from None
        if not quarters > 0:
            raise NotationError(f"{word!r}: a length must be above 0 quarter notes.")
        steps = quarters_to_steps(quarters, steps_per_quarter)
        if name.lower() in ("r", "rest"):
            tokens += [REST] * steps
        else:
            tokens += [name_to_midi(name)] + [HOLD] * (steps - 1)
    if not any(t not in (HOLD, REST) for t in tokens):
        raise MelodyError(f"{text!r} has no notes: type note names such as 'C4 D4 E4'.")
    return tokens


def sample_next(probabilities, rng, temperature=1.0, top_k=None, top_p=None, previous=None, hold_id=1, rest_id=0):
    """Choose the next token number from a distribution.

    Lesson: 06_generation

    Args:
        probabilities: the model's next-token distribution (NaN, negative or all-zero entries are tolerated).
        rng: a numpy Generator (its seed makes generation reproducible).
        temperature: 0 is greedy (always the most probable token); below 1 sharpens the distribution,
            above 1 flattens it: p_i ∝ p_i^(1/T).
        top_k: keep only the k most probable tokens.
        top_p: nucleus sampling: keep the fewest most probable tokens whose probabilities sum to at least p.
        previous: the token number before this step (None at the start); HOLD is forbidden at the start and
            after a REST, since it would continue a note that is not sounding.
    """
    p = np.nan_to_num(np.asarray(probabilities, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    p = np.maximum(p, 0.0)
    if previous is None or previous == rest_id:
        p[hold_id] = 0.0
    if p.sum() <= 0:  # a broken distribution: fall back to uniform over what is allowed
        p = np.ones_like(p)
        if previous is None or previous == rest_id:
            p[hold_id] = 0.0
    if temperature == 0:
        return int(np.argmax(p))
    if temperature < 0:
        raise ValueError(f"temperature must be 0 (greedy) or above, not {temperature}")
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature
    p = np.exp(logits - logits.max())
    order = None
    if top_k is not None and top_k < len(p):
        order = np.argsort(-p, kind="stable")
        p[order[max(int(top_k), 1) :]] = 0.0
    if top_p is not None and top_p < 1:
        order = np.argsort(-p, kind="stable") if order is None else order
        cumulative = np.cumsum(p[order]) / p.sum()
        p[order[np.searchsorted(cumulative, top_p) + 1 :]] = 0.0
    cumulative = np.cumsum(p)
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"), len(p) - 1))


class NumpyStepGenerator:
    """One step of the trained melody model in plain numpy: the fastest way to generate.

    Lesson: 06_generation

    The causal convolution keeps its last kernel_size inputs in a rolling buffer; each LSTM keeps its (h, c).
    """

    def __init__(self, model):
        def weights(name):
            return [np.asarray(w, dtype=np.float32) for w in model.get_layer(name).get_weights()]

        (self.token_table,) = weights("token_embedding")
        (self.beat_table,) = weights("beat_embedding")
        self.conv_kernel, self.conv_bias = weights("causal_conv")
        self.lstms = [weights(layer.name) for layer in model.layers if layer.name.startswith("lstm_")]
        self.dense_kernel, self.dense_bias = weights("next_token")
        self.reset()

    def reset(self):
        kernel_size, channels, _ = self.conv_kernel.shape
        self.buffer = np.zeros((kernel_size, channels), np.float32)
        self.states = [(np.zeros(k[1].shape[0], np.float32), np.zeros(k[1].shape[0], np.float32)) for k in self.lstms]

    def step(self, token, position):
        """Feed one token at its position in the bar; return the distribution of the next token."""
        x = np.concatenate([self.token_table[token], self.beat_table[position]])
        self.buffer = np.roll(self.buffer, -1, axis=0)
        self.buffer[-1] = x
        h = equations.relu(np.einsum("kc,kcf->f", self.buffer, self.conv_kernel) + self.conv_bias)
        for index, (kernel, recurrent_kernel, bias) in enumerate(self.lstms):
            h, c = equations.lstm_step(h, *self.states[index], kernel, recurrent_kernel, bias)
            self.states[index] = (h, c)
        return equations.softmax(equations.dense(h, self.dense_kernel, self.dense_bias))


class KerasStepGenerator:
    """One step of the trained melody model in TensorFlow, compiled once with `tf.function`.

    Lesson: 06_generation
    """

    def __init__(self, model):
        quiet_tensorflow()
        import tensorflow as tf

        self._tf = tf
        reference = NumpyStepGenerator(model)  # the same weights, taken out the same way
        self.weights = {
            "token": tf.constant(reference.token_table),
            "beat": tf.constant(reference.beat_table),
            "conv": tf.constant(reference.conv_kernel),
            "conv_bias": tf.constant(reference.conv_bias),
            "lstms": [[tf.constant(w) for w in layer] for layer in reference.lstms],
            "dense": tf.constant(reference.dense_kernel),
            "dense_bias": tf.constant(reference.dense_bias),
        }
        self._kernel_size = reference.conv_kernel.shape[0]
        self._step = tf.function(self._graph_step)
        self.reset()

    def reset(self):
        tf = self._tf
        self.buffer = tf.zeros((self._kernel_size, self.weights["conv"].shape[1]))
        self.states = [(tf.zeros((1, w[1].shape[0])), tf.zeros((1, w[1].shape[0]))) for w in self.weights["lstms"]]

    def _graph_step(self, token, position, buffer, states):
        tf, w = self._tf, self.weights
        x = tf.concat([tf.gather(w["token"], token), tf.gather(w["beat"], position)], axis=0)
        buffer = tf.concat([buffer[1:], x[None]], axis=0)
        h = tf.nn.relu(tf.einsum("kc,kcf->f", buffer, w["conv"]) + w["conv_bias"])[None]
        new_states = []
        for (kernel, recurrent_kernel, bias), (h_prev, c_prev) in zip(w["lstms"], states):
            z_i, z_f, z_g, z_o = tf.split(h @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=-1)
            c = tf.sigmoid(z_f) * c_prev + tf.sigmoid(z_i) * tf.tanh(z_g)
            h = tf.sigmoid(z_o) * tf.tanh(c)
            new_states.append((h, c))
        return tf.nn.softmax(h @ w["dense"] + w["dense_bias"])[0], buffer, new_states

    def step(self, token, position):
        tf = self._tf
        probabilities, self.buffer, self.states = self._step(
            tf.constant(token, tf.int32), tf.constant(position, tf.int32), self.buffer, self.states
        )
        return probabilities.numpy()


class WindowedGenerator:
    """The naive loop: every step runs `model.predict` on the whole window so far and keeps the last output.

    Lesson: 06_generation
    """

    def __init__(self, model, window_steps=64):
        self.model, self.window_steps = model, window_steps
        self.reset()

    def reset(self):
        self.tokens, self.positions = [], []

    def step(self, token, position):
        self.tokens.append(int(token))
        self.positions.append(int(position))
        features = {
            "tokens": np.array([self.tokens[-self.window_steps :]], np.int32),
            "positions": np.array([self.positions[-self.window_steps :]], np.int32),
        }
        return self.model.predict(features, verbose=0)[0, -1]


class NGramStepGenerator:
    """An n-gram model of lesson 05 behind the same step interface, so it can compose too.

    Lesson: 07_evaluation
    """

    def __init__(self, ngram):
        self.ngram = ngram
        self.reset()

    def reset(self):
        self.history = []

    def step(self, token, position):
        self.history.append(int(token))
        return self.ngram.distribution(self.history)


class UniformStepGenerator:
    """The floor of every comparison: each token equally likely, whatever came before.

    Lesson: 07_evaluation
    """

    def __init__(self, vocab_size):
        self.probabilities = np.full(vocab_size, 1.0 / vocab_size)

    def reset(self):
        pass

    def step(self, token, position):
        return self.probabilities


def generate(
    generator,
    vocabulary,
    seed_tokens,
    length,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=0,
    bar_steps=16,
    pickup_steps=0,
):
    """Continue a seed melody by `length` steps, sampling one token at a time; return seed and continuation.

    Lesson: 06_generation

    Args:
        generator: any of the three step generators.
        seed_tokens: the opening, as tokens (REST, HOLD, MIDI pitches) inside the vocabulary.
        length: how many new 16th-note steps to write (at least 1).
        seed: the random seed: the same seed gives the same melody.
        bar_steps, pickup_steps: the metre, so that every step gets its position in the bar.

    Raises:
        MelodyError: an empty or invalid seed, a seed pitch outside the model's vocabulary, or a length below 1.
    """
    if int(length) < 1:
        raise MelodyError(f"The length must be at least 1 step, not {length}.")
    seed_tokens = list(seed_tokens)
    if not seed_tokens:
        raise MelodyError("The seed melody is empty: give at least one note to start from.")
    validate_tokens(seed_tokens)
    ids = [int(i) for i in vocabulary.encode(seed_tokens)]
    rng = np.random.default_rng(seed)
    generator.reset()
    total = len(ids) + int(length)
    positions = (np.arange(total) + pickup_steps) % bar_steps
    for step in range(total - 1):
        probabilities = generator.step(ids[step], int(positions[step]))
        if step + 1 >= len(ids):
            ids.append(sample_next(probabilities, rng, temperature, top_k, top_p, previous=ids[step]))
    return vocabulary.decode(ids)


def transpose_to_key(tokens, key):
    """Move a melody written in C major / A minor into another key ('D major', 'F# minor', ...).

    Lesson: 06_generation

    The melody moves to the tonic of the same mode the shorter way round (at most 6 semitones), so it stays
    in its register. A major key's relative minor shares its notes: 'A minor' leaves the melody where it is.
    """
    if key not in KEYS:
        raise NotationError(f"Unknown key {key!r}: write a tonic and a mode, e.g. 'D major' or 'F# minor'.")
    tonic, mode = KEYS[key]
    shift = (tonic - (0 if mode == "major" else 9)) % 12
    shift = shift - 12 if shift > 6 else shift
    return [t if t in (HOLD, REST) else int(t) + shift for t in tokens]


def melody_to_midi(tokens, tempo_bpm=100, key="C major", program=0):
    """Post-process and export: transpose tokens to a key and return a PrettyMIDI at a tempo.

    Lesson: 06_generation
    """
    from .midi import notes_to_midi

    if not tempo_bpm > 0:
        raise MelodyError(f"The tempo must be above 0 beats per minute, not {tempo_bpm}.")
    notes = tokens_to_notes(transpose_to_key(tokens, key))
    if not notes:
        raise MelodyError("The melody has no notes to write.")
    return notes_to_midi(notes, tempo_bpm=tempo_bpm, program=program)


def seed_from_piece(piece, steps=16):
    """The opening `steps` tokens of a piece and its metre: (tokens, bar_steps, pickup_steps).

    Lesson: 06_generation
    """
    return list(piece.tokens[:steps]), piece.bar_steps, piece.pickup_steps


def key_names():
    """The keys `transpose_to_key` accepts, sharps first: 'C major', 'C minor', 'C# major', ..."""
    return sorted(KEYS, key=lambda k: (KEYS[k][0], KEYS[k][1] == "minor", "b" in k.split()[0], k))


def compose_melody(
    folder,
    seed_notes="C4 D4 E4",
    length=128,
    temperature=0.9,
    top_k=None,
    top_p=None,
    key="C major",
    tempo_bpm=100,
    seed=0,
    model_dir=None,
    name="melody",
):
    """Write a new melody as MIDI, WAV and an engraved SVG score into a folder; return the three paths.

    Lesson: 06_generation

    The seed notes are typed in any key's letters but read as the model's C major / A minor; the result is then
    transposed to `key`. Bad input (an unknown note, a note the model never saw, a key that does not exist) is
    refused before anything is written.
    """
    from pathlib import Path

    from .audio import render_audio, waveform_to_wav
    from .display import render_score
    from .midi import write_midi
    from .models import PRETRAINED, load_melody_model

    seed_tokens = parse_melody(seed_notes)
    if key not in KEYS:
        raise NotationError(f"Unknown key {key!r}: write a tonic and a mode, e.g. 'D major' or 'F# minor'.")
    model, vocabulary, _ = load_melody_model(model_dir or PRETRAINED)
    tokens = generate(NumpyStepGenerator(model), vocabulary, seed_tokens, length, temperature, top_k, top_p, seed)
    pm = melody_to_midi(tokens, tempo_bpm=tempo_bpm, key=key)
    folder = Path(folder)
    midi_path = write_midi(pm, folder / f"{name}.mid")
    wav_path = folder / f"{name}.wav"
    rendering = render_audio(pm, max_seconds=None)
    wav_path.write_bytes(waveform_to_wav(rendering.waveform, rendering.sample_rate))
    svg_path = render_score(tokens_to_notes(transpose_to_key(tokens, key))).save(folder / f"{name}.svg")
    return [midi_path, wav_path, svg_path]


def evaluation_sets(
    model, vocabulary, dataset, temperatures=(0.5, 0.8, 1.0, 1.2, 1.5), seed_steps=16, steps=128, seed=0
):
    """The melody sets that lesson 07 compares, each continuing the first `seed_steps` of every held-out chorale.

    Lesson: 07_evaluation

    Returns:
        {name: [token lists]}: "held-out chorales" (the reference: their own continuations), "training chorales"
        (the ceiling: real music the model learned from), the model at each temperature, the tuned 5-gram, and
        random tokens. Only the `steps` tokens after the seed are kept, so every set is judged on what it wrote.
    """
    from .baselines import tune_ngram

    test, train = dataset.pieces["test"], dataset.pieces["train"]
    encoded_train = [vocabulary.encode(p.tokens) for p in train]
    encoded_valid = [vocabulary.encode(p.tokens) for p in dataset.pieces["valid"]]
    five_gram, _ = tune_ngram(5, encoded_train, encoded_valid, len(vocabulary))
    generators = {f"CNN + LSTM, T = {t}": (NumpyStepGenerator(model), t) for t in temperatures}
    generators["5-gram, T = 1.0"] = (NGramStepGenerator(five_gram), 1.0)
    generators["random tokens"] = (UniformStepGenerator(len(vocabulary)), 1.0)
    sets = {
        "held-out chorales": [excerpt(p.tokens, seed_steps, steps) for p in test],
        "training chorales": [excerpt(p.tokens, seed_steps, steps) for p in train[: len(test)]],
    }
    for name, (generator, temperature) in generators.items():
        sets[name] = [
            excerpt(
                generate(
                    generator,
                    vocabulary,
                    p.tokens[:seed_steps],
                    steps,
                    temperature=temperature,
                    seed=seed + i,
                    bar_steps=p.bar_steps,
                    pickup_steps=p.pickup_steps,
                ),
                seed_steps,
            )
            for i, p in enumerate(test)
        ]
    return sets
