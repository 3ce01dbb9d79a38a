"""Checks of the exercises in lesson 02_preprocessing.

Lesson: 02_preprocessing
"""

import numpy as np

from musegen_lessons.corpora.bundled import load_chorale, score_notes, soprano_part
from musegen_lessons.corpora.cleaning import clean_melody
from musegen_lessons.corpora.dataset import make_windows
from musegen_lessons.corpora.splits import tune_fingerprint
from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise, expect_equal
from musegen_lessons.music.encoding import Vocabulary, transpose_tokens
from musegen_lessons.music.keys import analyze_key
from musegen_lessons.music.melody import transposition_to_c


def _real_tokens():
    """The cleaned soprano of bwv66.6, as the corpus module makes it (in A minor)."""
    score = load_chorale()
    key = analyze_key(score_notes(score))
    piece, _ = clean_melody(soprano_part(score), key, "bach/bwv66.6", "chorales", "bwv66.6")
    return piece.tokens


@exercise(
    "02.1",
    "my_move_to_c",
    "a melody moved to C major or A minor",
    references=("musegen_lessons.music.melody.transposition_to_c",),
    setup=NUMPY,
)
def check_move_to_c(fn):
    for tonic in range(12):
        for mode in ("major", "minor"):
            expect_equal(
                fn,
                ([60, "HOLD", "REST", 64], tonic, mode),
                transpose_tokens([60, "HOLD", "REST", 64], transposition_to_c(tonic, mode)),
                "Move the tonic to C (major) or A (minor), the shorter way round (-6 to +5 semitones); only pitches "
                "move, HOLD and REST stay.",
            )
    # the real soprano, in A minor as cleaned, written back in F# minor and moved home again
    tokens = _real_tokens()
    expect_equal(fn, (transpose_tokens(tokens, -3), 6, "minor"), tokens)
    return "F# minor moves up 3 semitones to A minor, and G major up 5 to C major: the shorter way round."


@exercise(
    "02.2",
    "my_make_windows",
    "windows with next-token targets",
    setup=NUMPY,
    references=("musegen_lessons.corpora.dataset.make_windows",),
)
def check_make_windows(fn):
    tokens = _real_tokens()
    ids = Vocabulary.from_melodies([tokens]).encode(tokens)
    for sequence, length in [(np.arange(10), 4), (np.arange(5), 4), (ids, 32), (ids, 64)]:
        expected = make_windows(sequence, length)
        got = call(fn, sequence, length)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise CheckFailed("Return a pair (inputs, targets) of arrays.")
        for what, mine, right in zip(("inputs", "targets"), got, expected):
            mine = np.asarray(mine)
            if mine.shape != right.shape or not np.array_equal(mine, right):
                raise CheckFailed(
                    f"For a sequence of {len(sequence)} ids and windows of {length}, the {what} have shape "
                    f"{right.shape} (one window per start 0 .. {len(sequence) - length - 1}); yours have shape "
                    f"{mine.shape}{'' if mine.shape != right.shape else ' but other values'}. Targets are the "
                    "inputs moved one step on."
                )
    return f"{len(make_windows(ids, 64)[0])} windows of 64 steps from one chorale, each target one step ahead."


@exercise(
    "02.3",
    "my_tune_fingerprint",
    "a tune's fingerprint",
    references=("musegen_lessons.corpora.splits.tune_fingerprint",),
    setup=NUMPY,
)
def check_tune_fingerprint(fn):
    cases = [[60, "HOLD", 62, "REST", 64], ["REST", 69] + ["HOLD"] * 3 + list(range(60, 75)), _real_tokens()]
    for tokens in cases:
        expect_equal(
            fn,
            (tokens,),
            tune_fingerprint(tokens),
            "Take the first 10 pitches as a tuple, skipping HOLD and REST (rhythm is ignored).",
        )
    return "two harmonisations of one tune now share a fingerprint."
