"""Checks of the exercises in lesson 08_polyphony: the frame NLL and accuracy, the MADE masks, and a MADE trained in
Keras, judged by the held-out NLL its weights give with the masks applied.

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


# Exercise 08.4: the MADE's size and training in the check, and the held-out frame NLL (nats) it must then beat. Each
# key on its own, as often as it sounds in training (the frequency baseline), scores about 11.0 nats on the
# validation frames; the MADE of the solution reaches about 8 in these steps.
MADE_HIDDEN, MADE_STEPS, MADE_TARGET = 128, 1500, 9.5
MADE_WEIGHTS = {"W_in": ("keys", "hidden"), "b_in": ("hidden",), "W_out": ("hidden", "keys"), "b_out": ("keys",)}
MADE_WEIGHTS["W_direct"] = ("keys", "keys")


def made_frames():
    """The benchmark's training frames and its validation frames, each (frames, 88) of 0/1 as uint8."""
    from musegen_lessons.corpora.jsb import load_frame_split

    split = load_frame_split(quick=False, progress=False)
    return tuple(np.concatenate(split.pieces[name]).astype(np.uint8) for name in ("train", "valid"))


def made_probabilities(weights, frames, hidden=MADE_HIDDEN, masked=True):
    """p(key k sounds | the keys below k) for every key of every frame, from a MADE's weights with the course's masks
    applied here (so that weights trained without them are judged as they would really be used); `masked=False`
    uses every weight, as a network trained without its masks would."""
    to_hidden, to_output, direct = made_masks(PIANO_KEYS, hidden) if masked else (1.0, 1.0, 1.0)
    frames = np.asarray(frames, np.float64)
    units = np.maximum(frames @ (weights["W_in"] * to_hidden) + weights["b_in"], 0.0)
    logits = units @ (weights["W_out"] * to_output) + weights["b_out"] + frames @ (weights["W_direct"] * direct)
    return 1.0 / (1.0 + np.exp(-logits))


@exercise(
    "08.4",
    "my_train_made",
    "a MADE in Keras: masked layers, trained",
    setup="import keras\nimport numpy as np\n\nfrom musegen_lessons.families.polyphony import models",
    references=(
        "musegen_lessons.families.polyphony.models.build_frame_model",
        "musegen_lessons.families.polyphony.models.keras_objects",
    ),
)
def check_train_made(fn):
    training, held_out = made_frames()
    weights = call(fn, training, MADE_HIDDEN, MADE_STEPS)
    sizes = {"keys": PIANO_KEYS, "hidden": MADE_HIDDEN}
    wanted = {name: tuple(sizes[axis] for axis in axes) for name, axes in MADE_WEIGHTS.items()}
    if not isinstance(weights, dict) or {k: np.shape(v) for k, v in weights.items()} != wanted:
        shown = {k: np.shape(v) for k, v in weights.items()} if isinstance(weights, dict) else type(weights).__name__
        raise CheckFailed(f"Return the weights as a dict of these shapes: {wanted}; yours: {shown}.")
    weights = {name: np.asarray(value, np.float64) for name, value in weights.items()}

    def scored(masked):
        probabilities = made_probabilities(weights, held_out, masked=masked)
        return float(np.mean(frame_nll(np.clip(probabilities, 1e-7, 1 - 1e-7), held_out)))

    nll = scored(masked=True)
    if nll > MADE_TARGET:
        if scored(masked=False) < nll / 4:
            why = (
                "Without the masks your weights score far better: the network learned to read each key from itself "
                "or from keys above it. Multiply each kernel by its mask inside the layer, in training too."
            )
        else:
            why = "Train it longer or with a larger step, with the masks applied in training."
        raise CheckFailed(
            f"On the validation frames, with the course's masks applied to your weights, the MADE scores {nll:.2f} "
            f"nats a frame; it should score below {MADE_TARGET}. {why}"
        )
    return (
        f"{nll:.2f} nats a frame on the validation frames, with the masks applied, below {MADE_TARGET}: each key "
        "predicted from the keys below it alone, and better than each key on its own."
    )
