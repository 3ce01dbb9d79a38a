"""Checks of the exercises in lesson 08_polyphony.

Lesson: 08_polyphony
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise, is_near
from musegen_lessons.families.polyphony.metric import frame_accuracy, frame_nll
from musegen_lessons.families.polyphony.models import made_masks
from musegen_lessons.music.encoding import PIANO_KEYS
from musegen_lessons.music.frames import frame_to_pitches, pitches_to_frame


def _frames_and_probabilities():
    rng = np.random.default_rng(8)
    chords = [[48, 64, 67, 72], [43, 59, 65, 74], [45, 60, 64, 69], [], [60]]
    frames = np.array([pitches_to_frame(c) for c in chords], np.uint8)
    return [
        (np.full(PIANO_KEYS, 0.5), frames[0]),
        (np.where(frames[1], 0.9, 0.01), frames[1]),
        (rng.uniform(0.01, 0.99, PIANO_KEYS), frames[2]),
        (np.full(PIANO_KEYS, 0.02), frames[3]),
        (rng.uniform(0.01, 0.99, (3, PIANO_KEYS)), frames[:3]),
    ]


@exercise(
    "08.1",
    "my_frame_nll",
    "the negative log-likelihood of a frame",
    setup=NUMPY,
    references=("musegen_lessons.families.polyphony.metric.frame_nll",),
)
def check_frame_nll(fn):
    for p, frame in _frames_and_probabilities():
        expected = frame_nll(p, frame)
        got = np.asarray(call(fn, p, frame), dtype=float)
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-6):
            raise CheckFailed(
                f"For {'frames' if frame.ndim > 1 else 'a frame'} with pitches {_pitches(frame)} sounding, the NLL is "
                f"{np.round(expected, 4).tolist()} nats; yours is {np.round(got, 4).tolist()}. Sum "
                "−ln p over the keys that sound and −ln(1 − p) over the keys that do not, along the "
                "last axis."
            )
    return "every key counts, the silent ones too: all-0.5 costs 88 ln 2 = 61.0 nats."


@exercise(
    "08.2",
    "my_frame_accuracy",
    "frame-level accuracy",
    setup=NUMPY,
    references=("musegen_lessons.families.polyphony.metric.frame_accuracy",),
)
def check_frame_accuracy(fn):
    rng = np.random.default_rng(9)
    truth = (rng.random((20, PIANO_KEYS)) < 0.05).astype(np.uint8)
    cases = {
        "the true frames themselves": truth,
        "silence everywhere": np.zeros_like(truth),
        "random keys": (rng.random((20, PIANO_KEYS)) < 0.05).astype(np.uint8),
        "the true keys and some extra ones": truth | (rng.random((20, PIANO_KEYS)) < 0.02),
    }
    for what, predicted in cases.items():
        expected, got = frame_accuracy(predicted, truth), call(fn, predicted, truth)
        if not is_near(got, expected, 1e-9):
            raise CheckFailed(
                f"With 20 frames of {int(truth.sum())} sounding keys in all, predicting {what} scores {expected:.4f}; "
                f"yours gives {got!r}. Count TP, FP and FN over all frames together, then TP / (TP + FP + FN); "
                "silent keys count for nothing."
            )
    return "predicting silence everywhere scores 0, however few keys sound."


@exercise(
    "08.3",
    "my_made_masks",
    "the masks of a MADE layer",
    setup=NUMPY,
    references=("musegen_lessons.families.polyphony.models.made_masks",),
)
def check_made_masks(fn):
    for keys, hidden in [(4, 6), (8, 12), (PIANO_KEYS, 64)]:
        expected = made_masks(keys, hidden)[:2]
        got = call(fn, keys, hidden)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed("Return two arrays: (input → hidden mask, hidden → output mask).")
        for name, mine, right in zip(("input → hidden", "hidden → output"), got, expected):
            mine = np.asarray(mine)
            if mine.shape != right.shape or not np.array_equal(mine.astype(bool), right.astype(bool)):
                raise CheckFailed(
                    f"With {keys} keys and {hidden} hidden units the {name} mask is not right "
                    f"(expected shape {right.shape}, yours {mine.shape}). Key i has degree i + 1, "
                    "hidden unit j has degree 1 + j mod (keys − 1); a unit sees key i when i + 1 ≤ m_j, "
                    "and output k sees unit j when m_j < k + 1."
                )
    return "through any path, key k's output only hears keys below k."


def _pitches(frames):
    return [frame_to_pitches(f) for f in frames] if frames.ndim > 1 else frame_to_pitches(frames)
