"""Finding the key of some music, as music21's `analyze("key")` finds it, without its per-piece cost: the
Krumhansl–Schmuckler method with the Aarden–Essen profiles.

Lesson: 02_preprocessing
"""

from functools import lru_cache

from musegen_lessons.errors import MelodyError


def analyze_key(notes):
    """The key of some music, found as music21's `analyze("key")` finds it: 'F# minor'.

    Lesson: 02_preprocessing

    The Krumhansl–Schmuckler method with the Aarden–Essen profiles (music21's default): add up how long each of
    the 12 pitch classes sounds, correlate that with each profile turned to each of the 12 tonics, and take the key
    whose correlation is highest. This is music21's arithmetic, step for step, without the 24 music21 Key objects
    it builds for every piece, which made key finding the slowest part of reading the corpus.

    Args:
        notes: (pitch, start, end) in quarter notes, any number of voices (see `score_notes`).

    Raises:
        MelodyError: there are no notes, so there is no key to find.
    """
    durations = [0.0] * 12
    count = 0
    for note in notes:
        durations[int(note[0]) % 12] += note[2] - note[1]
        count += 1
    if not count:
        raise MelodyError("There are no notes, so there is no key to find.")
    best = max(
        (_correlation(durations, profile, tonic), tonic, mode == "minor")
        for mode, profile in _key_profiles().items()
        for tonic in range(12)
    )
    return _key_names()[best[1], "minor" if best[2] else "major"]


def _correlation(durations, profile, tonic):
    """Pearson's correlation of pitch-class durations with a key profile turned to a tonic, in music21's order of
    arithmetic (`KeyWeightKeyAnalysis._getDifference`), so that near-ties between keys fall the same way."""
    weights = [profile[(j - tonic) % 12] for j in range(12)]
    profile_mean, duration_mean = sum(profile) / 12, sum(durations) / 12
    top = spread_profile = spread_durations = 0.0
    for weight, duration in zip(weights, durations):
        top += (weight - profile_mean) * (duration - duration_mean)
        spread_profile += (weight - profile_mean) ** 2
        spread_durations += (duration - duration_mean) ** 2
    if spread_profile == 0 or spread_durations == 0:
        return 0.0
    return float(top / ((spread_profile * spread_durations) ** 0.5))


@lru_cache(maxsize=1)
def _key_profiles():
    """music21's Aarden–Essen key profiles, {'major': 12 weights, 'minor': 12 weights}, tonic first."""
    from music21.analysis.discrete import AardenEssen

    return {mode: AardenEssen().getWeights(mode) for mode in ("major", "minor")}


@lru_cache(maxsize=1)
def _key_names():
    """{(tonic pitch class, mode): name} spelt as music21 spells the keys it finds ('Eb major', 'G# minor')."""
    from music21 import pitch
    from music21.analysis.discrete import KeyWeightKeyAnalysis

    names = {}
    for mode, valid in (("major", KeyWeightKeyAnalysis.keysValidMajor), ("minor", KeyWeightKeyAnalysis.keysValidMinor)):
        for tonic in range(12):
            spelt = pitch.Pitch(tonic)
            if spelt.name not in valid:
                spelt = spelt.getEnharmonic()
            names[tonic, mode] = f"{spelt.name.replace('-', 'b')} {mode}"
    return names
