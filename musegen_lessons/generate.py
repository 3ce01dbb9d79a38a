"""Generation: prime the melody model with a seed melody, sample the next token again and again, and make music of it.

Three ways to run the trained model one step at a time, side by side in lesson 06:

- `WindowedGenerator`, the naive loop: at every step the whole window so far goes through `model.predict`;
- `KerasStepGenerator`: one step of the same network under `tf.function`, carrying the convolution's last inputs
  and the LSTM states from step to step;
- `NumpyStepGenerator`: the same single step in plain numpy, with lessons 03 and 04's own equations and the
  weights taken out of the trained model. It is the fastest, and the one the composer and `musegen compose` use.

All three give the same next-token distributions. Sampling (greedy, temperature, top-k, nucleus) is done in
numpy by `sample_next`, which also keeps the melody valid: never a HOLD at the start or after a REST.
`compose` continues a `melody.Melody` in any key, moving it to the model's key and back.

Lesson: 06_generation
"""

from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_limits

from .encoding import HOLD, REST, validate_tokens
from .errors import ChoiceError, MelodyError, NotationError
from .lesson import quiet_tensorflow
from .melody import Melody, home_key, transposition_to_c
from .models import MAX_BAR_STEPS
from .notation import midi_to_name, name_to_midi, parse_key, quarters_to_steps


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
    p = np.array(probabilities, dtype=np.float64)  # a copy: the caller's distribution is left as it was
    if not np.isfinite(p).all():
        p = np.nan_to_num(p, nan=0.0, posinf=0.0, neginf=0.0)
    np.maximum(p, 0.0, out=p)
    if previous is None or previous == rest_id:
        p[hold_id] = 0.0
    if p.sum() <= 0:  # a broken distribution: fall back to uniform over what is allowed
        p = np.ones_like(p)
        if previous is None or previous == rest_id:
            p[hold_id] = 0.0
    if temperature == 0:
        return int(np.argmax(p))
    if temperature < 0:
        raise ChoiceError(f"temperature must be 0 (greedy) or above, not {temperature}")
    if temperature != 1:  # p_i^(1/T), as (p_i / p_max)^(1/T) so that a small T cannot overflow
        p /= p.max()
        p **= 1.0 / temperature
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


def melody_weights(model):
    """The trained melody model's weights by layer, as float32 numpy arrays, for the step generators.

    Lesson: 06_generation

    Returns:
        {'token', 'beat': embedding tables; 'conv', 'conv_bias': the causal convolution; 'lstms': [(kernel,
        recurrent_kernel, bias) per LSTM]; 'dense', 'dense_bias': the output layer}, in Keras's layouts.
    """

    def weights(name):
        return [np.asarray(w, dtype=np.float32) for w in model.get_layer(name).get_weights()]

    (token,) = weights("token_embedding")
    names = {layer.name for layer in model.layers}
    # a model without the beat input (position_dim=0) adds nothing for the position: an empty table
    (beat,) = weights("beat_embedding") if "beat_embedding" in names else [np.zeros((MAX_BAR_STEPS, 0), np.float32)]
    conv, conv_bias = weights("causal_conv")
    dense, dense_bias = weights("next_token")
    lstms = [weights(layer.name) for layer in model.layers if layer.name.startswith("lstm_")]
    return {
        "token": token,
        "beat": beat,
        "conv": conv,
        "conv_bias": conv_bias,
        "lstms": lstms,
        "dense": dense,
        "dense_bias": dense_bias,
    }


class NumpyStepGenerator:
    """One step of the trained melody model in plain numpy: the fastest way to generate.

    Lesson: 06_generation

    Lessons 03 and 04's equations with the trained weights, arranged so that a step does as little as it can:

    - the convolution is linear before its ReLU, so what each (token, position in the bar) adds through each
      kernel tap is worked out once, in a table: a step adds one row of it to the sums of the next kernel_size
      outputs, and takes the oldest sum, which is then complete;
    - each LSTM multiplies [x_t, h_{t−1}, 1] by its kernel, recurrent kernel and bias stacked into one matrix: one
      product instead of two and a sum. The sigmoid gates are computed with the same tanh as the candidate,
      σ(z) = ½(1 + tanh(z / 2)), the halving folded into their columns;
    - every array a step writes into is made once, in float32, and written in place.

    The tests prove it equal to the Keras model, step by step.
    """

    def __init__(self, model):
        w = melody_weights(model)
        width, taps = w["token"].shape[1], w["conv"].shape[0]
        token_taps = np.einsum("ve,kef->vkf", w["token"], w["conv"][:, :width])  # (vocabulary, taps, filters)
        beat_taps = np.einsum("pe,kef->pkf", w["beat"], w["conv"][:, width:])  # (positions, taps, filters)
        # table[token, position, j]: what this step's input adds to the output j steps from now (tap taps - 1 - j)
        self.conv_table = (token_taps[:, None] + beat_taps[None])[:, :, ::-1].copy()
        self.conv_bias = w["conv_bias"]
        self.lstms = []
        for kernel, recurrent_kernel, bias in w["lstms"]:
            units = recurrent_kernel.shape[0]
            stacked = np.vstack([kernel, recurrent_kernel, bias[None]])
            stacked[:, : 2 * units] *= 0.5  # i and f: tanh(z / 2) gives their sigmoids
            stacked[:, 3 * units :] *= 0.5  # o likewise; g (Keras's third block) stays tanh(z)
            self.lstms.append((np.ascontiguousarray(stacked), kernel.shape[0], units))
        self.dense = np.vstack([w["dense"], w["dense_bias"][None]])
        self.taps = taps
        self.reset()

    def reset(self):
        self.sums = np.tile(self.conv_bias, (self.taps, 1))  # the convolution's next outputs, before the ReLU
        self.layers = []
        for stacked, inputs, units in self.lstms:
            xh = np.zeros(inputs + units + 1, np.float32)  # [x_t, h_{t−1}, 1]
            xh[-1] = 1.0
            z = np.zeros(4 * units, np.float32)
            blocks = [z[k * units : (k + 1) * units] for k in range(4)]  # i, f, g, o
            self.layers.append(
                (
                    stacked,
                    xh,
                    z,
                    *blocks,
                    np.zeros(units, np.float32),
                    np.zeros(units, np.float32),
                    xh[inputs : inputs + units],
                )
            )
        self.logits = np.zeros(self.dense.shape[1], np.float32)

    def prime(self, ids, positions):
        """Take these steps as the music so far: each is fed, since the state is made of what the steps compute."""
        for token, position in zip(ids, positions):
            self.step(int(token), int(position))

    def step(self, token, position):
        """Feed one token at its position in the bar; return the distribution of the next token."""
        self.sums += self.conv_table[token, position]
        x = self.layers[0][1][: self.sums.shape[1]]
        np.maximum(self.sums[0], 0.0, out=x)  # the finished output of the convolution, after its ReLU
        self.sums[:-1] = self.sums[1:]
        self.sums[-1] = self.conv_bias
        for index, (stacked, xh, z, i, f, g, o, c, tanh_c, h) in enumerate(self.layers):
            if index:
                xh[: len(x)] = x  # the layer below's h_t is this layer's x_t
            np.matmul(xh, stacked, out=z)
            np.tanh(z, out=z)
            for gate in (i, f, o):
                gate *= 0.5
                gate += 0.5
            c *= f  # c_t = f ⊙ c_{t−1} + i ⊙ g
            np.multiply(i, g, out=g)
            c += g
            np.tanh(c, out=tanh_c)
            np.multiply(o, tanh_c, out=h)  # h_t = o ⊙ tanh(c_t), where the next step reads h_{t−1}
            x = h
        np.matmul(self.layers[-1][1][-len(x) - 1 :], self.dense, out=self.logits)
        self.logits -= self.logits.max()
        np.exp(self.logits, out=self.logits)
        return self.logits / self.logits.sum()


class KerasStepGenerator:
    """One step of the trained melody model in TensorFlow, compiled once with `tf.function`.

    Lesson: 06_generation
    """

    def __init__(self, model):
        quiet_tensorflow()
        import tensorflow as tf

        self._tf = tf
        weights = melody_weights(model)
        self.weights = {name: tf.constant(w) for name, w in weights.items() if name != "lstms"}
        self.weights["lstms"] = [[tf.constant(w) for w in layer] for layer in weights["lstms"]]
        self._kernel_size = weights["conv"].shape[0]
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


class RecomputingGenerator:
    """What every naive step generator shares: it keeps the music so far, and at every step runs a whole network
    over it (or over its last receptive field) and keeps the last output. A subclass says how, in `predict_last`.

    Lesson: 06_generation (lessons 09 and 10 set their naive generators beside their cached ones)
    """

    def reset(self):
        self.ids, self.positions = [], []

    def prime(self, ids, positions):
        """Take these steps as the music so far, without the outputs that feeding them would compute."""
        self.ids.extend(int(i) for i in ids)
        self.positions.extend(int(p) for p in positions)

    def step(self, token, position):
        self.prime([token], [position])
        return self.predict_last()

    def predict_last(self):
        """The next token's distribution after `self.ids` at `self.positions`."""
        raise NotImplementedError


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
    if not 0 < bar_steps <= MAX_BAR_STEPS:
        raise MelodyError(f"A bar of {bar_steps} steps is outside the model's beat input (1 to {MAX_BAR_STEPS} steps).")
    seed_tokens = list(seed_tokens)
    if not seed_tokens:
        raise MelodyError("The seed melody is empty: give at least one note to start from.")
    validate_tokens(seed_tokens)
    ids = [int(i) for i in vocabulary.encode(seed_tokens)]
    rng = np.random.default_rng(seed)
    generator.reset()
    total = len(ids) + int(length)
    positions = (np.arange(total) + pickup_steps) % bar_steps
    # One step multiplies small matrices: sharing each product out between cores costs more time than it saves.
    with threadpool_limits(limits=1, user_api="blas"):
        for step in range(total - 1):
            probabilities = generator.step(ids[step], int(positions[step]))
            if step + 1 >= len(ids):
                ids.append(sample_next(probabilities, rng, temperature, top_k, top_p, previous=ids[step]))
    return vocabulary.decode(ids)


def melody_to_midi(melody, tempo_bpm=100, program=0):
    """Export a `melody.Melody` as a PrettyMIDI at a tempo, with its key signature and time signature written in.

    Lesson: 06_generation
    """
    import pretty_midi

    from .midi import notes_to_midi

    if not tempo_bpm > 0:
        raise MelodyError(f"The tempo must be above 0 beats per minute, not {tempo_bpm}.")
    notes = melody.notes()
    if not notes:
        raise MelodyError("The melody has no notes to write.")
    pm = notes_to_midi(notes, tempo_bpm=tempo_bpm, program=program)
    tonic, mode = parse_key(melody.key)
    pm.key_signature_changes = [pretty_midi.KeySignature(tonic + (12 if mode == "minor" else 0), 0.0)]
    beats, _, unit = melody.time_signature.partition("/")
    pm.time_signature_changes = [pretty_midi.TimeSignature(int(beats), int(unit), 0.0)]
    return pm


def seed_from_piece(piece, steps=16):
    """The opening `steps` tokens of a piece and its metre: (tokens, bar_steps, pickup_steps).

    Lesson: 06_generation
    """
    return list(piece.tokens[:steps]), piece.bar_steps, piece.pickup_steps


def compose(generator, vocabulary, seed_melody, length, temperature=1.0, top_k=None, top_p=None, seed=0):
    """Continue a `melody.Melody` in any key: move it to the model's key, generate, and move the result back.

    Lesson: 06_generation

    The model knows only C major and A minor (lesson 02), so an opening typed in D major is moved down to C major
    to be continued and the whole melody is moved back up: it starts with exactly the notes typed.

    Raises:
        MelodyError: an opening note the model never saw, named as it was typed, with the range it can take.
    """
    home = seed_melody.transposed(home_key(seed_melody.key))
    if not any(t not in (HOLD, REST) for t in seed_melody.tokens):
        raise MelodyError("The seed melody has no notes: give at least one note to start from.")
    shift = -transposition_to_c(*parse_key(seed_melody.key))  # from the model's key back to the typed one
    known = set(vocabulary.pitches)
    for typed, moved in zip(seed_melody.tokens, home.tokens):
        if moved not in (HOLD, REST) and int(moved) not in known:
            low, high = min(known) + shift, max(known) + shift
            raise MelodyError(
                f"The opening's {midi_to_name(typed)} is a note this model never wrote in {seed_melody.key}: "
                f"its notes there lie from {midi_to_name(low)} to {midi_to_name(high)}."
            )
    tokens = generate(
        generator,
        vocabulary,
        home.tokens,
        length,
        temperature,
        top_k,
        top_p,
        seed,
        bar_steps=home.bar_steps,
        pickup_steps=home.pickup_steps,
    )
    return replace(home, tokens=tokens).transposed(seed_melody.key)


def step_generator(model):
    """The fastest step generator for a melody model of any kind the course builds: lesson 06's numpy LSTM step,
    lesson 09's cached WaveNet, or lesson 10's Transformer with its key/value cache.

    Lesson: 06_generation (lessons 09 and 10 add their models)
    """
    names = {layer.name for layer in model.layers}
    if "attention_1" in names:
        from .transformer import CachedTransformerGenerator

        return CachedTransformerGenerator(model)
    if "filter_1" in names:
        from .wavenet import CachedWaveNetGenerator

        return CachedWaveNetGenerator(model)
    return NumpyStepGenerator(model)


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

    The seed notes are typed in `key` and the melody starts with exactly them (`compose`). Bad input (an unknown
    note, a note the model never saw, a key that does not exist) is refused before anything is written.
    `model_dir` is a kept model's name, 'lstm' (None) or 'transformer', or a folder that `musegen train` wrote.
    """
    from pathlib import Path

    from .audio import render_audio, waveform_to_wav
    from .display import render_score
    from .midi import write_midi
    from .models import KEPT_MODELS, load_melody_model

    opening = Melody(parse_melody(seed_notes), key)  # an unknown key is refused before the model is loaded
    model, vocabulary, _ = load_melody_model(KEPT_MODELS.get(str(model_dir or "lstm"), model_dir))
    melody = compose(step_generator(model), vocabulary, opening, length, temperature, top_k, top_p, seed)
    pm = melody_to_midi(melody, tempo_bpm=tempo_bpm)
    folder = Path(folder)
    midi_path = write_midi(pm, folder / f"{name}.mid")
    wav_path = folder / f"{name}.wav"
    rendering = render_audio(pm, max_seconds=None)
    wav_path.write_bytes(waveform_to_wav(rendering.waveform, rendering.sample_rate))
    svg_path = render_score(melody).save(folder / f"{name}.svg")
    return [midi_path, wav_path, svg_path]
