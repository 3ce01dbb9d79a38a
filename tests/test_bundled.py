"""The chorales the course learns from (musegen_lessons.corpora.melodies): music21's bundled corpus, offline."""

import copy

import pytest
from music21 import chord, converter, note, stream, tie

from musegen_lessons.corpora.bundled import EXAMPLE_CHORALE, load_chorale, melody_notes, soprano_part
from musegen_lessons.errors import MelodyError


def _part(name, *elements):
    part = stream.Part()
    part.partName = name
    for element in elements:
        part.append(element)
    return part


def test_example_chorale_is_bwv66_6():
    assert EXAMPLE_CHORALE == "bach/bwv66.6"


def test_load_chorale_gives_a_score_with_four_voices(chorale):
    assert isinstance(chorale, stream.Score)
    assert [p.partName for p in chorale.parts] == ["Soprano", "Alto", "Tenor", "Bass"]


def test_load_chorale_by_name_parses_another_chorale():
    score = load_chorale("bach/bwv7.7")
    assert len(score.parts) >= 4


# --- the soprano -------------------------------------------------------------------------------------------------


def test_soprano_part_of_the_chorale_is_named_soprano(chorale):
    assert soprano_part(chorale).partName == "Soprano"


def test_soprano_part_is_found_by_name_not_by_position(chorale):
    reordered = stream.Score()
    for part in reversed(list(chorale.parts)):  # Bass, Tenor, Alto, Soprano
        reordered.insert(0, copy.deepcopy(part))
    assert reordered.parts[0].partName == "Bass"
    assert soprano_part(reordered).partName == "Soprano"


def test_soprano_part_after_an_instrument_part_is_found():
    score = stream.Score()
    score.insert(0, _part("Horn", note.Note("F4")))
    score.insert(0, _part("Soprano", note.Note("C5")))
    assert soprano_part(score).partName == "Soprano"


@pytest.mark.parametrize("abbreviation", ["S.", "S"])
def test_soprano_abbreviated_in_a_musicxml_file_is_found(tmp_path, abbreviation):
    score = stream.Score()
    score.insert(0, _part("Horn", note.Note("F4")))
    score.insert(0, _part(abbreviation, note.Note("C5")))
    read_back = converter.parse(score.write("musicxml", fp=tmp_path / "duet.musicxml"))
    found = soprano_part(read_back).partName
    assert found == abbreviation, f"the part named {abbreviation!r} is the soprano, but {found!r} was picked"


def test_score_without_a_soprano_gives_its_first_part():
    score = stream.Score()
    score.insert(0, _part("Violin", note.Note("A4")))
    score.insert(0, _part("Cello", note.Note("C3")))
    assert soprano_part(score).partName == "Violin"


def test_score_without_parts_raises_melody_error():
    with pytest.raises(MelodyError, match="no parts"):
        soprano_part(stream.Score())


# --- melody notes ------------------------------------------------------------------------------------------------


def test_soprano_melody_starts_on_c_sharp_5(chorale):
    notes = melody_notes(soprano_part(chorale))
    assert notes[0] == (73, 0.0, 0.5)


def test_soprano_melody_is_monophonic_and_in_time_order(chorale):
    notes = melody_notes(soprano_part(chorale))
    assert all(a[2] <= b[1] for a, b in zip(notes, notes[1:]))


def test_soprano_melody_ends_with_the_piece(chorale):
    notes = melody_notes(soprano_part(chorale))
    assert notes[-1][2] == chorale.highestTime == 36.0


def test_melody_notes_are_plain_numbers(chorale):
    pitch, start, end = melody_notes(soprano_part(chorale))[0]
    assert (type(pitch), type(start), type(end)) == (int, float, float)


def test_tied_notes_are_joined():
    first, second = note.Note("G4", quarterLength=1.0), note.Note("G4", quarterLength=1.0)
    first.tie, second.tie = tie.Tie("start"), tie.Tie("stop")
    part = _part("Soprano", first, second, note.Note("A4"))
    assert melody_notes(part) == [(67, 0.0, 2.0), (69, 2.0, 3.0)]


def test_rests_are_skipped():
    part = _part("Soprano", note.Rest(quarterLength=1.0), note.Note("E4", quarterLength=0.5))
    assert melody_notes(part) == [(64, 1.0, 1.5)]


def test_part_with_only_a_rest_raises_melody_error():
    with pytest.raises(MelodyError, match="no notes"):
        melody_notes(_part("Soprano", note.Rest(quarterLength=4.0)))


def test_part_with_a_chord_raises_melody_error():
    part = _part("Soprano", note.Note("C5"), chord.Chord(["C4", "E4", "G4"]))
    with pytest.raises(MelodyError, match="chord at quarter 1.0"):
        melody_notes(part)


def test_melody_notes_leave_the_part_unchanged(chorale):
    soprano = soprano_part(chorale)
    before = len(soprano.recurse().notes)
    melody_notes(soprano)
    assert len(soprano.recurse().notes) == before
