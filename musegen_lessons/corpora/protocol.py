"""The published protocol's melodies and folds: music21's chorale melodies BWV 253–438 in their own keys, dealt
into ten folds.

Pearce (2005, *The construction and evaluation of statistical models of melodic structure*, ch. 4, 6) measures
models of melody on 185 chorale melodies harmonised by Bach (BWV 253 to 438, his Dataset 2, 9,227 notes): each
model is trained on nine tenths of the melodies and predicts the pitch of every note of the tenth, ten times.
What the course reads: the soprano of each of music21's chorales BWV 253–438, ties joined, in its own key (not
transposed to C), rests skipped. A note is an onset; grace notes are left out; so is a note that starts within the
same 16th-note step as the one before it (two 32nd notes in BWV 432), so that the networks, which read the melody
on a 16th-note grid, predict exactly the notes the PPM models predict. The folds are saved in
data/literature/; how a model is scored on them is `evaluation.literature`.

Lesson: 05_keras_model (the published table)
"""

import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from musegen_lessons.corpora.bundled import (
    bar_position,
    chorale_names,
    load_chorale,
    score_notes,
    score_title,
    soprano_part,
)
from musegen_lessons.corpora.cache import cache_dir, cache_lock, parallel_map, write_json
from musegen_lessons.corpora.cleaning import Piece
from musegen_lessons.corpora.dataset import dataset_from_splits
from musegen_lessons.corpora.splits import group_by_tune
from musegen_lessons.errors import ChoiceError, MelodyError
from musegen_lessons.lesson import DATA_DIR
from musegen_lessons.music.encoding import (
    SPECIAL_TOKENS,
    Vocabulary,
    notes_to_tokens,
    transpose_tokens,
    validate_tokens,
)
from musegen_lessons.music.keys import analyze_key
from musegen_lessons.music.melody import transposition_to_c
from musegen_lessons.music.notation import parse_key

FIRST_BWV, LAST_BWV = 253, 438
FOLD_COUNT = 10
FOLDS_PATH = DATA_DIR / "literature" / "chorale-folds.json"
CACHE_FORMAT = 1  # bump when what a cached melody holds changes
PEARCE_MELODIES, PEARCE_NOTES = 185, 9227  # Pearce (2005), Table 4.1, Dataset 2
AUGMENT = range(-5, 7)  # the twelve keys: the melodies are in their own keys here, so every key is worth learning


@dataclass
class ProtocolCorpus:
    """The melodies of the protocol, their pitch alphabet, and what was left out of them.

    Lesson: 05_keras_model
    """

    pieces: list  # cleaning.Piece, in their own keys (transposition 0), in BWV order
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
    bar_steps, pickup_steps, meter = bar_position(part)
    key = analyze_key(score_notes(score))
    return Piece(name, "chorales", score_title(score, name), key, 0, meter, bar_steps, pickup_steps, tokens), left_out


def melody_pitches(piece):
    """The pitch of every note of a piece, in order, as written (before any transposition): the sequence the models
    predict.

    Lesson: 05_keras_model
    """
    return [t - piece.transposition for t in piece.tokens if t not in SPECIAL_TOKENS]


def sounding_pitches(piece):
    """The pitch of every note of a piece as its tokens hold them: after `key_normalise`, in C major or A minor.

    Lesson: 05_keras_model
    """
    return [t for t in piece.tokens if t not in SPECIAL_TOKENS]


def key_normalise(piece):
    """The piece moved to C major or A minor by its key (`keys.analyze_key`), with the shift in `transposition`.

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
    """The ids of the melodies whose tune (`splits.group_by_tune`, in C major or A minor) is also the tune of a
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
