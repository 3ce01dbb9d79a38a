"""From cleaned melodies to training data: windows with next-token targets, each step's place in the bar,
augmentation by transposition, and tf.data pipelines, for the pieces of each split (`splits`).

Lesson: 02_preprocessing
"""

from dataclasses import dataclass

import numpy as np

from musegen_lessons.corpora.splits import DEFAULT_FRACTIONS, SPLITS, split_by_tune
from musegen_lessons.errors import MelodyError
from musegen_lessons.music.encoding import SPECIAL_TOKENS, Vocabulary, tokens_of, transpose_tokens

WINDOW_STEPS = 64  # four bars of 4/4 in 16th notes


def make_windows(ids, length=WINDOW_STEPS, stride=1):
    """Cut one sequence into windows with next-token targets: inputs ids[i:i+L], targets ids[i+1:i+L+1].

    Lesson: 02_preprocessing

    Returns:
        (inputs, targets), two int32 arrays of shape (windows, length). A sequence shorter than length + 1
        gives no windows.
    """
    ids = np.asarray(ids, dtype=np.int32)
    count = (len(ids) - length - 1) // stride + 1 if len(ids) > length else 0
    if count <= 0:
        return np.zeros((0, length), np.int32), np.zeros((0, length), np.int32)
    starts = np.arange(count) * stride
    offsets = np.arange(length)
    return ids[starts[:, None] + offsets], ids[starts[:, None] + offsets + 1]


def augment_by_transposition(melodies, semitones, vocabulary):
    """Add transposed copies of melodies, keeping only copies whose every pitch is in the vocabulary.

    Lesson: 02_preprocessing

    Args:
        melodies: token sequences (the training split only: augmenting valid or test would change the task).
        semitones: the shifts to try, e.g. range(-3, 4); 0 keeps the originals.
    """
    allowed = set(vocabulary.pitches)
    augmented = []
    for tokens in melodies:
        pitches = {t for t in tokens if t not in SPECIAL_TOKENS}
        for shift in semitones:
            if all(p + shift in allowed for p in pitches):
                augmented.append(transpose_tokens(tokens, shift) if shift else list(tokens))
    return augmented


def step_positions(piece):
    """Where every step of a piece falls in its bar: 0 on the downbeat, up to bar_steps − 1. An int32 array.

    Lesson: 05_keras_model (a model that knows the beat); 02_preprocessing (where it is stored)

    A bare token list is taken to start on a downbeat of 4/4.
    """
    tokens = tokens_of(piece)
    bar_steps, pickup = getattr(piece, "bar_steps", 16), getattr(piece, "pickup_steps", 0)
    return ((np.arange(len(tokens)) + pickup) % bar_steps).astype(np.int32)


@dataclass
class MelodyDataset:
    """Everything a melody model trains on: the vocabulary, the pieces of each split, and their windows.

    Lesson: 02_preprocessing

    `windows[split]` is (inputs, targets) and `positions[split]` the position in the bar of every input step,
    window for window (transposition does not move the beat, so augmented copies share their original's).
    """

    vocabulary: Vocabulary
    pieces: dict  # split -> list of Piece
    windows: dict  # split -> (inputs, targets)
    positions: dict  # split -> positions in the bar, shaped like inputs
    window_steps: int
    augment: tuple

    def summary(self):
        rows = [f"{'split':<6}{'pieces':>8}{'tokens':>10}{'windows':>10}"]
        for split in SPLITS:
            tokens = sum(len(p.tokens) for p in self.pieces[split])
            rows.append(f"{split:<6}{len(self.pieces[split]):>8}{tokens:>10,}{len(self.windows[split][0]):>10,}")
        return "\n".join(rows)

    def sequences(self, split):
        """The windows of a split as plain runs of window_steps + 1 token ids, (windows, window_steps + 1): the
        inputs with the last target after them, before anything says which token is to be predicted from which.

        Lesson: 05_keras_model (exercise 05.4 makes the inputs and targets from these)
        """
        inputs, targets = self.windows[split]
        return np.concatenate([inputs, targets[:, -1:]], axis=1)


def build_dataset(
    pieces,
    window_steps=WINDOW_STEPS,
    stride=1,
    augment=(),
    fractions=DEFAULT_FRACTIONS,
    seed=0,
    vocabulary=None,
    split=split_by_tune,
):
    """Split pieces by tune, build the vocabulary, and cut every split into windows.

    Lesson: 02_preprocessing

    The vocabulary covers every pitch from the lowest to the highest of all pieces, so that a transposed
    training melody and every held-out melody can be encoded; it says nothing about which notes follow which.

    Args:
        pieces: `cleaning.Piece` objects (or token lists).
        window_steps: window length in 16th-note steps.
        stride: steps between the starts of two windows of the training split (valid and test always use a
            stride of `window_steps // 4`, so their windows overlap less and are scored faster).
        augment: semitone shifts for the training split only, e.g. range(-3, 4); () for none.
        vocabulary: encode with this vocabulary instead (another corpus's, for a model trained on both, as
            lesson 10 pretrains on the folk songs in the chorales' vocabulary); every pitch must be in it.
        split: the function that splits the pieces (`splits.split_by_tune`; another only to measure a leak).

    Raises:
        MelodyError: no pieces, or a piece with a pitch outside the given vocabulary.
    """
    pieces = list(pieces)
    if not pieces:
        raise MelodyError("There are no pieces to build a dataset from.")
    all_pitches = [t for p in pieces for t in tokens_of(p) if t not in SPECIAL_TOKENS]
    if vocabulary is None:
        vocabulary = Vocabulary(range(min(all_pitches), max(all_pitches) + 1))
    elif not set(all_pitches) <= set(vocabulary.pitches):
        outside = sorted(set(all_pitches) - set(vocabulary.pitches))
        raise MelodyError(f"The pieces use pitches {outside} that the given vocabulary does not hold.")
    indices = split(pieces, fractions, seed)
    by_split = {name: [pieces[i] for i in indices[name]] for name in SPLITS}
    return dataset_from_splits(by_split, vocabulary, window_steps, stride, augment)


def dataset_from_splits(by_split, vocabulary, window_steps=WINDOW_STEPS, stride=1, augment=()):
    """Cut pieces already split ({'train': [...], 'valid': [...], 'test': [...]}) into windows of a vocabulary's ids.

    Lesson: 02_preprocessing (`build_dataset` splits by tune first); 05_keras_model (the folds of the published
    protocol, `literature`)
    """
    windows, positions = {}, {}
    for name in SPLITS:
        melodies = [(tokens_of(p), step_positions(p)) for p in by_split[name]]
        if name == "train" and augment:
            melodies = [
                (copy, beats)
                for tokens, beats in melodies
                for copy in augment_by_transposition([tokens], augment, vocabulary)
            ]
        step = stride if name == "train" else max(window_steps // 4, 1)
        cut = [
            (make_windows(vocabulary.encode(tokens), window_steps, step), make_windows(beats, window_steps, step)[0])
            for tokens, beats in melodies
        ]
        empty = np.zeros((0, window_steps), np.int32)
        windows[name] = (_stack([c[0][0] for c in cut], empty), _stack([c[0][1] for c in cut], empty))
        positions[name] = _stack([c[1] for c in cut], empty)
    return MelodyDataset(vocabulary, dict(by_split), windows, positions, window_steps, tuple(augment))


def make_tf_dataset(inputs, targets, batch_size=64, shuffle=True, seed=0, positions=None):
    """A tf.data pipeline over windows: shuffle (training only), batch, and prefetch the next batch.

    Lesson: 02_preprocessing

    With `positions`, each example's features are {"tokens": inputs, "positions": positions}, the two inputs of
    the lesson 05 model.
    """
    import tensorflow as tf

    features = inputs if positions is None else {"tokens": inputs, "positions": positions}
    data = tf.data.Dataset.from_tensor_slices((features, targets))
    if shuffle:
        data = data.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _stack(arrays, empty):
    return np.concatenate(arrays) if arrays else empty
