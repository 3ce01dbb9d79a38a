"""Does a model copy, or collapse? Measures of a set of samples against the music the model trained on.

- **Copying**: `longest_shared_runs`, the longest stretch of tokens a melody shares, verbatim, with any training
  melody, and which one that is (lesson 07: features cannot see a model that recites its training data; this can);
  for fragments of one length, `nearest_fragments` (the Hamming distance to the closest training fragment) and
  `copy_rate`.
- **Collapse**: `count_distinct` and `most_common_share`, how varied the samples are.

`measure_samples` gives every figure of lesson 11's table (and lesson 12's) for one set of fragments.

Lesson: 07_evaluation (the longest shared run); 11_gan (fragments, collapse and copies)
"""

from collections import Counter

import numpy as np

from musegen_lessons.errors import MelodyError
from musegen_lessons.evaluation.comparison import compare_sets
from musegen_lessons.music.encoding import HOLD, REST, tokens_of


def count_distinct(fragments):
    """How many different fragments there are among `fragments` (token lists or arrays of token numbers).

    Lesson: 11_gan
    """
    return len({tuple(f) for f in _as_rows(fragments)})


def most_common_share(fragments):
    """The share of the fragments taken by the single most frequent one: near 1 when a generator has collapsed.

    Lesson: 11_gan
    """
    rows = [tuple(f) for f in _as_rows(fragments)]
    return Counter(rows).most_common(1)[0][1] / len(rows)


def nearest_fragments(samples, training, chunk=256):
    """For every sample, its nearest training fragment by Hamming distance (the number of steps that differ).

    Lesson: 11_gan

    Args:
        samples, training: fragments of one length, as token lists (encoded alike) or arrays of token numbers.

    Returns:
        (distances, indices): int arrays, one entry per sample; a distance of 0 is an exact copy.
    """
    samples, training = _encoded(samples), _encoded(training)
    if samples.shape[1:] != training.shape[1:]:
        raise MelodyError(
            f"Samples of {samples.shape[1]} steps cannot be compared with fragments of {training.shape[1]} steps."
        )
    distances, indices = [], []
    for start in range(0, len(samples), chunk):
        differ = (samples[start : start + chunk, None, :] != training[None, :, :]).sum(axis=2)
        indices.append(differ.argmin(axis=1))
        distances.append(differ.min(axis=1))
    return np.concatenate(distances), np.concatenate(indices)


def copy_rate(samples, training):
    """The share of samples that are exactly some training fragment.

    Lesson: 11_gan
    """
    distances, _ = nearest_fragments(samples, training)
    return float(np.mean(distances == 0))


def measure_samples(samples, training, training_melodies, held_out=None, seconds=None):
    """Every figure of lesson 11's table for one set of fragments (token lists), as a dict.

    Lesson: 11_gan

    - collapse: 'distinct' fragments (of 'count') and the 'most_common_share';
    - copying: the 'mean_nearest_distance' (steps that differ from the nearest training fragment), the 'copy_rate'
      (the share identical to a training fragment), and lesson 07's measure, the longest run shared with any
      training melody: its mean ('mean_longest_run') and the share of samples found whole in a training melody
      ('verbatim_rate', a copy wherever it falls, not only at a bar line);
    - closeness: lesson 07's mean overlapping area and KL divergence against the `held_out` fragments, over
      `features.FEATURES` ('mean_overlap', 'mean_kl'), of the fragments that hold a note; 'silent_share' is the
      share that holds none. Without `held_out` (the held-out fragments themselves, which it would compare with
      themselves) both are None.
    """

    distances, _ = nearest_fragments(samples, training)
    runs = np.array([length for length, _, _ in longest_shared_runs(samples, training_melodies)])
    steps = len(samples[0])
    # a fragment of rests has no pitch features: it is counted ('silent_share'), and left out of the closeness
    sounding = [s for s in samples if any(t not in (HOLD, REST) for t in s)]
    figures = {
        "count": len(samples),
        "distinct": count_distinct(samples),
        "most_common_share": round(most_common_share(samples), 4),
        "mean_nearest_distance": round(float(distances.mean()), 3),
        "copy_rate": round(float(np.mean(distances == 0)), 4),
        "mean_longest_run": round(float(runs.mean()), 2),
        "verbatim_rate": round(float(np.mean(runs == steps)), 4),
        "silent_share": round(1 - len(sounding) / len(samples), 4),
        "mean_overlap": None,
        "mean_kl": None,
    }
    if held_out is not None and sounding:
        closeness = compare_sets(sounding, held_out)
        figures["mean_overlap"] = round(float(np.mean([r["overlap"] for r in closeness.values()])), 4)
        figures["mean_kl"] = round(float(np.mean([r["kl"] for r in closeness.values()])), 4)
    if seconds is not None:
        figures["train_seconds"] = round(seconds, 1)
    return figures


def _as_rows(fragments):
    rows = [tuple(np.asarray(f).tolist()) if isinstance(f, np.ndarray) else tuple(f) for f in fragments]
    if not rows:
        raise MelodyError("There are no fragments to count.")
    return rows


def _encoded(fragments):
    """Fragments as one int array (fragments, steps): token numbers as they are, tokens mapped to numbers (REST −1,
    HOLD −2, a pitch its MIDI number), so that two sets compare alike whether or not a vocabulary encoded them."""
    rows = _as_rows(fragments)
    if len({len(r) for r in rows}) != 1:
        raise MelodyError("Fragments of different lengths cannot be compared step by step.")
    mapping = {REST: -1, HOLD: -2}
    return np.array([[mapping.get(t, t) for t in r] for r in rows], dtype=np.int64)


def longest_shared_runs(melodies, training):
    """For every melody, the longest run of consecutive tokens it shares exactly with any one training melody.

    Lesson: 07_evaluation

    The longest common substring, by dynamic programming over all training tokens at once: after melody step i,
    `run[j]` is the length of the shared run that ends at melody step i and training token j, which is one more
    than `run[j - 1]` was after step i − 1 where the two tokens are equal, and 0 where they differ.

    Returns:
        [(length in steps, index of the training melody it is shared with, step of the melody where the run
        starts)], the index and the step None when not one token is shared.
    """
    training = [_as_numbers(t) for t in training]
    if not training:
        raise MelodyError("Looking for copies needs at least one training melody.")
    # one long array, a separator (never a token) between melodies so that no run crosses from one into the next
    joined = np.concatenate([np.append(t, _SEPARATOR) for t in training])
    owner = np.repeat(np.arange(len(training)), [len(t) + 1 for t in training])
    results = []
    for melody in melodies:
        run = np.zeros(len(joined), np.int32)
        best, where, start = 0, None, None
        for step, token in enumerate(_as_numbers(melody)):
            run[1:] = np.where(joined[1:] == token, run[:-1] + 1, 0)
            run[0] = int(joined[0] == token)
            end = int(run.argmax())
            if run[end] > best:
                best, where, start = int(run[end]), int(owner[end]), step - int(run[end]) + 1
        results.append((best, where, start))
    return results


_SEPARATOR = -3


def _as_numbers(melody):
    """A melody's tokens as integers, REST −1 and HOLD −2, so that numpy can compare them all at once."""
    return np.array([-1 if t == REST else -2 if t == HOLD else int(t) for t in tokens_of(melody)], np.int64)
