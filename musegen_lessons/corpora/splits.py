"""Splits by tune: train, valid and test, so that no held-out piece shares a tune with training.

Two leaks make a melody model look better than it is. Cutting windows first and splitting them second puts
overlapping copies of the same music on both sides; and because Bach harmonised many chorale tunes more than
once, even a split by piece puts the same tune in training and test. So pieces are grouped by tune and each
group goes to one split, whole.

Two settings of one tune are rarely note for note the same: one adds a passing note, an ornament, a different
cadence. An exact fingerprint of the opening pitches (`tune_fingerprint`) misses such pairs, so the tune is
compared as an outline (`tune_outline`: the opening pitches, a repeated note counted once) by edit distance, and
every two pieces whose outlines are within `TUNE_DISTANCE` are one tune; pieces joined through a third are one tune
too (connected components).

Lesson: 02_preprocessing
"""

import hashlib

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist
from scipy.sparse.csgraph import connected_components

from musegen_lessons.errors import ChoiceError
from musegen_lessons.music.encoding import SPECIAL_TOKENS, tokens_of

SPLITS = ("train", "valid", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
FINGERPRINT_PITCHES = 10
# 48 opening pitches: long enough that two tunes sharing a first phrase part again. A quarter of them changed
# separates the chorales' settings of one tune from different tunes; lesson 02 measures both sides of the line.
OUTLINE_PITCHES = 48
TUNE_DISTANCE = 0.25


def tune_fingerprint(tokens, pitches=FINGERPRINT_PITCHES):
    """The first `pitches` pitches of a melody, rhythm ignored: two harmonisations of one tune share it.

    Lesson: 02_preprocessing

    Example:
        >>> tune_fingerprint([60, 'HOLD', 62, 'REST', 64], pitches=2)
        (60, 62)
    """
    return tuple(int(t) for t in tokens if t not in SPECIAL_TOKENS)[:pitches]


def tune_outline(tokens, pitches=OUTLINE_PITCHES):
    """The first `pitches` pitches of a melody, a repeated note counted once: the tune, rhythm ignored.

    Lesson: 02_preprocessing

    Example:
        >>> tune_outline([60, 'HOLD', 60, 62, 'REST', 62, 64], pitches=3)
        (60, 62, 64)
    """
    played = [int(t) for t in tokens if t not in SPECIAL_TOKENS]
    return tuple(p for i, p in enumerate(played) if i == 0 or p != played[i - 1])[:pitches]


def tune_distances(pieces, pitches=OUTLINE_PITCHES):
    """The edit distance between every two pieces' outlines, as a share of the longer one: (n, n), 0 to 1.

    Lesson: 02_preprocessing

    The edit (Levenshtein) distance counts the notes to insert, delete or change to turn one outline into the
    other: a passing note more is one insertion, an ornament one or two. Example:
        >>> tune_distances([[60, 62, 64, 65], [60, 62, 63, 64, 65], [67, 65, 64, 62]])[0].round(2).tolist()
        [0.0, 0.2, 0.75]
    """
    return _outline_distances([tune_outline(tokens_of(piece), pitches) for piece in pieces])


def _outline_distances(outlines):
    return cdist(outlines, outlines, scorer=Levenshtein.normalized_distance, dtype=np.float64, workers=1)


def group_by_tune(pieces, pitches=OUTLINE_PITCHES, distance=TUNE_DISTANCE):
    """Group pieces that set one tune: outlines within `distance` of each other, directly or through other pieces.
    Returns {tune: [piece index, ...]}, a tune named by the first outline of its group in sorted order.

    Lesson: 02_preprocessing
    """
    pieces = list(pieces)
    if not pieces:
        return {}
    outlines = [tune_outline(tokens_of(piece), pitches) for piece in pieces]
    _, labels = connected_components(_outline_distances(outlines) <= distance, directed=False)
    groups = {}
    for label in np.unique(labels):
        members = [int(i) for i in np.flatnonzero(labels == label)]
        groups[min(outlines[i] for i in members)] = members
    return groups


def split_by_tune(pieces, fractions=DEFAULT_FRACTIONS, seed=0):
    """Split pieces into train, valid and test so that no tune is in two splits. Returns {split: [index, ...]}.

    Lesson: 02_preprocessing

    Tune groups (`group_by_tune`) are put in an order fixed by a hash of their name and the seed (so the split
    does not depend on the order the pieces were loaded in), then each group goes to the split furthest below its
    share.
    """
    pieces = list(pieces)
    return _split_groups(list(group_by_tune(pieces).items()), len(pieces), fractions, seed)


def split_by_fingerprint(pieces, fractions=DEFAULT_FRACTIONS, seed=0):
    """The split the course used up to version 0.2: pieces grouped by their exact `tune_fingerprint`, so that two
    settings of one tune a passing note apart can land in two splits. For measuring what that leaked only.

    Lesson: 02_preprocessing
    """
    groups = {}
    for index, piece in enumerate(pieces):
        groups.setdefault(tune_fingerprint(tokens_of(piece)), []).append(index)
    return _split_groups(list(groups.items()), len(pieces), fractions, seed)


def split_by_piece(pieces, fractions=DEFAULT_FRACTIONS, seed=0):
    """The leaky split, for comparison only: each piece on its own, so one tune can land in two splits.

    Lesson: 02_preprocessing
    """
    return _split_groups([((index,), [index]) for index in range(len(pieces))], len(pieces), fractions, seed)


def _split_groups(groups, total, fractions, seed):
    if len(fractions) != len(SPLITS) or abs(sum(fractions) - 1) > 1e-9:
        raise ChoiceError(f"fractions must be three shares of 1 (train, valid, test), not {fractions}")

    def order(item):
        return hashlib.sha256(f"{seed}:{item[0]}".encode()).hexdigest()

    split = {name: [] for name in SPLITS}
    for _, members in sorted(groups, key=order):
        deficit = [fraction * total - len(split[name]) for name, fraction in zip(SPLITS, fractions)]
        split[SPLITS[int(np.argmax(deficit))]].extend(members)
    return {name: sorted(indices) for name, indices in split.items()}
