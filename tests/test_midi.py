"""MIDI files in and out (musegen_lessons.music.midi): real files written with pretty_midi, and broken ones."""

import random

import pretty_midi
import pytest

from musegen_lessons.errors import MidiReadError
from musegen_lessons.music.midi import as_pretty_midi, midi_to_notes, notes_to_midi, read_midi, write_midi


def _as_triples(notes):
    return [(n.pitch, n.start, n.end) for n in notes]


def _assert_same_notes(actual, expected, tolerance=1e-6):
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got[0] == want[0]
        assert got[1] == pytest.approx(want[1], abs=tolerance)
        assert got[2] == pytest.approx(want[2], abs=tolerance)


# --- reading -----------------------------------------------------------------------------------------------------


def test_read_from_path_gives_pretty_midi(melody_midi_path, melody):
    pm = read_midi(melody_midi_path)
    assert isinstance(pm, pretty_midi.PrettyMIDI)
    assert [n.pitch for n in pm.instruments[0].notes] == [p for p, _, _ in melody]


def test_read_from_str_path(melody_midi_path, melody):
    assert len(read_midi(str(melody_midi_path)).instruments[0].notes) == len(melody)


def test_read_from_bytes_matches_read_from_path(melody_midi_path):
    from_bytes = midi_to_notes(read_midi(melody_midi_path.read_bytes()))
    from_path = midi_to_notes(read_midi(melody_midi_path))
    assert from_bytes == from_path


def test_notes_in_quarters_follow_the_tempo_map(melody_midi_path, melody):
    _assert_same_notes(_as_triples(midi_to_notes(read_midi(melody_midi_path), unit="quarters")), melody)


def test_notes_in_seconds_are_pretty_midis_times(melody_midi_path, melody, tempo_bpm):
    seconds = [(p, s * 60 / tempo_bpm, e * 60 / tempo_bpm) for p, s, e in melody]
    _assert_same_notes(_as_triples(midi_to_notes(read_midi(melody_midi_path))), seconds)


def test_notes_keep_their_velocity(melody_midi_path):
    assert {n.velocity for n in midi_to_notes(read_midi(melody_midi_path))} == {90}


def test_unknown_unit_is_rejected(melody_midi_path):
    with pytest.raises(ValueError, match="seconds"):
        midi_to_notes(read_midi(melody_midi_path), unit="ticks")


def test_drum_notes_are_left_out_unless_asked_for():
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(velocity=100, pitch=36, start=0.0, end=0.1))
    pm.instruments.append(drums)
    assert midi_to_notes(pm) == []
    assert [n.pitch for n in midi_to_notes(pm, include_drums=True)] == [36]


def test_notes_are_sorted_by_start_then_pitch():
    pm = notes_to_midi([(67, 1, 2), (64, 0, 1), (60, 0, 1)])
    assert [(n.pitch, n.start) for n in midi_to_notes(pm, unit="quarters")] == [(60, 0.0), (64, 0.0), (67, 1.0)]


# --- writing -----------------------------------------------------------------------------------------------------


def test_write_then_read_keeps_notes_in_quarters(tmp_path, melody, tempo_bpm):
    path = write_midi(melody, tmp_path / "round.mid", tempo_bpm=tempo_bpm)
    _assert_same_notes(_as_triples(midi_to_notes(read_midi(path), unit="quarters")), melody)


def test_write_then_read_keeps_notes_in_seconds(tmp_path, melody):
    # MIDI stores the tempo in whole microseconds per quarter: 100 bpm (600000 us) is exact, 90 bpm is not.
    tempo_bpm = 100.0
    path = write_midi(melody, tmp_path / "round.mid", tempo_bpm=tempo_bpm)
    seconds = [(p, s * 60 / tempo_bpm, e * 60 / tempo_bpm) for p, s, e in melody]
    _assert_same_notes(_as_triples(midi_to_notes(read_midi(path))), seconds)


def test_write_returns_the_path_and_makes_missing_folders(tmp_path, melody):
    target = tmp_path / "new" / "folder" / "tune.mid"
    assert write_midi(melody, target) == target
    assert target.is_file()


def test_write_leaves_no_temporary_files(tmp_path, melody):
    write_midi(melody, tmp_path / "tune.mid")
    write_midi(melody[:2], tmp_path / "tune.mid")  # overwriting too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.mid"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary_files(tmp_path, melody):
    target = write_midi(melody, tmp_path / "tune.mid")
    before = target.read_bytes()
    with pytest.raises(ValueError):
        write_midi([(200, 0, 1)], target)  # MIDI pitch 200 cannot be written
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune.mid"]


def test_write_accepts_a_music21_stream(tmp_path, chorale):
    path = write_midi(chorale, tmp_path / "chorale.mid")
    assert len(midi_to_notes(read_midi(path))) > 100


def test_velocity_given_with_a_note_is_written():
    pm = notes_to_midi([(60, 0, 1, 33)])
    assert pm.instruments[0].notes[0].velocity == 33


# --- as_pretty_midi ----------------------------------------------------------------------------------------------


def test_as_pretty_midi_returns_a_pretty_midi_unchanged(melody_midi_path):
    pm = read_midi(melody_midi_path)
    assert as_pretty_midi(pm) is pm


def test_as_pretty_midi_accepts_a_music21_stream(chorale):
    pm = as_pretty_midi(chorale)
    pitches = {n.pitch for n in midi_to_notes(pm)}
    assert len(pm.instruments) == 4
    assert 73 in pitches  # C#5, the soprano's first note


def test_as_pretty_midi_accepts_notes_in_quarters(melody, tempo_bpm):
    pm = as_pretty_midi(melody, tempo_bpm=tempo_bpm)
    _assert_same_notes(_as_triples(midi_to_notes(pm, unit="quarters")), melody)


def test_as_pretty_midi_accepts_bytes(melody_midi_path, melody):
    pm = as_pretty_midi(melody_midi_path.read_bytes())
    _assert_same_notes(_as_triples(midi_to_notes(pm, unit="quarters")), melody)


def test_as_pretty_midi_accepts_a_path(melody_midi_path, melody):
    assert len(midi_to_notes(as_pretty_midi(melody_midi_path))) == len(melody)


# --- bad input: always MidiReadError, with a message that helps -----------------------------------------------------


def test_missing_path_raises_midi_read_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.mid"
    with pytest.raises(MidiReadError, match=r"(?i)no such file|no midi file|does not exist") as caught:
        read_midi(missing)
    assert str(missing) in str(caught.value)


def test_folder_instead_of_file_raises_midi_read_error(tmp_path):
    with pytest.raises(MidiReadError, match=r"(?i)no such file|no midi file|does not exist"):
        read_midi(tmp_path)


def test_zero_byte_file_raises_midi_read_error_naming_it(tmp_path):
    path = tmp_path / "zero.mid"
    path.write_bytes(b"")
    with pytest.raises(MidiReadError, match="0 bytes") as caught:
        read_midi(path)
    assert "zero.mid" in str(caught.value)


def test_zero_bytes_raise_midi_read_error():
    with pytest.raises(MidiReadError, match="0 bytes"):
        read_midi(b"")


def test_text_file_renamed_mid_raises_midi_read_error_showing_its_start(tmp_path):
    path = tmp_path / "notes.mid"
    path.write_text("C4 D4 E4 F4 G4\n")
    with pytest.raises(MidiReadError, match="MThd") as caught:
        read_midi(path)
    assert "C4 D" in str(caught.value)  # what the file starts with instead
    assert "notes.mid" in str(caught.value)


def test_musicxml_renamed_mid_raises_midi_read_error_suggesting_music21(tmp_path, chorale):
    path = chorale.write("musicxml", fp=tmp_path / "chorale.mid")
    with pytest.raises(MidiReadError, match="music21"):
        read_midi(path)


def test_file_truncated_halfway_raises_midi_read_error(tmp_path, melody_midi_path):
    data = melody_midi_path.read_bytes()
    cut = tmp_path / "cut.mid"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MidiReadError, match="damaged") as caught:
        read_midi(cut)
    assert "truncated" in str(caught.value)
    assert "cut.mid" in str(caught.value)


def test_file_cut_at_any_byte_raises_only_midi_read_error(melody_midi_path):
    data = melody_midi_path.read_bytes()
    for length in range(1, len(data)):
        with pytest.raises(MidiReadError):
            read_midi(data[:length])


def test_random_bytes_after_mthd_raise_midi_read_error():
    noise = random.Random(66).randbytes(300)
    with pytest.raises(MidiReadError, match="damaged"):
        read_midi(b"MThd" + noise)


def test_random_bytes_after_a_valid_header_chunk_raise_only_midi_read_error(melody_midi_path):
    header = melody_midi_path.read_bytes()[:14]  # 'MThd', length 6, format, tracks, division
    assert header.startswith(b"MThd\x00\x00\x00\x06")
    rng = random.Random(6)
    for _ in range(50):
        with pytest.raises(MidiReadError):
            read_midi(header + rng.randbytes(rng.randint(0, 400)))


def test_valid_file_without_notes_raises_midi_read_error(empty_midi_path):
    with pytest.raises(MidiReadError, match="holds no notes"):
        read_midi(empty_midi_path)


def test_valid_file_without_notes_is_accepted_when_notes_are_not_required(empty_midi_path):
    pm = read_midi(empty_midi_path, require_notes=False)
    assert isinstance(pm, pretty_midi.PrettyMIDI)
    assert midi_to_notes(pm) == []


def test_midi_read_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        read_midi(tmp_path / "nowhere.mid")
