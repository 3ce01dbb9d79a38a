"""Melody tokens, the vocabulary, one-hot vectors and the piano roll (musegen_lessons.music.encoding)."""

import json

import numpy as np
import pytest

from musegen_lessons.corpora import bundled
from musegen_lessons.errors import MelodyError, NotationError
from musegen_lessons.music.encoding import (
    HOLD,
    PIANO_KEYS,
    REST,
    Vocabulary,
    notes_to_piano_roll,
    notes_to_tokens,
    one_hot,
    piano_roll_to_notes,
    tokens_to_notes,
    tokens_to_text,
    validate_tokens,
)


@pytest.fixture(scope="module")
def soprano_notes(chorale):
    """The tune of bwv66.6: its soprano as (pitch, start, end) in quarter notes."""
    return bundled.melody_notes(bundled.soprano_part(chorale))


# --- notes to tokens ---------------------------------------------------------------------------------------------


def test_one_quarter_note_is_a_pitch_and_three_holds():
    assert notes_to_tokens([(60, 0, 1)]) == [60, HOLD, HOLD, HOLD]


def test_consecutive_notes_each_start_with_their_pitch():
    assert notes_to_tokens([(60, 0, 1), (62, 1, 1.5)]) == [60, HOLD, HOLD, HOLD, 62, HOLD]


def test_repeated_pitch_is_struck_again_not_held():
    assert notes_to_tokens([(60, 0, 0.5), (60, 0.5, 1)]) == [60, HOLD, 60, HOLD]


def test_leading_silence_becomes_rests():
    assert notes_to_tokens([(64, 0.5, 1)]) == [REST, REST, 64, HOLD]


def test_gap_between_notes_becomes_rests():
    assert notes_to_tokens([(60, 0, 0.25), (67, 1, 1.25)]) == [60, REST, REST, REST, 67]


def test_notes_given_out_of_order_are_sorted_by_start():
    assert notes_to_tokens([(62, 0.5, 1), (60, 0, 0.5)]) == [60, HOLD, 62, HOLD]


def test_velocity_in_a_note_is_ignored():
    assert notes_to_tokens([(60, 0, 0.5, 100)]) == [60, HOLD]


def test_eighth_note_grid_gives_fewer_steps():
    assert notes_to_tokens([(60, 0, 1), (62, 1, 2)], steps_per_quarter=2) == [60, HOLD, 62, HOLD]


def test_overlapping_notes_raise_melody_error():
    with pytest.raises(MelodyError, match="not monophonic"):
        notes_to_tokens([(60, 0, 1), (64, 0.5, 1.5)])


def test_notes_starting_together_raise_melody_error():
    with pytest.raises(MelodyError, match="not monophonic"):
        notes_to_tokens([(60, 0, 1), (64, 0, 1)])


def test_empty_melody_raises_melody_error():
    with pytest.raises(MelodyError, match="no notes"):
        notes_to_tokens([])


def test_note_without_length_on_the_grid_raises_melody_error():
    with pytest.raises(MelodyError, match="no length"):
        notes_to_tokens([(60, 1, 1)])


def test_triplet_rhythm_raises_notation_error():
    with pytest.raises(NotationError):
        notes_to_tokens([(60, 0, 1 / 3)])


# --- tokens to notes ---------------------------------------------------------------------------------------------


def test_tokens_to_notes_reads_rests_and_holds():
    assert tokens_to_notes([60, HOLD, REST, 62]) == [(60, 0.0, 0.5), (62, 0.75, 1.0)]


def test_tokens_to_notes_of_only_rests_is_empty():
    assert tokens_to_notes([REST, REST]) == []


def test_tokens_to_notes_accepts_numpy_integer_pitches():
    assert tokens_to_notes([np.int64(60), HOLD]) == [(60, 0.0, 0.5)]


def test_hand_made_melody_round_trips_through_tokens():
    melody = [(64, 0.5, 1.0), (62, 1.0, 1.25), (60, 2.0, 4.0)]
    assert tokens_to_notes(notes_to_tokens(melody)) == melody


def test_chorale_soprano_round_trips_through_tokens(soprano_notes):
    assert len(soprano_notes) > 30
    tokens = notes_to_tokens(soprano_notes)
    assert tokens_to_notes(tokens) == [(p, float(s), float(e)) for p, s, e in soprano_notes]


def test_chorale_soprano_has_one_token_per_sixteenth(soprano_notes):
    assert len(notes_to_tokens(soprano_notes)) == 4 * soprano_notes[-1][2]


# --- validate_tokens ---------------------------------------------------------------------------------------------


def test_valid_tokens_pass():
    validate_tokens([REST, 60, HOLD, HOLD, 62, REST, 0, 127])  # raises nothing


def test_hold_at_start_is_rejected():
    with pytest.raises(MelodyError, match="at the start"):
        validate_tokens([HOLD, 60])


def test_hold_after_rest_is_rejected():
    with pytest.raises(MelodyError, match="after a REST"):
        validate_tokens([60, HOLD, REST, HOLD])


def test_hold_after_rest_is_rejected_by_tokens_to_notes():
    with pytest.raises(MelodyError):
        tokens_to_notes([60, REST, HOLD])


@pytest.mark.parametrize("token", ["C4", "hold", "60", 128, -1, 60.0, None, True])
def test_unknown_token_is_rejected(token):
    with pytest.raises(MelodyError, match="a token is a MIDI pitch"):
        validate_tokens([60, token])


# --- the vocabulary ----------------------------------------------------------------------------------------------


def test_vocabulary_puts_rest_first_and_hold_second():
    vocab = Vocabulary([64, 60])
    assert vocab.encode([REST, HOLD]).tolist() == [0, 1]


def test_vocabulary_numbers_pitches_from_low_to_high():
    vocab = Vocabulary([67, 60, 64])
    assert vocab.tokens == [REST, HOLD, 60, 64, 67]
    assert vocab.pitches == [60, 64, 67]
    assert len(vocab) == 5


def test_vocabulary_is_the_same_whatever_the_input_order():
    assert Vocabulary([67, 60, 64, 60]) == Vocabulary([60, 64, 67]) == Vocabulary(reversed([60, 64, 67]))


def test_vocabulary_from_melodies_collects_every_pitch():
    vocab = Vocabulary.from_melodies([[62, HOLD, REST], [60, 67, HOLD]])
    assert vocab.tokens == [REST, HOLD, 60, 62, 67]


def test_vocabulary_from_melodies_is_the_same_whatever_the_melody_order():
    melodies = [[62, HOLD, REST], [60, 67, HOLD], [55]]
    assert Vocabulary.from_melodies(melodies) == Vocabulary.from_melodies(list(reversed(melodies)))


def test_encode_then_decode_gives_the_tokens_back():
    tokens = [REST, 60, HOLD, 64, 67, HOLD, REST]
    vocab = Vocabulary.from_melodies([tokens])
    ids = vocab.encode(tokens)
    assert ids.dtype == np.int32
    assert ids.tolist() == [0, 2, 1, 3, 4, 1, 0]
    assert vocab.decode(ids) == tokens


def test_encode_of_unknown_pitch_raises_melody_error():
    with pytest.raises(MelodyError, match="Token 61 is not in this Vocabulary"):
        Vocabulary([60, 62]).encode([60, 61])


def test_decode_of_number_outside_vocabulary_raises_melody_error():
    with pytest.raises(MelodyError, match="0..3"):
        Vocabulary([60, 62]).decode([0, 4])


def test_vocabulary_pitch_outside_midi_range_raises_melody_error():
    with pytest.raises(MelodyError):
        Vocabulary([60, 128])


def test_vocabulary_json_round_trip(tmp_path):
    vocab = Vocabulary([72, 60, 64])
    path = vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(path)
    assert loaded == vocab
    assert loaded.encode([REST, 64, HOLD]).tolist() == vocab.encode([REST, 64, HOLD]).tolist()


def test_vocabulary_json_is_plain_readable_tokens(tmp_path):
    path = Vocabulary([62, 60]).save(tmp_path / "vocab.json")
    assert json.loads(path.read_text()) == {"tokens": [REST, HOLD, 60, 62]}


@pytest.mark.parametrize(
    "tokens",
    [
        [REST, HOLD, 64, 60],  # pitches reordered
        [HOLD, REST, 60, 64],  # special tokens swapped
        [60, 64],  # special tokens removed
        [REST, HOLD, 60, 60, 64],  # a pitch duplicated
        [REST, HOLD, 60, 200],  # a pitch off MIDI's range
        [REST, HOLD, "C4", "E4"],  # pitch names written in by hand
    ],
    ids=["reordered", "specials-swapped", "specials-removed", "duplicated", "off-range", "pitch-names"],
)
def test_from_json_rejects_a_tampered_file(tmp_path, tokens):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"tokens": tokens}))
    _assert_raises_melody_error(Vocabulary.load, path)


def test_from_json_rejects_json_that_is_not_a_vocabulary():
    _assert_raises_melody_error(Vocabulary.from_json, json.dumps({"pitches": [60, 64]}))


def _assert_raises_melody_error(function, *args):
    """Like pytest.raises(MelodyError), but a different exception type fails with a message saying so."""
    try:
        function(*args)
    except MelodyError:
        return
    except Exception as error:  # noqa: BLE001 - the point is to report the wrong type
        pytest.fail(f"expected MelodyError with advice, got {type(error).__name__}: {error}")
    pytest.fail("expected MelodyError, but the input was accepted")


# --- one-hot -----------------------------------------------------------------------------------------------------


def test_one_hot_has_one_row_per_token_and_one_column_per_vocabulary_entry():
    assert one_hot([0, 2, 1], size=5).shape == (3, 5)


def test_one_hot_has_a_single_one_per_row_at_the_token_number():
    ids = [0, 2, 1, 4, 4]
    matrix = one_hot(ids, size=5)
    assert matrix.dtype == np.float32
    assert matrix.sum(axis=1).tolist() == [1.0] * len(ids)
    assert matrix.argmax(axis=1).tolist() == ids
    assert set(np.unique(matrix).tolist()) == {0.0, 1.0}


def test_one_hot_of_encoded_chorale_soprano(soprano_notes):
    tokens = notes_to_tokens(soprano_notes)
    vocab = Vocabulary.from_melodies([tokens])
    matrix = one_hot(vocab.encode(tokens), len(vocab))
    assert matrix.shape == (len(tokens), len(vocab))
    assert (matrix.sum(axis=1) == 1).all()


def test_one_hot_of_number_outside_size_raises_melody_error():
    with pytest.raises(MelodyError):
        one_hot([0, 5], size=5)


# --- the piano roll ----------------------------------------------------------------------------------------------


def test_piano_roll_has_one_row_per_step_and_88_columns():
    roll = notes_to_piano_roll([(60, 0, 1), (62, 1, 2)])
    assert roll.shape == (8, PIANO_KEYS) == (8, 88)


def test_piano_roll_column_is_pitch_minus_21():
    roll = notes_to_piano_roll([(21, 0, 0.25), (60, 0.25, 0.5), (108, 0.5, 0.75)])
    assert np.flatnonzero(roll[0]).tolist() == [0]
    assert np.flatnonzero(roll[1]).tolist() == [60 - 21]
    assert np.flatnonzero(roll[2]).tolist() == [87]


def test_piano_roll_marks_every_step_a_note_sounds():
    roll = notes_to_piano_roll([(60, 0.5, 1.5)])
    assert roll[:, 60 - 21].tolist() == [0, 0, 1, 1, 1, 1]
    assert roll.sum() == 4


def test_chord_lights_four_columns_in_each_row():
    chord = [(60, 0, 1), (64, 0, 1), (67, 0, 1), (72, 0, 1)]
    roll = notes_to_piano_roll(chord)
    assert (roll.sum(axis=1) == 4).all()
    assert np.flatnonzero(roll[0]).tolist() == [60 - 21, 64 - 21, 67 - 21, 72 - 21]


def test_piano_roll_can_be_padded_to_a_number_of_steps():
    assert notes_to_piano_roll([(60, 0, 1)], steps=32).shape == (32, 88)


def test_piano_roll_of_no_notes_is_empty():
    assert notes_to_piano_roll([]).shape == (0, 88)


@pytest.mark.parametrize("pitch", [20, 109, 0, 127])
def test_pitch_off_the_piano_raises_melody_error(pitch):
    with pytest.raises(MelodyError, match="off the 88-key piano"):
        notes_to_piano_roll([(60, 0, 1), (pitch, 0, 1)])


def test_piano_roll_round_trips_to_notes():
    notes = [(60, 0.0, 1.0), (64, 0.0, 1.0), (67, 0.0, 2.0), (62, 1.0, 1.5), (72, 2.5, 4.0)]
    assert piano_roll_to_notes(notes_to_piano_roll(notes)) == sorted(notes, key=lambda n: (n[1], n[0]))


def test_chorale_piano_roll_round_trips_to_notes(chorale):
    notes = []
    for part in chorale.parts:
        notes.extend(bundled.melody_notes(part))
    roll = notes_to_piano_roll(notes)
    # A key held across two notes of the same pitch is one long note in a roll, so compare what sounds.
    assert (notes_to_piano_roll(piano_roll_to_notes(roll)) == roll).all()
    assert roll.sum(axis=1).max() == 4


def test_piano_roll_joins_a_repeated_key_into_one_note():
    assert piano_roll_to_notes(notes_to_piano_roll([(60, 0, 1), (60, 1, 2)])) == [(60, 0.0, 2.0)]


def test_a_roll_of_quarter_note_frames_reads_back_in_quarters():
    frames = np.zeros((4, 88), np.uint8)  # lesson 08's frames: one row per quarter note
    frames[[0, 1], 60 - 21] = frames[0, 64 - 21] = frames[1, 65 - 21] = frames[3, 60 - 21] = 1
    notes = piano_roll_to_notes(frames, steps_per_quarter=1)
    assert notes == [(60, 0.0, 2.0), (64, 0.0, 1.0), (65, 1.0, 2.0), (60, 3.0, 4.0)]


def test_piano_roll_of_wrong_shape_raises_melody_error():
    with pytest.raises(MelodyError, match="shape"):
        piano_roll_to_notes(np.zeros((16, 128)))


# --- tokens as text ----------------------------------------------------------------------------------------------


def test_tokens_to_text_shows_names_holds_and_rests():
    assert tokens_to_text([60, HOLD, REST, 62]) == "C4  -   .   D4"


def test_tokens_to_text_puts_one_bar_on_each_line():
    text = tokens_to_text(notes_to_tokens([(60, 0, 4), (67, 4, 5)]))
    lines = text.split("\n")
    assert len(lines) == 2
    assert lines[0].split() == ["C4"] + ["-"] * 15
    assert lines[1].split() == ["G4", "-", "-", "-"]
