"""The benchmark's yardstick: the frame negative log-likelihood, frame accuracy, the published table, and how
chorale-like a run of sampled frames is.

Every model is scored as the literature scores the JSB Chorales benchmark (Boulanger-Lewandowski et al. 2012):
every frame after the first, predicted from the frames before it, the Bernoulli negative log-likelihood summed
over the 88 keys, averaged over all scored frames of the split.

Lesson: 08_polyphony
"""

import numpy as np

from musegen_lessons.errors import ShapeError
from musegen_lessons.music.encoding import PIANO_KEYS, PIANO_LOW

EPSILON = 1e-7  # probabilities are kept in [ε, 1 − ε], so a confident mistake costs ln(1/ε) ≈ 16 nats, not infinity

# Published test NLL (nats per frame) on the JSB quarter-note split, lower is better.
PUBLISHED = (
    ("uniform, p = 0.5", 61.00, "88 ln 2"),
    ("tanh RNN", 9.10, "Chung et al. 2014, Table 2"),
    ("LSTM", 8.67, "Chung et al. 2014, Table 2"),
    ("GRU", 8.54, "Chung et al. 2014, Table 2"),
    ("LSTM, re-run by Bai et al.", 8.45, "Bai et al. 2018, Table 1"),
    ("GRU, re-run by Bai et al.", 8.43, "Bai et al. 2018, Table 1"),
    ("TCN", 8.10, "Bai et al. 2018, Table 1"),
    ("RNN-NADE", 5.56, "Boulanger-Lewandowski et al. 2012"),
)


def frame_nll(probabilities, frames):
    """The negative log-likelihood of each frame in nats: −Σ_k [x_k ln p_k + (1 − x_k) ln(1 − p_k)].

    Lesson: 08_polyphony

    Args:
        probabilities, frames: arrays of the same shape (..., 88): p(key sounds), and what sounded (0/1).
    Returns:
        an array of shape (...): one NLL per frame.
    """
    p, x = np.asarray(probabilities, np.float64), np.asarray(frames, np.float64)
    if p.shape != x.shape or p.shape[-1:] != (PIANO_KEYS,):
        raise ShapeError(
            f"probabilities {p.shape} and frames {x.shape} must have the same shape, ending in {PIANO_KEYS}."
        )
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(axis=-1)


def frame_accuracy(predicted, frames):
    """Frame-level accuracy of Bay et al. (2009): TP / (TP + FP + FN), counted over all frames together.

    Lesson: 08_polyphony

    Keys that are silent in both count for nothing, so predicting silence everywhere scores 0, not 95%.
    """
    predicted, frames = np.asarray(predicted).astype(bool), np.asarray(frames).astype(bool)
    if predicted.shape != frames.shape:
        raise ShapeError(f"predicted {predicted.shape} and true frames {frames.shape} must have the same shape.")
    tp = np.sum(predicted & frames)
    wrong = np.sum(predicted != frames)
    return float(tp / (tp + wrong)) if tp + wrong else 1.0


def score_split(predict, pieces):
    """Score a model on whole pieces as the benchmark does: {'nll', 'accuracy', 'frames'}.

    Lesson: 08_polyphony

    Args:
        predict: a function from a list of pieces (each (T, 88)) to a list of (probabilities, predicted frames),
            each (T − 1, 88), for frames 1 … T − 1 of each piece, every frame from the frames before it.
        pieces: the pieces of one split.
    Returns:
        nll: the mean frame NLL over all scored frames of all pieces (weighted by frames, not by piece);
        accuracy: `frame_accuracy` over the same frames.
    """
    results = predict(list(pieces))
    probabilities = np.concatenate([r[0] for r in results])
    predicted = np.concatenate([r[1] for r in results])
    targets = np.concatenate([np.asarray(p)[1:] for p in pieces])
    return {
        "nll": float(frame_nll(probabilities, targets).mean()),
        "accuracy": frame_accuracy(predicted, targets),
        "frames": len(targets),
    }


def chord_statistics(frames):
    """How chorale-like a run of frames is: {'four_notes': share of frames with exactly 4 keys down,
    'in_key': share of sounding frames whose notes all belong to C major or C harmonic minor, 'mean_notes'}.

    Lesson: 08_polyphony
    """
    frames = np.asarray(frames).astype(bool)
    counts = frames.sum(axis=1)
    scales = [{0, 2, 4, 5, 7, 9, 11}, {0, 2, 3, 5, 7, 8, 11}]
    sounding = [set((np.flatnonzero(f) + PIANO_LOW) % 12) for f in frames if f.any()]
    in_key = [any(classes <= scale for scale in scales) for classes in sounding]
    return {
        "four_notes": float(np.mean(counts == 4)),
        "in_key": float(np.mean(in_key)) if in_key else 0.0,
        "mean_notes": float(counts.mean()),
    }
