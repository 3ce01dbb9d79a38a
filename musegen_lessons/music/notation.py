"""Pitch and time as numbers: MIDI note numbers, pitch names, frequencies and 16th-note steps.

The conventions are MIDI's and scientific pitch notation's: middle C is C4 = 60, each semitone adds one,
and concert A is A4 = 69 = 440 Hz in twelve-tone equal temperament.

Lesson: 01_representation
"""

import math
import re

from musegen_lessons.errors import NotationError

A4_MIDI = 69
A4_HZ = 440.0
STEPS_PER_QUARTER = 4  # the 16th-note grid used throughout the course

# Spelling with sharps, as music21 and pretty_midi print pitches by default.
PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_LETTER_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "##": 2, "b": -1, "bb": -2, "♯": 1, "♭": -1, "x": 2}
_NAME = re.compile(r"^\s*([A-Ga-g])(##|bb|#|b|♯|♭|x)?(-?\d+)\s*$")
# Musical keys by name ('D major', 'Eb minor') -> (tonic pitch class, mode): twelve tonics, each spelt with a sharp
# or a flat where it has a black key, in both modes.
KEYS_BY_NAME = {
    f"{name} {mode}": (pitch_class, mode)
    for pitch_class, names in enumerate(
        [
            ("C",),
            ("C#", "Db"),
            ("D",),
            ("D#", "Eb"),
            ("E",),
            ("F",),
            ("F#", "Gb"),
            ("G",),
            ("G#", "Ab"),
            ("A",),
            ("A#", "Bb"),
            ("B",),
        ]
    )
    for name in names
    for mode in ("major", "minor")
}


def name_to_midi(name):
    """Return the MIDI number of a pitch name such as 'C4', 'F#3', 'Bb2', 'Cb4' or 'E#4'.

    Lesson: 01_representation

    Accidentals move the letter's pitch, and the octave number belongs to the letter, so 'B#3' is 60 (the same
    key as C4) and 'Cb4' is 59 (the same key as B3): these are enharmonic spellings of one MIDI number.

    Raises:
        NotationError: if the name is not a letter A-G, an optional accidental and an octave number, or the
            pitch falls outside MIDI's range 0-127.
    """
    match = _NAME.match(str(name))
    if not match:
        raise NotationError(
            f"{name!r} is not a pitch name. Write a letter A-G, an optional accidental (# or b) and an "
            "octave number, for example 'C4' (middle C), 'F#3' or 'Bb2'."
        )
    letter, accidental, octave = match.groups()
    midi = 12 * (int(octave) + 1) + _LETTER_PITCH_CLASS[letter.upper()] + _ACCIDENTALS[accidental or ""]
    if not 0 <= midi <= 127:
        raise NotationError(f"{name!r} is MIDI number {midi}, outside MIDI's range 0-127 (C-1 to G9).")
    return midi


def midi_to_name(midi):
    """Return the sharp spelling of a MIDI number: 60 -> 'C4', 61 -> 'C#4', 21 -> 'A0'.

    Lesson: 01_representation

    Raises:
        NotationError: if `midi` is not a whole number in 0-127.
    """
    _check_midi(midi)
    midi = int(midi)
    return f"{PITCH_CLASS_NAMES[midi % 12]}{midi // 12 - 1}"


def parse_key(name):
    """The tonic pitch class (C = 0 … B = 11) and the mode of a musical key: 'F# minor' -> (6, 'minor').

    Lesson: 06_generation

    Raises:
        NotationError: the name is not a tonic (C, C#, Db, … B) followed by 'major' or 'minor'.
    """
    if name not in KEYS_BY_NAME:
        raise NotationError(f"Unknown key {name!r}: write a tonic and a mode, e.g. 'D major' or 'F# minor'.")
    return KEYS_BY_NAME[name]


def key_names():
    """Every key `parse_key` reads, in the order of the keyboard, sharps first: 'C major', 'C minor', 'C# major', …

    Lesson: 06_generation
    """
    return sorted(KEYS_BY_NAME, key=lambda k: (KEYS_BY_NAME[k][0], KEYS_BY_NAME[k][1] == "minor", "b" in k.split()[0]))


def midi_to_frequency(midi, a4_hz=A4_HZ):
    """Return the frequency in Hz of a MIDI number in equal temperament: f = 440 · 2^((m − 69) / 12).

    Lesson: 01_representation

    Fractional MIDI numbers are allowed (a quarter tone is 0.5), so this is also the pitch-bend formula.
    """
    return a4_hz * 2.0 ** ((float(midi) - A4_MIDI) / 12.0)


def frequency_to_midi(frequency_hz, a4_hz=A4_HZ):
    """Return the (fractional) MIDI number of a frequency: m = 69 + 12 · log2(f / 440).

    Lesson: 01_representation

    Raises:
        NotationError: if the frequency is not positive.
    """
    if not frequency_hz > 0:
        raise NotationError(f"A frequency must be above 0 Hz, not {frequency_hz!r}.")
    return A4_MIDI + 12.0 * math.log2(frequency_hz / a4_hz)


def quarters_to_steps(quarter_length, steps_per_quarter=STEPS_PER_QUARTER):
    """Return how many grid steps a duration in quarter notes lasts: a quarter is 4 sixteenth-note steps.

    Lesson: 01_representation

    Raises:
        NotationError: if the duration does not fall on the grid (a triplet eighth is 1/3 of a quarter, which
            no whole number of 16th notes can hold).
    """
    steps = float(quarter_length) * steps_per_quarter
    rounded = round(steps)
    if abs(steps - rounded) > 1e-6:
        raise NotationError(
            f"{quarter_length} quarter notes is {steps:g} steps of a 1/{steps_per_quarter}-quarter grid, not a "
            "whole number: the rhythm (a tuplet or a grace note?) does not fit the grid. Quantise it first or "
            "choose a finer grid."
        )
    return int(rounded)


def steps_to_quarters(steps, steps_per_quarter=STEPS_PER_QUARTER):
    """Return the duration in quarter notes of a number of grid steps: 4 steps of 16ths is 1.0."""
    return steps / steps_per_quarter


def _check_midi(midi):
    try:
        whole = not isinstance(midi, bool) and float(midi).is_integer() and 0 <= int(midi) <= 127
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise NotationError(f"{midi!r} is not a MIDI note number: those are whole numbers from 0 to 127.")
