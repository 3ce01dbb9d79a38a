"""Splits by tune: train, valid and test, so that no held-out piece shares a tune with training.

Two leaks make a melody model look better than it is. Cutting windows first and splitting them second puts
overlapping copies of the same music on both sides; and because Bach harmonised many chorale tunes more than
once, even a split by piece puts the same tune in training and test. So pieces are grouped by tune (a
fingerprint of their opening pitches, after key normalisation) and each group goes to one split, whole.

Lesson: 02_preprocessing
"""

import hashlib

import numpy as np

from musegen_lessons.errors import ChoiceError
from musegen_lessons.music.encoding import SPECIAL_TOKENS, tokens_of

SPLITS = ("train", "valid", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
FINGERPRINT_PITCHES = 10


def tune_fingerprint(tokens, pitches=FINGERPRINT_PITCHES):
    """The first `pitches` pitches of a melody, rhythm ignored: two harmonisations of one tune share it.

    Lesson: 02_preprocessing

    Example:
        >>> tune_fingerprint([60, 'HOLD', 62, 'REST', 64], pitches=2)
        (60, 62)
    """
    return tuple(int(t) for t in tokens if t not in SPECIAL_TOKENS)[:pitches]


def group_by_tune(pieces, pitches=FINGERPRINT_PITCHES):
    """Group pieces whose melodies open with the same pitches. Returns {fingerprint: [piece index, ...]}.

    Lesson: 02_preprocessing
    """
    groups = {}
    for index, piece in enumerate(pieces):
        groups.setdefault(tune_fingerprint(tokens_of(piece), pitches), []).append(index)
    return groups


def split_by_tune(pieces, fractions=DEFAULT_FRACTIONS, seed=0, pitches=FINGERPRINT_PITCHES):
    """Split pieces into train, valid and test so that no tune is in two splits. Returns {split: [index, ...]}.

    Lesson: 02_preprocessing

    Tune groups are put in an order fixed by a hash of their fingerprint and the seed (so the split does not
    depend on the order the pieces were loaded in), then each group goes to the split furthest below its share.
    """
    return _split_groups(list(group_by_tune(pieces, pitches).items()), len(pieces), fractions, seed)


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
