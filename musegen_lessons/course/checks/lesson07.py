"""Checks of the exercises in lesson 07_evaluation.

Lesson: 07_evaluation
"""

import numpy as np

from musegen_lessons.corpora.bundled import load_chorale, melody_notes, soprano_part
from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise, expect_equal, is_near
from musegen_lessons.evaluation.comparison import gaussian_kde
from musegen_lessons.evaluation.features import pitch_class_histogram, scale_consistency
from musegen_lessons.evaluation.listening import binomial_p_value
from musegen_lessons.music.encoding import notes_to_tokens


def _melodies():

    return [
        [60, "HOLD", "HOLD", "HOLD", 62, "HOLD", 64, "HOLD", "HOLD", "HOLD", "HOLD", "HOLD"],
        [67, "HOLD", "REST", 66, 65, "HOLD", "HOLD"],
        [61 + i for i in range(12)],
        notes_to_tokens(melody_notes(soprano_part(load_chorale()))),
    ]


@exercise(
    "07.1",
    "my_pitch_class_histogram",
    "a duration-weighted pitch-class histogram",
    setup=NUMPY,
    references=("musegen_lessons.evaluation.features.pitch_class_histogram",),
)
def check_pitch_class_histogram(fn):
    for tokens in _melodies():
        expected = pitch_class_histogram(tokens)
        got = np.asarray(call(fn, tokens), dtype=float)
        if got.shape != (12,) or not np.allclose(got, expected, atol=1e-9):
            raise CheckFailed(
                f"For {tokens[:8]}... the histogram is {np.round(expected, 3).tolist()}; yours is "
                f"{np.round(got, 3).tolist()}. Count each note's steps (its HOLDs too) for its pitch "
                "class, pitch % 12, then divide by the total."
            )
    return "a long note counts for its whole length."


@exercise(
    "07.2",
    "my_scale_consistency",
    "scale consistency",
    setup=NUMPY,
    references=("musegen_lessons.evaluation.features.scale_consistency",),
)
def check_scale_consistency(fn):
    for tokens in _melodies():
        expect_equal(
            fn,
            (tokens,),
            scale_consistency(tokens),
            "Try all 24 scales (12 tonics, major and natural minor); count notes, not steps.",
        )
    return "a C major scale scores 1.0, a chromatic run 7/12."


@exercise(
    "07.3",
    "my_overlapping_area",
    "overlapping area of two densities",
    setup=NUMPY,
    references=("musegen_lessons.evaluation.comparison.overlapping_area",),
)
def check_overlapping_area(fn):
    rng = np.random.default_rng(12)
    grid = np.linspace(-6, 12, 2001)
    for (mean_a, spread_a, n_a), (mean_b, spread_b, n_b) in [
        ((0, 1, 300), (0, 1, 300)),
        ((0, 1, 200), (3, 1, 200)),
        ((0, 1, 100), (8, 0.5, 100)),
    ]:
        a, b = rng.normal(mean_a, spread_a, n_a), rng.normal(mean_b, spread_b, n_b)
        p, q = gaussian_kde(a, grid), gaussian_kde(b, grid)
        expected = float(np.minimum(p, q).sum() * (grid[1] - grid[0]))
        got = call(fn, p, q, grid)
        if abs(float(got) - expected) > 1e-3:
            raise CheckFailed(
                f"For the densities of {n_a} samples of N({mean_a}, {spread_a}²) and {n_b} of N({mean_b}, "
                f"{spread_b}²) on a grid from {grid[0]:g} to {grid[-1]:g} in {len(grid)} points, the overlap is "
                f"{expected:.4f}; yours is {float(got):.4f}. Sum the smaller of the two densities at every grid "
                "point, times the grid spacing."
            )
    return "1 for the same distribution, near 0 for distributions far apart."


@exercise(
    "07.4",
    "my_binomial_p_value",
    "the binomial test of a blind listening",
    setup="import math\nimport numpy as np",
    references=("musegen_lessons.evaluation.listening.binomial_p_value",),
)
def check_binomial_p_value(fn):
    for correct, trials in [(5, 5), (0, 5), (7, 10), (10, 10), (3, 10), (12, 20), (1, 1)]:
        expected = binomial_p_value(correct, trials)
        got = call(fn, correct, trials)
        if not is_near(got, expected, 1e-9):
            raise CheckFailed(
                f"For {correct} right out of {trials}, a guesser does at least as well with probability "
                f"{expected:.6f}; yours is {got!r}. Add C(trials, j) / 2**trials for every j from correct to "
                "trials: at least as many right, not exactly as many."
            )
    return "5 of 5 right happens by luck one time in 32; 7 of 10, one time in six."
