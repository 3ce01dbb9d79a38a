"""Checks of the exercises in lesson 01_representation.

Lesson: 01_representation
"""

import numpy as np

from musegen_lessons.corpora.bundled import load_chorale, melody_notes, soprano_part
from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise, expect_equal
from musegen_lessons.music.encoding import PIANO_KEYS, notes_to_piano_roll, notes_to_tokens, tokens_to_notes
from musegen_lessons.music.notation import midi_to_frequency, name_to_midi


@exercise(
    "01.1",
    "my_midi_to_frequency",
    "MIDI number to frequency",
    references=("musegen_lessons.music.notation.midi_to_frequency", "pretty_midi.note_number_to_hz"),
    setup=NUMPY,
)
def check_midi_to_frequency(fn):
    for midi in [69, 81, 57, 60, 21, 108, 70]:
        expect_equal(fn, (midi,), midi_to_frequency(midi), "Each semitone multiplies the frequency by 2**(1/12).")
    return "A4 = 440 Hz, A5 = 880 Hz, and middle C is 261.63 Hz."


@exercise(
    "01.2",
    "my_name_to_midi",
    "pitch name to MIDI number",
    references=("musegen_lessons.music.notation.name_to_midi", "pretty_midi.note_name_to_number"),
    setup=NUMPY,
)
def check_name_to_midi(fn):
    names = ["C4", "A4", "C#4", "Db4", "B3", "G2", "F#5", "Bb1", "A0", "C8", "E#4", "Cb4", "C-1"]
    for name in names:
        expect_equal(fn, (name,), name_to_midi(name), "C4 is 60; the octave number changes at C, not at A.")
    return "C#4 and Db4 are both 61: two names, one key."


@exercise(
    "01.3",
    "my_notes_to_tokens",
    "melody to tokens",
    references=("musegen_lessons.music.encoding.notes_to_tokens",),
    setup=NUMPY,
)
def check_notes_to_tokens(fn):
    cases = [
        [(60, 0, 1)],
        [(60, 0, 0.5), (62, 0.5, 1.5)],
        [(67, 1, 2)],
        [(60, 0, 1), (64, 2, 2.25)],
    ]
    for notes in cases:
        expect_equal(fn, (notes,), notes_to_tokens(notes), "A silence before or between notes is REST.")
    soprano = melody_notes(soprano_part(load_chorale()))
    expected = notes_to_tokens(soprano)
    got = call(fn, soprano)
    if list(got) != expected:
        step = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
        raise CheckFailed(
            f"On the soprano of bwv66.6 ({len(expected)} steps expected, {len(got)} returned) the first "
            f"difference is at step {step}: expected {expected[step : step + 4]}, got {list(got)[step : step + 4]}."
        )
    return f"the soprano of bwv66.6 is {len(expected)} tokens, {sum(t == 'HOLD' for t in expected)} of them HOLD."


@exercise(
    "01.4",
    "my_tokens_to_piano_roll",
    "tokens to piano roll",
    setup=NUMPY,
    references=("musegen_lessons.music.encoding.notes_to_piano_roll",),
)
def check_tokens_to_piano_roll(fn):
    cases = [
        [60, "HOLD", "REST", 62],
        ["REST", 69, "HOLD", "HOLD", 69],
        [21, 108, "HOLD"],
        notes_to_tokens(melody_notes(soprano_part(load_chorale()))),
    ]
    for tokens in cases:
        expected = notes_to_piano_roll(tokens_to_notes(tokens), steps=len(tokens))
        got = np.asarray(call(fn, tokens))
        if got.shape != (len(tokens), PIANO_KEYS):
            raise CheckFailed(
                f"For {len(tokens)} tokens the piano roll has shape ({len(tokens)}, {PIANO_KEYS}): one row per "
                f"step, one column per key from MIDI 21 (A0). Yours has shape {got.shape}."
            )
        wrong = np.argwhere((got > 0) != (expected > 0))
        if len(wrong):
            step, key = wrong[0]
            raise CheckFailed(
                f"For tokens {tokens[:8]}{' ...' if len(tokens) > 8 else ''} step {step}, column {key} "
                f"(MIDI {21 + key}) should be {int(expected[step, key])}. Column k is MIDI pitch 21 + k, and a "
                "HOLD keeps the previous key down."
            )
    return "each row lights the key that sounds at that step."
