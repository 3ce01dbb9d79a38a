"""Four voices at once: chorales as 88-key frames, and models that predict a whole chord at every step.

A melody model chooses one token per step. A chorale sounds four notes at once, so here every quarter note is a
frame, a vector of 88 zeros and ones (piano keys A0 to C8, MIDI 21 to 108), and a model gives, at every step,
the probability of each key sounding in the next frame. Two ways to turn a network's state h_t into those
probabilities:

- independent keys: p(x_t | h_t) = Π_k σ(w_k·h_t + b_k), one sigmoid per key, each deaf to the others. Where
  the model is unsure between two chords it blurs them, and sampling mixes their notes;
- autoregressive over keys: p(x_t | h_t) = Π_k p(x_t,k | x_t,<k, h_t), the chain rule, so that each key is
  chosen knowing the keys below it. A MADE head (Germain et al. 2015) computes all 88 conditionals in one pass
  with masked weights, so training with the true frame as input (teacher forcing) gives the exact likelihood.

Both are scored as the literature scores the JSB Chorales benchmark (Boulanger-Lewandowski et al. 2012): every
frame after the first, predicted from the frames before it, the Bernoulli negative log-likelihood summed over the
88 keys, averaged over all scored frames of the split.

Lesson: 08_polyphony
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import equations
from .corpus import _map, cache_dir, load_chorale, load_melodies, transposition_to_c
from .dataset import SPLITS, split_by_tune
from .errors import DataFileError, ModelFileError, ShapeError
from .lesson import is_quick, quiet_tensorflow

KEYS = 88
LOWEST_MIDI = 21  # A0, the piano's lowest key; key k is MIDI 21 + k
JSB_ENV = "MUSEGEN_JSB"
# The course folder's neighbour, where the shared benchmark data sits in CI; a student's copy has no such folder.
JSB_BESIDE_COURSE = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "jsb" / "jsb-chorales-quarter.json"
JSB_PUBLIC_COPY = (
    "https://github.com/czhuang/JSB-Chorales-dataset (jsb-chorales-quarter.pkl: the same split, "
    "to be saved as JSON in the structure read_jsb reads)"
)
FRAMES_CACHE_FORMAT = 1
TUNE_PITCHES = 8  # how many notes of the top line name a tune, for the split by tune
QUICK_CHORALES = 80  # quick mode reads this many chorales when it builds the split from music21
EPSILON = 1e-7  # probabilities are kept in [ε, 1 − ε], so a confident mistake costs ln(1/ε) ≈ 16 nats, not infinity

LESSON_SECONDS = 90  # full mode: each of the lesson's two models trains about this long
BENCHMARK_SECONDS = 570  # benchmarks/jsb.py: each model stops after the epoch that ends past this (10-minute goal)
TRANSPOSITIONS = tuple(range(-6, 6))  # every training chorale in all 12 keys: 12 times the data
BENCHMARK_SETTINGS = {  # chosen on the valid split (the closing note of issue 9 lists the runs compared)
    "independent": {"augment": TRANSPOSITIONS, "batch_size": 16, "learning_rate": 3e-3, "skip": True},
    "autoregressive": {"augment": TRANSPOSITIONS, "batch_size": 16, "learning_rate": 2e-3, "skip": True},
}
BENCHMARK_RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "jsb.json"

# Published test NLL (nats per frame) on the JSB quarter-note split, lower is better.
PUBLISHED = (
    ("uniform, p = 0.5", 61.00, "88 ln 2"),
    ("tanh RNN", 9.10, "Chung et al. 2014, Table 2"),
    ("LSTM", 8.67, "Chung et al. 2014, Table 2"),
    ("GRU", 8.54, "Chung et al. 2014, Table 2"),
    ("TCN", 8.10, "Bai et al. 2018"),
    ("RNN-NADE", 5.56, "Boulanger-Lewandowski et al. 2012"),
)


@dataclass
class FrameSplit:
    """Chorales as frames, split into train, valid and test: {split: [array (frames, 88) of 0/1, ...]}.

    Lesson: 08_polyphony

    `official` is True only for the benchmark's own split, the one the published figures are measured on.
    """

    source: str
    official: bool
    pieces: dict
    path: str = ""

    def summary(self):
        """One line per split: pieces, frames, frames that are scored (all but each piece's first)."""
        lines = [f"{self.source}"]
        for split in SPLITS:
            frames = sum(len(p) for p in self.pieces[split])
            lines.append(
                f"  {split:<6}{len(self.pieces[split]):>5} pieces {frames:>7,} frames "
                f"{frames - len(self.pieces[split]):>7,} scored"
            )
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- frames and data
def pitches_to_frame(pitches):
    """An 88-key frame (0/1, uint8) from MIDI pitches; pitches off the piano raise ShapeError.

    Lesson: 08_polyphony

    Example:
        >>> np.flatnonzero(pitches_to_frame([60, 64, 67]))
        array([39, 43, 46])
    """
    frame = np.zeros(KEYS, np.uint8)
    for pitch in pitches:
        key = int(pitch) - LOWEST_MIDI
        if not 0 <= key < KEYS:
            raise ShapeError(f"MIDI pitch {pitch} is off the 88-key piano (MIDI {LOWEST_MIDI} to {LOWEST_MIDI + 87}).")
        frame[key] = 1
    return frame


def frame_to_pitches(frame):
    """The MIDI pitches sounding in a frame, lowest first.

    Lesson: 08_polyphony
    """
    return [int(k) + LOWEST_MIDI for k in np.flatnonzero(np.asarray(frame))]


def frames_to_notes(frames, quarters_per_frame=1.0):
    """Notes (pitch, start, end) in quarter notes from frames; a key sounding in consecutive frames is one note.

    Lesson: 08_polyphony

    The benchmark's frames cannot tell a held half note from two repeated quarters, so holding is the reading
    chosen here: it is what most consecutive equal notes in a chorale are.
    """
    frames = np.asarray(frames)
    notes, starts = [], {}
    for t, frame in enumerate(np.vstack([frames, np.zeros((1, KEYS), frames.dtype)])):
        for key in list(starts):
            if not frame[key]:
                notes.append((key + LOWEST_MIDI, starts.pop(key) * quarters_per_frame, t * quarters_per_frame))
        for key in np.flatnonzero(frame):
            starts.setdefault(int(key), t)
    return sorted(notes, key=lambda n: (n[1], n[0]))


def transpose_frames(frames, semitones, drop=False):
    """Frames moved by a number of semitones. A note that would fall off the piano makes the answer None, or with
    `drop` is left out (for listening to a model's samples, which may hold stray keys at the edges).

    Lesson: 08_polyphony
    """
    frames = np.asarray(frames)
    keys = np.flatnonzero(frames.any(axis=0))
    if len(keys) and not (0 <= keys.min() + semitones and keys.max() + semitones < KEYS) and not drop:
        return None
    moved = np.zeros_like(frames)
    if semitones >= 0:
        moved[:, semitones:] = frames[:, : KEYS - semitones]
    else:
        moved[:, :semitones] = frames[:, -semitones:]
    return moved


def find_jsb():
    """The JSB quarter-note file: `MUSEGEN_JSB` if set, else the shared copy beside the course; None if neither.

    Lesson: 08_polyphony

    `MUSEGEN_JSB=off` ignores any copy, so that the lesson can be tried as a student without the file runs it.
    """
    chosen = os.environ.get(JSB_ENV, "").strip()
    if chosen.lower() in ("off", "none", "no", "0"):
        return None
    if chosen:
        return Path(chosen)
    return JSB_BESIDE_COURSE if JSB_BESIDE_COURSE.is_file() else None


def read_jsb(path):
    """Read the benchmark split from its JSON file ({'train'/'valid'/'test': [piece = [step = [pitches]]]}).

    Lesson: 08_polyphony

    Raises:
        DataFileError: the file is missing, is not JSON, or does not hold the three splits of pitch lists.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        pieces = {
            split: [
                np.array([pitches_to_frame(step) for step in piece], np.uint8).reshape(-1, KEYS)
                for piece in data[split]
            ]
            for split in SPLITS
        }
    except FileNotFoundError:
        raise DataFileError(
            f"No JSB file at '{path}'. Set {JSB_ENV} to the quarter-note JSON file "
            f"(public copy: {JSB_PUBLIC_COPY}), or unset it to use music21's chorales."
        ) from None
    except (ValueError, KeyError, TypeError, OSError, ShapeError) as error:
        raise DataFileError(
            f"'{path}' is not the JSB quarter-note split ({type(error).__name__}: {error}). It "
            "must be JSON {'train'|'valid'|'test': [piece, ...]}, piece = [[midi pitch, ...], ...]."
        ) from error
    if any(len(piece) < 2 for split in SPLITS for piece in pieces[split]) or not all(pieces.values()):
        raise DataFileError(f"'{path}' has an empty split or a piece shorter than two frames: nothing to score.")
    return FrameSplit(
        "JSB Chorales, the benchmark's own split (Boulanger-Lewandowski et al. 2012)", True, pieces, str(path)
    )


def chorale_frames(score, semitones=0):
    """A chorale's frames at quarter-note resolution: the keys sounding at the start of every quarter note.

    Lesson: 08_polyphony

    Only the four voices are read (a score's instrument parts, where there are any, double them or decorate).
    """
    parts = [p for p in score.parts if _voice_name(p)] or list(score.parts)[-4:]
    notes = [
        (int(p.midi) + semitones, float(n.offset), float(n.offset + n.quarterLength))
        for part in parts
        for n in part.stripTies().flatten().notes
        for p in n.pitches
    ]
    length = int(np.ceil(max(end for _, _, end in notes) - 1e-9))
    frames = np.zeros((length, KEYS), np.uint8)
    for pitch, start, end in notes:
        first, last = int(np.ceil(start - 1e-9)), int(np.ceil(end - 1e-9))  # the quarters whose start it covers
        frames[first:last, pitch - LOWEST_MIDI] = 1
    return frames


def build_chorale_split(quick=None, cache=True, progress=True):
    """The JSB kind of split made from music21's own chorales, for where the benchmark file is absent.

    Lesson: 08_polyphony

    Each chorale goes to C major or C minor (as the benchmark's do), becomes quarter-note frames, and goes to
    train, valid or test with every other harmonisation of its tune (lesson 02's split by tune, with the tune
    read from the chord frames' top line, see `top_line`). The frames are cached as JSON.
    """
    quick = is_quick() if quick is None else quick
    melodies = load_melodies("chorales", limit=QUICK_CHORALES if quick else None, quick=quick, progress=progress)
    path = cache_dir() / f"chorale-frames-{'quick' if quick else 'all'}.json"
    source = {"format": FRAMES_CACHE_FORMAT, "melodies": melodies.source}
    cached = _read_frames_cache(path, source) if cache else None
    if cached is None:
        jobs = [(piece.id, _shift_to_c(piece)) for piece in melodies.pieces]
        cached = dict(zip([job[0] for job in jobs], _map(_chorale_frame_lists, jobs, progress, "chorale frames")))
        if cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps({"source": source, "pieces": cached}))
            os.replace(temporary, path)
    frames = [
        np.array([pitches_to_frame(s) for s in cached[piece.id]], np.uint8).reshape(-1, KEYS)
        for piece in melodies.pieces
    ]
    indices = split_by_tune([top_line(f) for f in frames], pitches=TUNE_PITCHES)
    pieces = {split: [frames[i] for i in indices[split]] for split in SPLITS}
    label = f"music21's Bach chorales{f' (quick mode: the first {QUICK_CHORALES})' if quick else ''}, split by tune"
    return FrameSplit(label, False, pieces, str(path))


def top_line(frames):
    """The highest note of every sounding frame, a repeated note counted once: the tune, at quarter-note grain.

    Lesson: 08_polyphony

    The split groups chorales by its first `TUNE_PITCHES` notes. At this grain a passing note between two beats
    drops out, so two harmonisations of one tune that lesson 02's 16th-note fingerprint told apart (bwv244.3 and
    bwv245.3, whose sopranos differ by one passing note) are grouped together.
    """
    top = [max(frame_to_pitches(f)) for f in np.asarray(frames) if f.any()]
    return [p for i, p in enumerate(top) if i == 0 or p != top[i - 1]]


def frame_to_list(frames):
    """Frames as lists of MIDI pitches, the benchmark file's own format (and the cache's).

    Lesson: 08_polyphony
    """
    return [frame_to_pitches(frame) for frame in frames]


def load_frame_split(quick=None, progress=True):
    """The benchmark split if its file can be found (see `find_jsb`), else `build_chorale_split`.

    Lesson: 08_polyphony
    """
    path = find_jsb()
    return read_jsb(path) if path is not None else build_chorale_split(quick=quick, progress=progress)


# ------------------------------------------------------------------------------------------------------ metrics
def frame_nll(probabilities, frames):
    """The negative log-likelihood of each frame in nats: −Σ_k [x_k ln p_k + (1 − x_k) ln(1 − p_k)].

    Lesson: 08_polyphony

    Args:
        probabilities, frames: arrays of the same shape (..., 88): p(key sounds), and what sounded (0/1).
    Returns:
        an array of shape (...): one NLL per frame.
    """
    p, x = np.asarray(probabilities, np.float64), np.asarray(frames, np.float64)
    if p.shape != x.shape or p.shape[-1:] != (KEYS,):
        raise ShapeError(f"probabilities {p.shape} and frames {x.shape} must have the same shape, ending in {KEYS}.")
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(axis=-1)


def frame_accuracy(predicted, frames):
    """Frame-level accuracy of Bay et al. (2009): TP / (TP + FP + FN), counted over all frames together.

    Lesson: 08_polyphony

    Keys that are silent in both count for nothing, so predicting silence everywhere scores 0, not 95%.
    """
    predicted, frames = np.asarray(predicted).astype(bool), np.asarray(frames).astype(bool)
    if predicted.shape != frames.shape:
        raise ShapeError(f"predicted {predicted.shape} and true frames {frames.shape} must have the same shape.")
    tp = np.sum(predicted & frames)
    wrong = np.sum(predicted != frames)
    return float(tp / (tp + wrong)) if tp + wrong else 1.0


def score_split(predict, pieces):
    """Score a model on whole pieces as the benchmark does: {'nll', 'accuracy', 'frames'}.

    Lesson: 08_polyphony

    Args:
        predict: a function from a list of pieces (each (T, 88)) to a list of (probabilities, predicted frames),
            each (T − 1, 88), for frames 1 … T − 1 of each piece, every frame from the frames before it.
        pieces: the pieces of one split.
    Returns:
        nll: the mean frame NLL over all scored frames of all pieces (weighted by frames, not by piece);
        accuracy: `frame_accuracy` over the same frames.
    """
    results = predict(list(pieces))
    probabilities = np.concatenate([r[0] for r in results])
    predicted = np.concatenate([r[1] for r in results])
    targets = np.concatenate([np.asarray(p)[1:] for p in pieces])
    return {
        "nll": float(frame_nll(probabilities, targets).mean()),
        "accuracy": frame_accuracy(predicted, targets),
        "frames": len(targets),
    }


# ---------------------------------------------------------------------------------------------------- baselines
class FrequencyModel:
    """Each key sounds with its training frequency, whatever came before: the floor any model must beat.

    Lesson: 08_polyphony
    """

    def fit(self, pieces, smoothing=1.0):
        frames = np.concatenate([np.asarray(p)[1:] for p in pieces])
        self.p = (frames.sum(axis=0) + smoothing) / (len(frames) + 2 * smoothing)
        return self

    def predict(self, pieces):
        return [(np.tile(self.p, (len(p) - 1, 1)), np.tile(self.p > 0.5, (len(p) - 1, 1))) for p in pieces]

    def count_params(self):
        return KEYS


class MarkovModel:
    """Each key's next state from its own last state: p(x_t,k = 1 | x_t−1,k), a first-order chain per key.

    Lesson: 08_polyphony

    It knows that notes tend to be held or repeated, and nothing of harmony: each key still ignores the others.
    """

    def fit(self, pieces, smoothing=1.0):
        previous = np.concatenate([np.asarray(p)[:-1] for p in pieces]).astype(bool)
        current = np.concatenate([np.asarray(p)[1:] for p in pieces]).astype(bool)
        self.p = np.stack(
            [
                ((current & (previous == state)).sum(axis=0) + smoothing)
                / ((previous == state).sum(axis=0) + 2 * smoothing)
                for state in (False, True)
            ]
        )
        return self

    def predict(self, pieces):
        results = []
        for piece in pieces:
            p = np.where(np.asarray(piece)[:-1].astype(bool), self.p[1], self.p[0])
            results.append((p, p > 0.5))
        return results

    def count_params(self):
        return 2 * KEYS


# --------------------------------------------------------------------------------------------------- the networks
def made_masks(keys=KEYS, hidden=256):
    """The three MADE masks for keys in order 0 (lowest) … keys − 1 (highest).

    Lesson: 08_polyphony

    Key k has degree k + 1, hidden unit j the degree m_j = 1 + j mod (keys − 1). A hidden unit may see key i
    when i + 1 ≤ m_j; key k's output may see hidden unit j when m_j < k + 1, and key i directly when i < k. So
    whatever path a signal takes, output k depends only on keys below k.

    Returns:
        (input → hidden (keys, hidden), hidden → output (hidden, keys), input → output (keys, keys)) as float32.
    """
    key_degree = np.arange(1, keys + 1)
    hidden_degree = 1 + np.arange(hidden) % (keys - 1)
    to_hidden = key_degree[:, None] <= hidden_degree[None, :]
    to_output = hidden_degree[:, None] < key_degree[None, :]
    direct = key_degree[:, None] < key_degree[None, :]
    return to_hidden.astype(np.float32), to_output.astype(np.float32), direct.astype(np.float32)


def _keras_objects():
    """The masked layer and the loss, defined when Keras is first needed (importing the package must stay light)."""
    if _keras_objects.cache:
        return _keras_objects.cache
    import keras

    @keras.saving.register_keras_serializable(package="musegen_lessons")
    class MaskedDense(keras.layers.Dense):
        """A Dense layer whose kernel is multiplied by a fixed 0/1 mask: a MADE layer."""

        def __init__(self, units, mask_kind, made_hidden, **kwargs):
            super().__init__(units, **kwargs)
            self.mask_kind, self.made_hidden = mask_kind, made_hidden

        def build(self, input_shape):
            super().build(input_shape)
            masks = dict(zip(("to_hidden", "to_output", "direct"), made_masks(KEYS, self.made_hidden)))
            self.mask = keras.ops.convert_to_tensor(masks[self.mask_kind])

        def call(self, inputs):
            outputs = keras.ops.matmul(inputs, self.kernel * self.mask)
            if self.use_bias:
                outputs = outputs + self.bias
            return self.activation(outputs) if self.activation is not None else outputs

        def get_config(self):
            return {**super().get_config(), "mask_kind": self.mask_kind, "made_hidden": self.made_hidden}

    @keras.saving.register_keras_serializable(package="musegen_lessons")
    def frame_nll_loss(frames, probabilities):
        """The frame NLL (nats) of every step; Keras then averages it over the steps that are not padding."""
        p = keras.ops.clip(probabilities, EPSILON, 1 - EPSILON)
        return -keras.ops.sum(frames * keras.ops.log(p) + (1 - frames) * keras.ops.log(1 - p), axis=-1)

    _keras_objects.cache.update(MaskedDense=MaskedDense, frame_nll_loss=frame_nll_loss)
    return _keras_objects.cache


_keras_objects.cache = {}


def build_frame_model(
    output="autoregressive", lstm_units=256, lstm_layers=1, made_hidden=256, input_dropout=0.2, dropout=0.3, skip=False
):
    """An LSTM over past frames, with an independent or an autoregressive (MADE) output over the 88 keys.

    Lesson: 08_polyphony

    h_t is the LSTM's output, or with `skip` the LSTM's output and the frame it just read side by side (a
    shortcut for "this key sounded a moment ago", which the recurrence would otherwise have to carry).

    Inputs: "previous", (batch, steps, 88), frames 0 … T − 2; for the autoregressive output also "current",
    (batch, steps, 88), frames 1 … T − 1, the frame being predicted (teacher forcing: the masks make sure
    key k only ever sees keys below it). Output: (batch, steps, 88), p(key sounds in frame t + 1).

    Independent:     p_k = σ(w_k · h_t + b_k)
    Autoregressive:  a   = relu(W_in^M x_t+1 + V h_t + c)           (hidden units, each seeing some lower keys)
                     p_k = σ(w_k · h_t + b_k + (W_out^M a)_k + (D^M x_t+1)_k)   (M: masked, see `made_masks`)
    """
    if output not in ("independent", "autoregressive"):
        raise ValueError(f"output must be 'independent' or 'autoregressive', not {output!r}")
    quiet_tensorflow()
    import keras

    previous = keras.Input((None, KEYS), name="previous")
    inputs = {"previous": previous}
    h = keras.layers.Dropout(input_dropout, name="input_dropout")(previous)
    for layer in range(lstm_layers):
        h = keras.layers.LSTM(lstm_units, return_sequences=True, name=f"lstm_{layer + 1}")(h)
        h = keras.layers.Dropout(dropout, name=f"dropout_{layer + 1}")(h)
    if skip:
        h = keras.layers.Concatenate(name="summary")([h, previous])
    else:
        h = keras.layers.Identity(name="summary")(h)
    logits = keras.layers.Dense(KEYS, name="from_past")(h)
    if output == "autoregressive":
        masked = _keras_objects()["MaskedDense"]
        current = inputs["current"] = keras.Input((None, KEYS), name="current")
        hidden = keras.layers.Add(name="made_hidden_sum")(
            [
                masked(made_hidden, "to_hidden", made_hidden, name="made_in")(current),
                keras.layers.Dense(made_hidden, use_bias=False, name="made_from_past")(h),
            ]
        )
        hidden = keras.layers.Activation("relu", name="made_hidden")(hidden)
        logits = keras.layers.Add(name="logits")(
            [
                logits,
                masked(KEYS, "to_output", made_hidden, use_bias=False, name="made_out")(hidden),
                masked(KEYS, "direct", made_hidden, use_bias=False, name="made_direct")(current),
            ]
        )
    probabilities = keras.layers.Activation("sigmoid", name="p_key")(logits)
    return keras.Model(inputs, probabilities, name=f"{output}_frame_model")


def is_autoregressive(model):
    """True if the model has the MADE output (it takes the frame being predicted as a second input).

    Lesson: 08_polyphony
    """
    return "current" in model.input


def pad_pieces(pieces, multiple=16):
    """Pieces as one batch: (inputs, targets, weights), padded with silence to a multiple of `multiple` steps.

    Lesson: 08_polyphony

    inputs[i, t] is frame t of piece i and targets[i, t] its frame t + 1; weights is 1 where a target is real.
    """
    steps = max(len(p) for p in pieces) - 1
    steps = -(-steps // multiple) * multiple
    inputs = np.zeros((len(pieces), steps, KEYS), np.float32)
    targets, weights = np.zeros_like(inputs), np.zeros((len(pieces), steps), np.float32)
    for row, piece in enumerate(pieces):
        inputs[row, : len(piece) - 1], targets[row, : len(piece) - 1] = piece[:-1], piece[1:]
        weights[row, : len(piece) - 1] = 1
    return inputs, targets, weights


def keras_predict(model, pieces, batch_size=64):
    """`score_split`'s predict for a Keras frame model: probabilities with teacher forcing, predicted frames.

    Lesson: 08_polyphony

    For the independent model a key is predicted on when p > 0.5. For the autoregressive model the predicted
    frame is decoded key by key, lowest first, each key on when its p > 0.5 given the keys already decoded.
    """
    results = []
    if is_autoregressive(model):  # built once: the sampler copies the weights, the summary model wraps the LSTM
        import keras

        sampler = FrameSampler(model)
        summary = keras.Model(model.input["previous"], model.get_layer("summary").output)
    for start in range(0, len(pieces), batch_size):
        batch = pieces[start : start + batch_size]
        inputs, probabilities = _run(model, batch)
        if is_autoregressive(model):
            predicted = sampler.decode(np.asarray(summary(inputs, training=False)), greedy=True)
        else:
            predicted = probabilities > 0.5
        results += [(probabilities[row, : len(p) - 1], predicted[row, : len(p) - 1]) for row, p in enumerate(batch)]
    return results


def model_inputs(model, inputs, targets):
    """What a frame model is fed: the past frames, and for the MADE output also the frames it predicts.

    Lesson: 08_polyphony
    """
    return {"previous": inputs, "current": targets} if is_autoregressive(model) else {"previous": inputs}


def _run(model, pieces):
    """(padded inputs, probabilities) for pieces in one batch, the true frames fed in where the model takes them."""
    inputs, targets, _ = pad_pieces(pieces)
    return inputs, np.asarray(model(model_inputs(model, inputs, targets), training=False))


def augment_pieces(pieces, semitones):
    """Every piece transposed by each shift in `semitones` (0 keeps the original); shifts off the piano skipped.

    Lesson: 08_polyphony
    """
    moved = (transpose_frames(p, s) for p in pieces for s in semitones)
    return [p for p in moved if p is not None]


def train_frame_model(
    split,
    output="autoregressive",
    epochs=200,
    batch_size=8,
    learning_rate=2e-3,
    augment=(0,),
    patience=8,
    decay_patience=3,
    max_seconds=None,
    verbose=0,
    seed=0,
    **architecture,
):
    """Train a frame model on a split's training pieces; keep the weights that scored best on validation.

    Lesson: 08_polyphony

    Args:
        split: a `FrameSplit`.
        output: 'independent' or 'autoregressive'.
        augment: transpositions of the training pieces in semitones, e.g. range(-3, 4); (0,) means none.
        patience: stop after this many epochs without a better validation NLL.
        decay_patience: halve the learning rate after this many epochs without one (and again after as many more).
        max_seconds: stop after the first epoch that ends past this budget (None: no budget).
        architecture: passed to `build_frame_model`.

    Returns:
        (model, history {'loss', 'val_nll'} per epoch, training seconds).
    """
    quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    model = build_frame_model(output, **architecture)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=5.0), loss=_keras_objects()["frame_nll_loss"])
    train = augment_pieces(split.pieces["train"], augment)
    valid = split.pieces["valid"]
    rng = np.random.default_rng(seed)
    history, best, best_weights, waited = {"loss": [], "val_nll": []}, np.inf, None, 0
    started = time.perf_counter()
    for epoch in range(epochs):
        losses = []
        # Pieces of similar length share a batch, so little of each batch is padding; batches come in random order.
        order = np.argsort([len(p) + rng.random() * 8 for p in train])
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        for index in rng.permutation(len(batches)):
            inputs, targets, weights = pad_pieces([train[i] for i in batches[index]])
            loss = model.train_on_batch(model_inputs(model, inputs, targets), targets, sample_weight=weights)
            losses.append(float(np.asarray(loss).ravel()[0]) * weights.size / weights.sum())
        val = score_split(lambda pieces: _probabilities_only(model, pieces), valid)["nll"]
        history["loss"].append(float(np.mean(losses)))
        history["val_nll"].append(val)
        if verbose:
            print(
                f"epoch {epoch + 1:>3}: train {history['loss'][-1]:.3f}  valid NLL {val:.3f}  "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        if val < best:
            best, best_weights, waited = val, model.get_weights(), 0
        else:
            waited += 1
            if waited % decay_patience == 0:  # smaller steps once progress stalls: the valley is narrow
                model.optimizer.learning_rate.assign(float(model.optimizer.learning_rate) / 2)
        if waited >= patience or (max_seconds is not None and time.perf_counter() - started > max_seconds):
            break
    model.set_weights(best_weights)
    return model, history, time.perf_counter() - started


def _probabilities_only(model, pieces):
    """Like `keras_predict`, without decoding predicted frames (validation during training needs only the NLL)."""
    _, probabilities = _run(model, pieces)
    return [(probabilities[row, : len(p) - 1], probabilities[row, : len(p) - 1] > 0.5) for row, p in enumerate(pieces)]


# ------------------------------------------------------------------------------------------------------ sampling
class FrameSampler:
    """A trained frame model run in numpy, frame by frame and (for the MADE output) key by key.

    Lesson: 08_polyphony

    The LSTM is lesson 04's `equations.lstm_step` with the model's own weights; the output layers are the
    equations of `build_frame_model`. Dropout does nothing once a model is trained, so it is left out.
    """

    def __init__(self, model):
        def weights(name):
            return [np.asarray(w, np.float64) for w in model.get_layer(name).get_weights()]

        self.lstms = [weights(layer.name) for layer in model.layers if layer.name.startswith("lstm_")]
        self.past_kernel, self.past_bias = weights("from_past")
        self.skip = type(model.get_layer("summary")).__name__ == "Concatenate"
        self.autoregressive = is_autoregressive(model)
        if self.autoregressive:
            hidden = model.get_layer("made_in").units
            to_hidden, to_output, direct = made_masks(KEYS, hidden)
            kernel, bias = weights("made_in")
            self.in_kernel, self.in_bias = kernel * to_hidden, bias
            (self.hidden_from_past,) = weights("made_from_past")
            self.out_kernel = weights("made_out")[0] * to_output
            self.direct_kernel = weights("made_direct")[0] * direct

    def hidden_states(self, frames):
        """h_t after each of the given frames, (T, units): the network's summary of the music so far."""
        frames = np.asarray(frames, np.float64)
        h = frames
        for kernel, recurrent_kernel, bias in self.lstms:
            h = equations.lstm(h, kernel, recurrent_kernel, bias)
        return np.concatenate([h, frames], axis=-1) if self.skip else h

    def probabilities(self, h, frame):
        """p(key sounds) for every key given h and, for the MADE output, the frame's lower keys (teacher forcing)."""
        logits = equations.dense(h, self.past_kernel, self.past_bias)
        if self.autoregressive:
            frame = np.asarray(frame, np.float64)
            hidden = equations.relu(frame @ self.in_kernel + self.in_bias + h @ self.hidden_from_past)
            logits = logits + hidden @ self.out_kernel + frame @ self.direct_kernel
        return equations.sigmoid(logits)

    def decode(self, h, greedy=False, rng=None):
        """Frames chosen from hidden states h (..., units): keys sampled (or, greedy, on when p > 0.5).

        For the MADE output the keys are chosen lowest first, each from p(x_k | x_<k, h), which is what makes a
        sample a chord the model believes in rather than a mixture of several.
        """
        h = np.asarray(h, np.float64)
        context = equations.dense(h, self.past_kernel, self.past_bias)
        draw = (lambda p: p > 0.5) if greedy else (lambda p: rng.random(p.shape) < p)
        if not self.autoregressive:
            return draw(equations.sigmoid(context)).astype(np.uint8)
        frame = np.zeros(h.shape[:-1] + (KEYS,))
        pre_hidden = self.in_bias + h @ self.hidden_from_past
        for k in range(KEYS):
            logit = (
                context[..., k] + equations.relu(pre_hidden) @ self.out_kernel[:, k] + frame @ self.direct_kernel[:, k]
            )
            frame[..., k] = draw(equations.sigmoid(logit))
            pre_hidden = pre_hidden + frame[..., k : k + 1] * self.in_kernel[k]
        return frame.astype(np.uint8)

    def sample(self, seed_frames, steps, seed=0, greedy=False):
        """Continue `seed_frames` (T, 88) by `steps` frames; return the seed and the continuation, (T + steps, 88)."""
        rng = np.random.default_rng(seed)
        frames = [np.asarray(f, np.uint8) for f in seed_frames]
        if not frames:
            raise ShapeError("A continuation needs at least one seed frame to start from.")
        states = [(np.zeros(k[1].shape[0]), np.zeros(k[1].shape[0])) for k in self.lstms]
        for t in range(len(frames) + steps - 1):
            h = frames[t].astype(np.float64)
            for index, (kernel, recurrent_kernel, bias) in enumerate(self.lstms):
                h, c = equations.lstm_step(h, *states[index], kernel, recurrent_kernel, bias)
                states[index] = (h, c)
            if t + 1 >= len(frames):
                summary = np.concatenate([h, frames[t]]) if self.skip else h
                frames.append(self.decode(summary, greedy=greedy, rng=rng))
        return np.array(frames, np.uint8)


# ----------------------------------------------------------------------------------------------- saving, scores
MODEL_FILE, METRICS_FILE = "frames.keras", "metrics.json"


def save_frame_model(model, metrics, directory):
    """Write a frame model (.keras) and its metrics (JSON) into a folder; return the folder.

    Lesson: 08_polyphony
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL_FILE)
    (directory / METRICS_FILE).write_text(json.dumps(metrics, indent=1) + "\n")
    return directory


def load_frame_model(directory):
    """Load a frame model saved by `save_frame_model` (Keras safe mode); return (model, metrics).

    Lesson: 08_polyphony

    Raises:
        ModelFileError: the folder or model is missing or damaged.
    """
    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise ModelFileError(f"No frame model at '{path}': train one with `train_frame_model` and save it first.")
    quiet_tensorflow()
    import keras

    _keras_objects()
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # a damaged zip, a truncated file or a foreign format all end here
        raise ModelFileError(f"'{path}' is not a readable frame model ({type(error).__name__}: {error}).") from error
    metrics_path = Path(directory) / METRICS_FILE
    return model, json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}


def chord_statistics(frames):
    """How chorale-like a run of frames is: {'four_notes': share of frames with exactly 4 keys down,
    'in_key': share of sounding frames whose notes all belong to C major or C harmonic minor, 'mean_notes'}.

    Lesson: 08_polyphony
    """
    frames = np.asarray(frames).astype(bool)
    counts = frames.sum(axis=1)
    scales = [{0, 2, 4, 5, 7, 9, 11}, {0, 2, 3, 5, 7, 8, 11}]
    sounding = [set((np.flatnonzero(f) + LOWEST_MIDI) % 12) for f in frames if f.any()]
    in_key = [any(classes <= scale for scale in scales) for classes in sounding]
    return {
        "four_notes": float(np.mean(counts == 4)),
        "in_key": float(np.mean(in_key)) if in_key else 0.0,
        "mean_notes": float(counts.mean()),
    }


def frames_to_score(frames):
    """A two-staff music21 score of frames, for `render_score`: the lower half of each chord (tenor and bass) on
    the bass staff, the upper half (soprano and alto) on the treble staff.

    Lesson: 08_polyphony

    Splitting by place in the chord rather than at middle C keeps each voice on one staff wherever it lies.
    """
    import music21

    from .display import notes_to_stream

    frames = np.asarray(frames)
    staves = np.zeros((2,) + frames.shape, np.uint8)  # [treble, bass]
    for t, frame in enumerate(frames):
        keys = np.flatnonzero(frame)
        staves[1, t, keys[: len(keys) // 2]] = 1
        staves[0, t, keys[len(keys) // 2 :]] = 1
    score = music21.stream.Score()
    for clef, staff in zip((music21.clef.TrebleClef(), music21.clef.BassClef()), staves):
        part = music21.stream.Part()
        part.insert(0, clef)
        notes = frames_to_notes(staff)
        if notes:
            for element in notes_to_stream(notes).notesAndRests:
                part.insert(element.offset, element)
        else:
            part.insert(0, music21.note.Rest(quarterLength=len(frames)))
        score.insert(0, part)
    return score


def _shift_to_c(piece):
    """Semitones that take a melody-corpus piece's tonic to C: that corpus moved minor keys to A minor instead."""
    tonic = ((0 if piece.mode == "major" else 9) - piece.transposition) % 12
    return transposition_to_c(tonic, "major")


def _chorale_frame_lists(job):
    name, semitones = job
    return frame_to_list(chorale_frames(load_chorale(name), semitones))


def _voice_name(part):
    name = str(part.partName or part.id or "").strip().lower()
    return any(voice in name for voice in ("soprano", "alto", "tenor", "bass"))


def _read_frames_cache(path, source):
    try:
        data = json.loads(path.read_text())
        return data["pieces"] if data["source"] == source else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
