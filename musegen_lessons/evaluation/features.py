"""Is it music? Objective features of melodies, each a number or a histogram computed from one melody.

- `pitch_class_histogram`: how long each of the 12 pitch classes sounds, as shares (duration-weighted);
- `pitch_range` (highest − lowest MIDI pitch) and `distinct_pitches`;
- `interval_histogram` (melodic intervals −12 … +12 semitones, larger ones clipped) and `mean_abs_interval`;
- `note_length_histogram`: shares of notes lasting 1 … 16 steps (longer ones counted as 16);
- `scale_consistency`: the largest share of notes inside one of the 24 major and natural-minor scales;
- `hold_ratio`: the share of HOLD tokens;
- `bar_similarity`: the mean share of equal tokens over all pairs of whole bars, cut at the melody's own bar lines
  (`whole_bars`; a melody is a `Melody`, which knows its metre and upbeat, or a token list, taken as 4/4 from a
  downbeat).

`SET_ASIDE` holds two features that cannot tell real music from random tokens on the chorales, `rest_ratio` and
`repetition` (the share of bars that repeat an earlier bar exactly); lesson 07 shows why. How a whole set of
melodies is compared with another, feature by feature, is `comparison`.

Lesson: 07_evaluation
"""

import numpy as np

from musegen_lessons.errors import MelodyError
from musegen_lessons.music.encoding import HOLD, REST, excerpt, tokens_of, tokens_to_notes
from musegen_lessons.music.melody import Melody

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor
MAX_INTERVAL = 12
MAX_NOTE_STEPS = 16


def _notes(melody):
    """Notes as (pitch, start step, length in steps); MelodyError when there are none."""
    notes = [(p, round(s * 4), round((e - s) * 4)) for p, s, e in tokens_to_notes(excerpt(_non_empty(melody), 0))]
    if not notes:
        raise MelodyError("The melody has no notes (only rests): pitch features are undefined.")
    return notes


def pitch_class_histogram(melody):
    """Shares of the total sounding time spent on each pitch class C … B: a 12-vector summing to 1.

    Lesson: 07_evaluation
    """
    histogram = np.zeros(12)
    for pitch, _, length in _notes(melody):
        histogram[pitch % 12] += length
    return histogram / histogram.sum()


def pitch_range(melody):
    """Highest minus lowest MIDI pitch, in semitones (0 for a single note).

    Lesson: 07_evaluation
    """
    pitches = [p for p, _, _ in _notes(melody)]
    return float(max(pitches) - min(pitches))


def distinct_pitches(melody):
    """How many different MIDI pitches the melody uses.

    Lesson: 07_evaluation
    """
    return float(len({p for p, _, _ in _notes(melody)}))


def intervals(melody):
    """The melodic intervals between consecutive notes, in semitones (empty for a single note).

    Lesson: 07_evaluation
    """
    pitches = np.array([p for p, _, _ in _notes(melody)])
    return np.diff(pitches)


def interval_histogram(melody):
    """Shares of the intervals −12 … +12 (25 bins; larger leaps counted in the end bins). All zero for one note.

    Lesson: 07_evaluation
    """
    steps = np.clip(intervals(melody), -MAX_INTERVAL, MAX_INTERVAL)
    histogram = np.bincount(steps + MAX_INTERVAL, minlength=2 * MAX_INTERVAL + 1).astype(float)
    return histogram / histogram.sum() if histogram.sum() else histogram


def mean_abs_interval(melody):
    """The mean size of a melodic step, in semitones (0 for a single note).

    Lesson: 07_evaluation
    """
    steps = intervals(melody)
    return float(np.abs(steps).mean()) if len(steps) else 0.0


def note_length_histogram(melody):
    """Shares of notes lasting 1 … 16 steps (a 16-vector; index 3 is a quarter note, longer notes count as 16).

    Lesson: 07_evaluation
    """
    lengths = np.clip([length for _, _, length in _notes(melody)], 1, MAX_NOTE_STEPS)
    histogram = np.bincount(np.asarray(lengths) - 1, minlength=MAX_NOTE_STEPS).astype(float)
    return histogram / histogram.sum()


def scale_consistency(melody):
    """The largest share of notes whose pitch class lies in one of the 24 major and natural-minor scales.

    Lesson: 07_evaluation
    """
    classes = np.array([p % 12 for p, _, _ in _notes(melody)])
    best = 0.0
    for tonic in range(12):
        for scale in (MAJOR_SCALE, MINOR_SCALE):
            best = max(best, float(np.isin(classes, [(tonic + degree) % 12 for degree in scale]).mean()))
    return best


def rest_ratio(melody):
    """The share of steps that are REST.

    Lesson: 07_evaluation
    """
    return _share(melody, REST)


def hold_ratio(melody):
    """The share of steps that are HOLD.

    Lesson: 07_evaluation
    """
    return _share(melody, HOLD)


def repetition(melody):
    """The share of whole bars that repeat an earlier bar exactly, cut at the melody's own bar lines.

    A melody of two bars played twice, A B A B, has repetition 2 / 4 = 0.5. Not one of `FEATURES`: in eight bars
    of a chorale an exact repeat is rare, so random tokens, which never repeat, score like Bach
    (`SET_ASIDE`).

    Lesson: 07_evaluation
    """
    bars = whole_bars(melody)
    seen, repeated = set(), 0
    for bar in bars:
        repeated += bar in seen
        seen.add(bar)
    return repeated / len(bars) if bars else 0.0


def bar_similarity(melody):
    """The mean share of equal tokens over all pairs of whole bars: 1 when every bar is the same (0 for one bar).

    The bars are cut at the melody's own bar lines (`Melody.bar_steps`, `Melody.pickup_steps`): the upbeat and
    an unfinished last bar are left out.

    Lesson: 07_evaluation
    """
    bars = np.array(whole_bars(melody), dtype=object)
    if len(bars) < 2:
        return 0.0
    scores = [np.mean([a == b for a, b in zip(bars[i], bars[j])]) for i in range(len(bars)) for j in range(i)]
    return float(np.mean(scores))


FEATURES = {
    "pitch class histogram": pitch_class_histogram,
    "pitch range": pitch_range,
    "distinct pitches": distinct_pitches,
    "interval histogram": interval_histogram,
    "mean |interval|": mean_abs_interval,
    "note length histogram": note_length_histogram,
    "scale consistency": scale_consistency,
    "hold ratio": hold_ratio,
    "bar similarity": bar_similarity,
}

# Features that look natural but cannot tell real music from random tokens here: on them random tokens come within reach
# of the model's closeness to the held-out chorales (lesson 07), so they would only pull every set's mean together.
SET_ASIDE = {
    "rest ratio": rest_ratio,
    "repetition": repetition,
}


def describe_melody(melody, features=None):
    """Every feature of one melody (a `Melody`, or tokens of a 4/4 melody from a downbeat): {name: number or
    histogram}, for `FEATURES` or the features given.

    Lesson: 07_evaluation
    """
    return {name: feature(melody) for name, feature in (features or FEATURES).items()}


def _non_empty(melody):
    tokens = tokens_of(melody)
    if not tokens:
        raise MelodyError("The melody is empty: there is nothing to measure.")
    return tokens


def _share(melody, token):
    tokens = _non_empty(melody)
    return sum(t == token for t in tokens) / len(tokens)


def whole_bars(melody):
    """The whole bars of a melody, cut at its bar lines; a token list is a 4/4 melody that starts on a downbeat."""
    tokens = _non_empty(melody)
    if not isinstance(melody, Melody):
        melody = Melody(tokens)
    size = melody.bar_steps
    first = -melody.pickup_steps % size  # the first bar line
    return [tuple(tokens[i : i + size]) for i in range(first, len(tokens) - size + 1, size)]


# --- the sets compared ---------------------------------------------------------------------------------------------
