"""The published table, on its own protocol: the chorale melodies BWV 253–438, ten folds, bits per note.

Pearce (2005, *The construction and evaluation of statistical models of melodic structure*, ch. 4, 6) measures
models of melody on 185 chorale melodies harmonised by Bach (BWV 253 to 438, his Dataset 2, 9,227 notes): each
model is trained on nine tenths of the melodies and predicts the pitch of every note of the tenth, from the notes
before it in its melody, ten times; the score is the cross entropy, the mean of −log₂ p(pitch) over the predicted
notes, in bits per note. His models and Conklin & Witten's (1995) are the field's reference for this task, so the
course measures its own models on the same protocol to stand beside their figures.

What the course reads: the soprano of each of music21's chorales BWV 253–438, ties joined, in its own key (not
transposed to C), rests skipped. A note is an onset; grace notes are left out; so is a note that starts within the
same 16th-note step as the one before it (two 32nd notes in BWV 432), so that the networks, which read the melody on
a 16th-note grid, predict exactly the notes the PPM models predict.

Lesson: 05_keras_model (the published table)
"""

import json
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .baselines import PPM, combine_distributions, predict_sequence
from .corpus import (
    Piece,
    _bar_position,
    _title,
    analyze_key,
    cache_dir,
    cache_lock,
    chorale_names,
    load_chorale,
    parallel_map,
    score_notes,
    soprano_part,
    write_json,
)
from .dataset import dataset_from_splits, group_by_tune
from .encoding import SPECIAL_TOKENS, Vocabulary, notes_to_tokens, transpose_tokens, validate_tokens
from .errors import ChoiceError, MelodyError
from .melody import transposition_to_c
from .notation import parse_key

FIRST_BWV, LAST_BWV = 253, 438
FOLD_COUNT = 10
FOLDS_PATH = Path(__file__).resolve().parent.parent / "data" / "literature" / "chorale-folds.json"
CACHE_FORMAT = 1  # bump when what a cached melody holds changes
PEARCE_MELODIES, PEARCE_NOTES = 185, 9227  # Pearce (2005), Table 4.1, Dataset 2
AUGMENT = range(-5, 7)  # the twelve keys: the melodies are in their own keys here, so every key is worth learning

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
# settings for `baselines.PPM`; all of them combine the two by the weighted arithmetic mean with bias 2.
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


@dataclass
class ProtocolCorpus:
    """The melodies of the protocol, their pitch alphabet, and what was left out of them.

    Lesson: 05_keras_model
    """

    pieces: list  # corpus.Piece, in their own keys (transposition 0), in BWV order
    dropped_notes: dict  # reason -> [(piece id, quarter), ...]

    @property
    def alphabet(self):
        """Every pitch any melody uses, low to high: the symbols the models predict (Pearce's 21 for his set)."""
        return sorted({p for piece in self.pieces for p in melody_pitches(piece)})

    @property
    def notes(self):
        return sum(len(melody_pitches(p)) for p in self.pieces)

    def report(self):
        """A few lines: melodies and notes against Pearce's, and every note left out."""
        lines = [
            f"{len(self.pieces)} melodies (Pearce: {PEARCE_MELODIES}), {self.notes:,} notes (Pearce: {PEARCE_NOTES:,}),"
            f" {len(self.alphabet)} pitches"
        ]
        for reason, where in self.dropped_notes.items():
            places = ", ".join(f"{piece} at quarter {quarter:g}" for piece, quarter in where)
            lines.append(f"  left out: {len(where)} {reason} ({places})")
        return "\n".join(lines)


def protocol_chorale_names():
    """music21's chorales BWV 253 to 438 ('bach/bwv253', ...), in BWV order.

    Lesson: 05_keras_model
    """
    numbered = []
    for name in chorale_names():
        match = re.fullmatch(r"bach/bwv(\d+)(?:\.(\d+))?", name)
        if match and FIRST_BWV <= int(match.group(1)) <= LAST_BWV:
            numbered.append(((int(match.group(1)), int(match.group(2) or 0)), name))
    return [name for _, name in sorted(numbered)]


def load_protocol_melodies(cache=True, progress=True):
    """The protocol's melodies (`ProtocolCorpus`), read from music21's corpus once and then cached as JSON.

    Lesson: 05_keras_model
    """
    import music21

    source = {"format": CACHE_FORMAT, "music21": music21.__version__}
    path = cache_dir() / "literature-chorales.json"
    with cache_lock(path):
        cached = read_protocol_cache(path, source) if cache else None
        if cached is not None:
            return cached
        results = parallel_map(_extract_melody, protocol_chorale_names(), progress, desc="reading BWV 253-438")
        pieces, dropped = [piece for piece, _ in results], {}
        for _, left_out in results:
            for reason, where in left_out.items():
                dropped.setdefault(reason, []).extend(where)
        if cache:
            write_json(path, {"source": source, "pieces": [asdict(p) for p in pieces], "dropped_notes": dropped})
        return ProtocolCorpus(pieces, dropped)


def read_protocol_cache(path, source):
    """The cached `ProtocolCorpus`, or None when the file is missing, made by another version, or damaged (then it
    says so, and the caller reads the corpus again).

    Lesson: 05_keras_model
    """
    if not Path(path).is_file():
        return None
    try:
        data = json.loads(Path(path).read_text())
        if data["source"] != source:
            return None
        pieces = [Piece(**p) for p in data["pieces"]]
        for piece in pieces:  # JSON of the right shape can still hold nonsense: checked, not trusted
            validate_tokens(piece.tokens)
        return ProtocolCorpus(pieces, {k: [tuple(w) for w in v] for k, v in data["dropped_notes"].items()})
    except (ValueError, KeyError, TypeError) as error:
        print(f"The cache {path} is damaged ({type(error).__name__}); reading the chorales again.")
        return None


GRACE_NOTES = "grace notes"
SAME_STEP = "notes starting in the same 16th-note step as the note before"


def _extract_melody(name):
    """(Piece in its own key, {reason: [(id, quarter), ...]}) for one chorale's soprano."""
    score = load_chorale(name)
    part = soprano_part(score)
    left_out, notes = {}, []
    for element in part.stripTies().flatten().notes:
        start = float(element.offset)
        if element.duration.isGrace or element.quarterLength == 0:
            left_out.setdefault(GRACE_NOTES, []).append((name, start))
            continue
        step = int(np.floor(start * 4 + 1e-6))
        if notes and step <= notes[-1][1]:
            left_out.setdefault(SAME_STEP, []).append((name, start))
            continue
        if notes:  # the previous note ends where this one starts, at the latest
            notes[-1][2] = min(notes[-1][2], step)
        end = max(step + 1, int(round((start + float(element.quarterLength)) * 4)))
        notes.append([max(p.midi for p in element.pitches), step, end])
    tokens = notes_to_tokens([(pitch, start / 4, end / 4) for pitch, start, end in notes])
    bar_steps, pickup_steps, meter = _bar_position(part)
    key = analyze_key(score_notes(score))
    return Piece(name, "chorales", _title(score, name), key, 0, meter, bar_steps, pickup_steps, tokens), left_out


def melody_pitches(piece):
    """The pitch of every note of a piece, in order, as written (before any transposition): the sequence the models
    predict.

    Lesson: 05_keras_model
    """
    return [t - piece.transposition for t in piece.tokens if t not in SPECIAL_TOKENS]


def key_normalise(piece):
    """The piece moved to C major or A minor by its key (`corpus.analyze_key`), with the shift in `transposition`.

    Lesson: 05_keras_model

    A model may be told the key, as Pearce's viewpoints are told the tonic by the key signature: the pitches it
    predicts are moved back, so its bits per note are for the notes as written.
    """
    shift = transposition_to_c(*parse_key(piece.key))
    return replace(piece, tokens=transpose_tokens(piece.tokens, shift), transposition=piece.transposition + shift)


def make_folds(ids, folds=FOLD_COUNT, seed=0):
    """Deal piece ids into `folds` folds at random (a seeded shuffle), as evenly as they go: [[id, ...], ...].

    Lesson: 05_keras_model
    """
    ids = list(ids)
    if not 2 <= folds <= len(ids):
        raise ChoiceError(f"Cross-validation needs 2 to {len(ids)} folds of these {len(ids)} pieces, not {folds}.")
    order = np.random.default_rng(seed).permutation(len(ids))
    return [[ids[i] for i in sorted(order[f::folds])] for f in range(folds)]


def save_folds(folds, path=FOLDS_PATH, seed=0):
    """Write the folds as JSON (`load_folds` reads them back). Returns the path.

    Lesson: 05_keras_model
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"protocol": "Pearce 2005, Dataset 2: chorale melodies BWV 253-438", "seed": seed, "folds": folds}
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def load_folds(pieces, path=FOLDS_PATH):
    """The saved folds, checked against the pieces: every piece in exactly one fold.

    Lesson: 05_keras_model

    Raises:
        MelodyError: the file is missing or damaged, or its folds do not hold exactly these pieces.
    """
    path = Path(path)
    try:
        folds = json.loads(path.read_text())["folds"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MelodyError(
            f"The folds of the protocol could not be read from {path} ({type(error).__name__}). They come with the "
            "course in data/literature/; restore the file (git checkout data/literature) rather than making new ones, "
            "so that every model is measured on the same folds."
        ) from None
    ids = [piece.id for piece in pieces]
    dealt = [i for fold in folds for i in fold]
    if sorted(dealt) != sorted(ids):
        missing, extra = sorted(set(ids) - set(dealt)), sorted(set(dealt) - set(ids))
        raise MelodyError(
            f"The saved folds do not hold exactly the protocol's {len(ids)} melodies (missing {missing[:3]}, "
            f"unknown {extra[:3]}, {len(dealt)} dealt): they were made for another corpus."
        )
    return folds


def tunes_across_folds(corpus, folds):
    """The ids of the melodies whose tune (`dataset.group_by_tune`, in C major or A minor) is also the tune of a
    melody in another fold: when such a melody is tested, the model has learned its tune.

    Lesson: 05_keras_model

    The published protocol deals melodies, not tunes, into folds; lesson 02 splits by tune so that this cannot happen.
    """
    fold_of = {piece_id: f for f, fold in enumerate(folds) for piece_id in fold}
    pieces = [key_normalise(p) for p in corpus.pieces]
    shared = []
    for members in group_by_tune(pieces).values():
        ids = [pieces[i].id for i in members]
        shared += [i for i in ids if any(fold_of[j] != fold_of[i] for j in ids)]
    return sorted(shared)


def split_fold(pieces, folds, test_fold):
    """(training pieces, test pieces) for one fold: the test fold against the other nine.

    Lesson: 05_keras_model
    """
    if not 0 <= test_fold < len(folds):
        raise ChoiceError(f"There are {len(folds)} folds, numbered 0 to {len(folds) - 1}, not {test_fold}.")
    test_ids = set(folds[test_fold])
    return [p for p in pieces if p.id not in test_ids], [p for p in pieces if p.id in test_ids]


def bits_per_note(probabilities):
    """Cross entropy: the mean of −log₂ p over the probabilities given to the notes that came.

    Lesson: 05_keras_model
    """
    return float(-np.mean(np.log2(np.asarray(probabilities, dtype=float))))


def score_ppm(corpus, folds, ltm=None, stm=None, learn=True, bias=2, combination="arithmetic", only_folds=None):
    """Cross-validate a PPM system on the protocol: for each fold, train the long-term model on the other folds and
    predict every note of the fold's melodies.

    Lesson: 05_keras_model

    Args:
        ltm, stm: `baselines.PPM` settings ({'order': None, 'escape': 'c', ...}) for the long- and short-term model,
            or None to leave that model out.
        learn: the long-term model learns each test note once predicted (Pearce's LTM+).
        only_folds: score only these folds (quick mode); None scores all.

    Returns:
        {'bits': mean over every note predicted, 'folds': bits of each fold, 'notes', 'seconds'}.
    """
    alphabet = corpus.alphabet
    index = {pitch: i for i, pitch in enumerate(alphabet)}
    started, per_fold, every = time.perf_counter(), [], []
    for fold in range(len(folds)) if only_folds is None else only_folds:
        train, test = split_fold(corpus.pieces, folds, fold)
        long_term = None
        if ltm is not None:
            long_term = PPM(len(alphabet), **ltm).fit([[index[p] for p in melody_pitches(x)] for x in train])
        probabilities = []
        for piece in test:
            sequence = [index[p] for p in melody_pitches(piece)]
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


def protocol_vocabulary(corpus, margin=(-6, 6)):
    """The networks' vocabulary for the protocol: REST, HOLD and every pitch from the lowest to the highest, widened
    by `margin` semitones so that every melody can be moved to C major or A minor (`key_normalise`), or into any of
    the twelve keys (`AUGMENT`).

    Lesson: 05_keras_model
    """
    return Vocabulary(range(corpus.alphabet[0] + margin[0], corpus.alphabet[-1] + margin[1] + 1))


def fold_dataset(corpus, folds, test_fold, window_steps=64, stride=4, augment=(), in_c=False):
    """A `dataset.MelodyDataset` for a network on one fold: the test fold is 'test', the fold after it is 'valid'
    (watched for early stopping only), and the other eight are 'train'. `augment`: semitone shifts of the training
    melodies (`dataset.augment_by_transposition`); `in_c`: every melody moved to C major or A minor (`key_normalise`).

    Lesson: 05_keras_model
    """
    train, test = split_fold([key_normalise(p) for p in corpus.pieces] if in_c else corpus.pieces, folds, test_fold)
    valid_ids = set(folds[(test_fold + 1) % len(folds)])
    by_split = {
        "train": [p for p in train if p.id not in valid_ids],
        "valid": [p for p in train if p.id in valid_ids],
        "test": test,
    }
    return dataset_from_splits(by_split, protocol_vocabulary(corpus), window_steps, stride, augment)


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
    from .training import predict_pieces

    result = []
    for piece, rows in zip(pieces, predict_pieces(model, pieces, vocabulary)):
        columns = vocabulary.encode([pitch + piece.transposition for pitch in alphabet])
        steps = [step for step, token in enumerate(piece.tokens) if token not in SPECIAL_TOKENS]
        over_pitches = np.array([rows[step - 1][columns] if step else first_notes for step in steps], dtype=float)
        result.append(over_pitches / over_pitches.sum(axis=1, keepdims=True))
    return result


def add_short_term_model(distributions, pieces, alphabet, stm=None, bias=2, combination="arithmetic"):
    """Combine each note's distribution from a long-term model (a network) with a short-term PPM model's, which
    learns each piece as it is predicted, as IDyOM combines its LTM and STM (`baselines.combine_distributions`).

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
