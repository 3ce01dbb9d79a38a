"""Pitch names, MIDI numbers, frequencies and 16th-note steps (musegen_lessons.music.notation)."""

import math

import pytest

from musegen_lessons.errors import NotationError
from musegen_lessons.music.notation import (
    frequency_to_midi,
    midi_to_frequency,
    midi_to_name,
    name_to_midi,
    quarters_to_steps,
    steps_to_quarters,
)

# --- names and numbers -------------------------------------------------------------------------------------------


def test_middle_c_is_60():
    assert name_to_midi("C4") == 60


def test_concert_a_is_69():
    assert name_to_midi("A4") == 69


def test_sharp_raises_a_semitone():
    assert name_to_midi("F#3") == name_to_midi("F3") + 1 == 54


def test_flat_lowers_a_semitone():
    assert name_to_midi("Bb2") == name_to_midi("B2") - 1 == 46


def test_double_sharp_and_double_flat_move_two_semitones():
    assert name_to_midi("C##4") == 62
    assert name_to_midi("Dbb4") == 60


def test_b_sharp_3_is_the_same_key_as_c4():
    assert name_to_midi("B#3") == name_to_midi("C4") == 60


def test_c_flat_4_is_the_same_key_as_b3():
    assert name_to_midi("Cb4") == name_to_midi("B3") == 59


def test_enharmonic_spellings_share_a_number():
    assert name_to_midi("C#4") == name_to_midi("Db4") == 61
    assert name_to_midi("E#4") == name_to_midi("F4") == 65


def test_unicode_accidentals_match_ascii_ones():
    assert name_to_midi("F♯3") == name_to_midi("F#3")
    assert name_to_midi("B♭2") == name_to_midi("Bb2")


def test_lowest_and_highest_midi_names():
    assert name_to_midi("C-1") == 0
    assert name_to_midi("G9") == 127


def test_lowercase_letter_and_surrounding_spaces_are_accepted():
    assert name_to_midi("  c4 ") == 60


def test_number_to_name_spells_with_sharps():
    assert [midi_to_name(m) for m in (60, 61, 69, 70, 21, 108)] == ["C4", "C#4", "A4", "A#4", "A0", "C8"]


def test_name_round_trips_through_number_for_all_midi_numbers():
    assert all(name_to_midi(midi_to_name(m)) == m for m in range(128))


@pytest.mark.parametrize("name", ["G#9", "A9", "B#9", "Cb-1", "C-2"])
def test_name_outside_midi_range_raises_notation_error(name):
    with pytest.raises(NotationError, match="outside MIDI's range"):
        name_to_midi(name)


@pytest.mark.parametrize("name", ["", "H4", "C", "4", "middle C", "C#b4", "C4.5", None, "Do4"])
def test_garbage_name_raises_notation_error(name):
    with pytest.raises(NotationError, match="not a pitch name"):
        name_to_midi(name)


def test_notation_error_is_a_value_error():
    with pytest.raises(ValueError):
        name_to_midi("X9")


@pytest.mark.parametrize("midi", [-1, 128, 60.5, "sixty", None, True])
def test_number_that_is_not_a_midi_note_raises_notation_error(midi):
    with pytest.raises(NotationError):
        midi_to_name(midi)


def test_whole_float_is_accepted_as_midi_number():
    assert midi_to_name(60.0) == "C4"


# --- frequency ---------------------------------------------------------------------------------------------------


def test_a4_is_440_hz():
    assert midi_to_frequency(69) == pytest.approx(440.0)


def test_octave_doubles_frequency():
    assert midi_to_frequency(81) == pytest.approx(880.0)
    assert midi_to_frequency(57) == pytest.approx(220.0)


def test_middle_c_frequency():
    assert midi_to_frequency(60) == pytest.approx(261.6256, abs=1e-4)


def test_other_tuning_reference_moves_a4():
    assert midi_to_frequency(69, a4_hz=415.0) == pytest.approx(415.0)


def test_440_hz_is_a4():
    assert frequency_to_midi(440.0) == pytest.approx(69.0)


def test_frequency_to_midi_round_trips_every_midi_number():
    for midi in range(128):
        assert frequency_to_midi(midi_to_frequency(midi)) == pytest.approx(midi, abs=1e-9)


def test_quarter_tone_is_half_a_midi_number():
    assert frequency_to_midi(midi_to_frequency(69.5)) == pytest.approx(69.5)


@pytest.mark.parametrize("frequency", [0.0, -440.0, math.nan])
def test_non_positive_frequency_raises_notation_error(frequency):
    with pytest.raises(NotationError):
        frequency_to_midi(frequency)


# --- quarters and steps -------------------------------------------------------------------------------------------


def test_quarter_note_is_four_steps():
    assert quarters_to_steps(1.0) == 4


def test_durations_on_the_grid_become_whole_steps():
    assert [quarters_to_steps(q) for q in (0.25, 0.5, 1.5, 4.0, 0)] == [1, 2, 6, 16, 0]
    assert isinstance(quarters_to_steps(1.5), int)


def test_float_noise_is_tolerated_on_the_grid():
    assert quarters_to_steps(0.1 + 0.15) == 1


def test_triplet_eighth_raises_notation_error():
    with pytest.raises(NotationError, match="does not fit the grid"):
        quarters_to_steps(1 / 3)


def test_triplet_fits_a_grid_of_twelve_steps_per_quarter():
    assert quarters_to_steps(1 / 3, steps_per_quarter=12) == 4


def test_steps_to_quarters_is_the_inverse():
    assert steps_to_quarters(4) == 1.0
    assert all(steps_to_quarters(quarters_to_steps(s / 4)) == s / 4 for s in range(64))
