"""The published table, on its own protocol: bits per note for PPM and for a network, ten folds, beside Pearce's
figures.

The score is the cross entropy, the mean of −log₂ p(pitch) over the predicted notes, in bits per note, each note
predicted from the notes before it in its melody by a model trained on the other nine folds (`corpora.protocol`).
Pearce's models and Conklin & Witten's (1995) are the field's reference for this task, so the course measures its
own models on the same protocol to stand beside their figures (`PUBLISHED`).

Lesson: 05_keras_model (the published table)
"""

import time

import numpy as np
from scipy import stats

from musegen_lessons.corpora.protocol import melody_pitches, split_fold
from musegen_lessons.evaluation.likelihood import predict_pieces
from musegen_lessons.families.ppm import PPM, combine_distributions, predict_sequence
from musegen_lessons.music.encoding import SPECIAL_TOKENS

# Figures read from Pearce (2005) for Dataset 2, and from Conklin & Witten (1995) on their own 100 chorales. An
# entry with a "system" is one that `score_ppm` measures here too, under that name (see `published_for`).
PUBLISHED = [
    {
        "model": "PPM emulating Conklin & Witten (LTM+B3 — STMB2)",
        "system": "LTM+B3 — STMB2",
        "bits": 2.676,
        "source": "Pearce 2005, Table 6.7",
    },
    {
        "model": "PPM, escape C (LTM+C3 — STMC2)",
        "system": "LTM+C3 — STMC2",
        "bits": 2.488,
        "source": "Pearce 2005, Table 6.7",
    },
    {
        "model": "PPM*, escape C (LTM+C* — STMC*)",
        "system": "LTM+C* — STMC*",
        "bits": 2.460,
        "source": "Pearce 2005, Table 6.7",
    },
    {
        "model": "PPM*, escape C, interpolated (LTM+C*I — STMC*I)",
        "system": "LTM+C*I — STMC*I",
        "bits": 2.347,
        "source": "Pearce 2005, Table 6.7",
    },
    {
        "model": "its short-term model alone",
        "system": "STMC*I alone",
        "bits": 3.139,
        "source": "Pearce 2005, Table 6.6",
    },
    {"model": "its long-term model alone", "system": "LTMC*I alone", "bits": 2.444, "source": "Pearce 2005, Table 6.6"},
    {
        "model": "its long-term model, learning the test melodies as it goes",
        "system": "LTM+C*I alone",
        "bits": 2.375,
        "source": "Pearce 2005, Table 6.6",
    },
    {"model": "multiple viewpoints, System C", "bits": 1.953, "source": "Pearce 2005, Table 7.3"},
    {"model": "multiple viewpoints, System D", "bits": 1.911, "source": "Pearce 2005, Table 9.8"},
    {
        "model": "Conklin & Witten, cpitch alone (100 other chorales)",
        "bits": 2.05,
        "source": "Conklin & Witten 1995, via Pearce 2005 §6.3.1",
    },
    {
        "model": "Conklin & Witten, best multiple viewpoints (100 other chorales)",
        "bits": 1.87,
        "source": "Conklin & Witten 1995, via Pearce 2005 §6.3.1",
    },
]


def published_for(system):
    """The published entry (model, system, bits, source) for a PPM system measured here, or None if there is none.

    Lesson: 05_keras_model
    """
    return next((entry for entry in PUBLISHED if entry.get("system") == system), None)


# The PPM systems of Pearce's Table 6.7, one change at a time from Conklin & Witten's, as (long-term, short-term)
# settings for `ppm.PPM`; all of them combine the two by the weighted arithmetic mean with bias 2.
PPM_SYSTEMS = {
    "LTM+B3 — STMB2": (
        {"order": 3, "escape": "b", "interpolated": False},
        {"order": 2, "escape": "b", "interpolated": False},
    ),
    "LTM+C3 — STMC2": (
        {"order": 3, "escape": "c", "interpolated": False},
        {"order": 2, "escape": "c", "interpolated": False},
    ),
    "LTM+C* — STMC*": (
        {"order": None, "escape": "c", "interpolated": False},
        {"order": None, "escape": "c", "interpolated": False},
    ),
    "LTM+C*I — STMC*I": (
        {"order": None, "escape": "c", "interpolated": True},
        {"order": None, "escape": "c", "interpolated": True},
    ),
}


def bits_per_note(probabilities):
    """Cross entropy: the mean of −log₂ p over the probabilities given to the notes that came.

    Lesson: 05_keras_model
    """
    return float(-np.mean(np.log2(np.asarray(probabilities, dtype=float))))


def paired_folds(folds, baseline):
    """Two systems scored on the same folds: the mean of the per-fold differences (folds − baseline, bits per note)
    with a 95% t-interval over the folds, and on how many folds the first is lower.

    Lesson: 05_keras_model

    Folds differ in how hard their melodies are far more than two good systems differ from each other, so the
    systems are compared fold by fold (a paired comparison), not by their two means.
    """
    folds, baseline = np.asarray(folds, dtype=float), np.asarray(baseline, dtype=float)
    if folds.shape != baseline.shape or folds.ndim != 1 or len(folds) < 2:
        raise ValueError("A paired comparison needs the same two or more folds for both systems.")
    differences = folds - baseline
    mean = float(differences.mean())
    half = float(stats.t.ppf(0.975, len(differences) - 1) * differences.std(ddof=1) / np.sqrt(len(differences)))
    return {
        "difference": mean,
        "interval95": [mean - half, mean + half],
        "lower_on": int((differences < 0).sum()),
        "folds": len(differences),
    }


def score_ppm(
    corpus,
    folds,
    ltm=None,
    stm=None,
    learn=True,
    bias=2,
    combination="arithmetic",
    only_folds=None,
    pitches=melody_pitches,
):
    """Cross-validate a PPM system on the protocol: for each fold, train the long-term model on the other folds and
    predict every note of the fold's melodies.

    Lesson: 05_keras_model

    Args:
        ltm, stm: `ppm.PPM` settings ({'order': None, 'escape': 'c', ...}) for the long- and short-term model,
            or None to leave that model out.
        learn: the long-term model learns each test note once predicted (Pearce's LTM+).
        only_folds: score only these folds (quick mode); None scores all.
        pitches: the sequence a melody is read as (`protocol.melody_pitches`, the notes as written; or
            `protocol.sounding_pitches`, the notes as its tokens hold them, moved to C major or A minor by
            `protocol.key_normalise`: PPM told the key, as the networks are). A melody's shift is the same for all
            its notes, so the bits per note of the two readings are comparable.

    Returns:
        {'bits': mean over every note predicted, 'folds': bits of each fold, 'notes', 'seconds'}.
    """
    alphabet = sorted({p for piece in corpus.pieces for p in pitches(piece)})
    index = {pitch: i for i, pitch in enumerate(alphabet)}
    started, per_fold, every = time.perf_counter(), [], []
    for fold in range(len(folds)) if only_folds is None else only_folds:
        train, test = split_fold(corpus.pieces, folds, fold)
        long_term = None
        if ltm is not None:
            long_term = PPM(len(alphabet), **ltm).fit([[index[p] for p in pitches(x)] for x in train])
        probabilities = []
        for piece in test:
            sequence = [index[p] for p in pitches(piece)]
            short_term = PPM(len(alphabet), **stm) if stm is not None else None
            predicted = predict_sequence(sequence, long_term, short_term, learn, bias, combination)
            probabilities.extend(predicted[np.arange(len(sequence)), sequence])
        per_fold.append(bits_per_note(probabilities))
        every.extend(probabilities)
    return {
        "bits": bits_per_note(every),
        "folds": per_fold,
        "notes": len(every),
        "seconds": time.perf_counter() - started,
    }


def first_note_distribution(pieces, alphabet):
    """How often each pitch of the alphabet begins a melody, add-one smoothed: what predicts a first note that has
    no notes before it, for a model that cannot (the networks).

    Lesson: 05_keras_model
    """
    counts = np.ones(len(alphabet))
    index = {pitch: i for i, pitch in enumerate(alphabet)}
    for piece in pieces:
        counts[index[melody_pitches(piece)[0]]] += 1
    return counts / counts.sum()


def network_pitch_distributions(model, pieces, vocabulary, alphabet, first_notes):
    """p(pitch | every token before, and that a note starts here) from a melody network, for every note of every
    piece: a list of arrays (notes, len(alphabet)), one per piece.

    Lesson: 05_keras_model

    A network on the 16th-note grid predicts a token at every step: REST, HOLD or a pitch. At a step where a note
    starts, its distribution over the alphabet's pitches, renormalised, is the distribution of the note's pitch
    given that a note starts there. A note on the very first step has no past: `first_notes` predicts it. A piece
    that was transposed (`key_normalise`) is predicted as the network reads it, and the pitches moved back.
    """

    result = []
    for piece, rows in zip(pieces, predict_pieces(model, pieces, vocabulary)):
        columns = vocabulary.encode([pitch + piece.transposition for pitch in alphabet])
        steps = [step for step, token in enumerate(piece.tokens) if token not in SPECIAL_TOKENS]
        over_pitches = np.array([rows[step - 1][columns] if step else first_notes for step in steps], dtype=float)
        result.append(over_pitches / over_pitches.sum(axis=1, keepdims=True))
    return result


def add_short_term_model(distributions, pieces, alphabet, stm=None, bias=2, combination="arithmetic"):
    """Combine each note's distribution from a long-term model (a network) with a short-term PPM model's, which
    learns each piece as it is predicted, as IDyOM combines its LTM and STM (`ppm.combine_distributions`).

    Lesson: 05_keras_model

    Returns:
        a list of arrays shaped like `distributions`.
    """
    stm = stm or {"order": None, "escape": "c", "interpolated": True}
    index = {pitch: i for i, pitch in enumerate(alphabet)}
    combined = []
    for predicted, piece in zip(distributions, pieces):
        sequence = [index[p] for p in melody_pitches(piece)]
        short_term = predict_sequence(sequence, stm=PPM(len(alphabet), **stm))
        combined.append(
            np.array([combine_distributions(pair, bias, combination) for pair in zip(predicted, short_term)])
        )
    return combined


def note_probabilities(distributions, pieces, alphabet):
    """The probability each distribution gives the pitch that came: one array for all the pieces' notes.

    Lesson: 05_keras_model
    """
    index = {pitch: i for i, pitch in enumerate(alphabet)}
    chosen = [
        d[np.arange(len(d)), [index[p] for p in melody_pitches(piece)]] for d, piece in zip(distributions, pieces)
    ]
    return np.concatenate(chosen)
