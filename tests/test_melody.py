"""A melody with its key, metre and upbeat: moved between keys, engraved with its bar lines and key signature."""

import re

import pytest
from music21.musicxml.m21ToXml import GeneralObjectExporter

from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.errors import MelodyError, NotationError
from musegen_lessons.music.encoding import HOLD, REST, parse_melody
from musegen_lessons.music.melody import Melody, home_key, transposition_to_c
from musegen_lessons.music.notation import key_names, parse_key
from musegen_lessons.music.score import melody_to_stream, render_score

# --- key normalisation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode, target", [("major", 0), ("minor", 9)])
def test_transposition_to_c_takes_every_key_to_c_or_a_the_short_way(mode, target):
    for tonic in range(12):
        shift = transposition_to_c(tonic, mode)
        assert -6 <= shift <= 5, f"tonic {tonic} {mode}: shift {shift} is not the short way round"
        assert (tonic + shift) % 12 == target, f"tonic {tonic} {mode} + {shift} does not land on the target"


@pytest.mark.parametrize(
    "tonic, mode, expected",
    [(6, "minor", 3), (7, "major", 5), (2, "major", -2), (0, "major", 0), (9, "minor", 0), (6, "major", -6)],
)
def test_transposition_to_c_examples(tonic, mode, expected):
    assert transposition_to_c(tonic, mode) == expected


@pytest.mark.parametrize(
    "key, first",
    [
        ("C major", 60),
        ("D major", 62),
        ("A minor", 60),
        ("E minor", 55),
        ("F# minor", 57),
        ("Bb major", 58),
        ("G major", 55),
    ],
)
def test_a_melody_moves_from_home_to_a_key_the_shorter_way(key, first):
    melody = Melody([60, HOLD, REST], home_key(key)).transposed(key)
    assert melody.tokens == (first, HOLD, REST) and melody.key == key


def test_every_offered_key_takes_the_tonic_there_and_back():
    assert len(key_names()) == 34  # 12 tonics, 5 of them spelt two ways, in two modes
    for name in key_names():
        tonic, mode = parse_key(name)
        home = Melody([60 if mode == "major" else 69], home_key(name))  # C4 or A4: the tonics the model writes in
        [moved] = home.transposed(name).tokens
        assert moved % 12 == tonic and -6 <= moved - home.tokens[0] <= 6, name
        assert home.transposed(name).transposed(home.key) == home, name


def test_a_piece_gives_back_the_melody_as_found():
    piece = load_melodies("chorales", limit=3, progress=False).pieces[0]
    found = piece.melody.transposed(piece.key)
    pitches = [t for t in found.tokens if t not in (HOLD, REST)]
    assert piece.melody.key in ("C major", "A minor") and found.key == piece.key
    assert pitches[0] == next(t for t in piece.tokens if t not in (HOLD, REST)) - piece.transposition
    assert found.time_signature == piece.time_signature and found.bar_steps == piece.bar_steps


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"key": "H major"}, NotationError, "Unknown key"),
        ({"time_signature": "four"}, NotationError, "Unknown time signature"),
        ({"pickup_steps": 16}, NotationError, "not a place in a 4/4 bar"),
        ({"time_signature": "4/3"}, NotationError, "not a whole number"),
    ],
)
def test_a_melody_that_cannot_be_written_is_refused(arguments, error, message):
    with pytest.raises(error, match=message):
        Melody([60], **arguments)


# --- the engraved score -----------------------------------------------------------------------------------------


def _musicxml(melody):
    return GeneralObjectExporter(melody_to_stream(melody)).parse().decode()


def _bars(musicxml):
    """The notes of each bar as (step, alter, accidental shown, duration in quarters)."""
    divisions = int(re.search(r"<divisions>(\d+)</divisions>", musicxml).group(1))
    bars = []
    for bar in re.findall(r"<measure[^>]*>(.*?)</measure>", musicxml, re.S):
        notes = []
        for note in re.findall(r"<note[^>]*>(.*?)</note>", bar, re.S):
            step = re.search(r"<step>(\w)</step>", note)
            alter = re.search(r"<alter>(-?\d+)</alter>", note)
            shown = re.search(r"<accidental[^>]*>(\w+)</accidental>", note)
            length = int(re.search(r"<duration>(\d+)</duration>", note).group(1)) / divisions
            notes.append(
                (
                    step.group(1) if step else "rest",
                    int(alter.group(1)) if alter else 0,
                    shown and shown.group(1),
                    length,
                )
            )
        bars.append(notes)
    return bars


def test_an_upbeat_is_engraved_as_a_short_first_bar():
    # "A4 | D5 C#5 B4 A4 | D5:4": a one-beat upbeat in 4/4 starts 12 steps into its bar
    melody = Melody(parse_melody("A4 D5 C#5 B4 A4 D5:4"), "D major", "4/4", pickup_steps=12)
    bars = _bars(_musicxml(melody))
    assert [sum(n[3] for n in bar) for bar in bars] == [1.0, 4.0, 4.0]
    assert [n[0] for n in bars[0]] == ["A"] and [n[0] for n in bars[1]] == ["D", "C", "B", "A"]
    assert 'number="0"' in _musicxml(melody)


def test_a_note_held_over_a_bar_line_is_tied_not_broken_by_a_rest():
    melody = Melody(parse_melody("G4 C5:2 D5:3 E5:3"), "C major", "4/4", pickup_steps=12)
    musicxml = _musicxml(melody)
    assert [[n[0] for n in bar] for bar in _bars(musicxml)] == [["G"], ["C", "D"], ["D", "E"]]
    assert musicxml.count('<tie type="start"') == 1


def test_after_an_upbeat_the_last_bar_stays_short_as_the_upbeat_it_completes():
    melody = Melody(parse_melody("G4 C5 D5 E5 F5 G5:3"), "C major", "4/4", pickup_steps=12)
    assert [[n[0] for n in bar] for bar in _bars(_musicxml(melody))] == [["G"], ["C", "D", "E", "F"], ["G"]]


def test_a_melody_from_the_downbeat_fills_its_bars():
    bars = _bars(_musicxml(Melody(parse_melody("C4 D4 E4 F4 G4:4"), "C major", "4/4")))
    assert [sum(n[3] for n in bar) for bar in bars] == [4.0, 4.0]


def test_three_four_with_an_eighth_note_upbeat():
    melody = Melody(parse_melody("G4:0.5 C5:3 E5:3"), "C major", "3/4", pickup_steps=10)
    assert [sum(n[3] for n in bar) for bar in _bars(_musicxml(melody))] == [0.5, 3.0, 3.0]


@pytest.mark.parametrize("key, fifths", [("D major", 2), ("F minor", -4), ("B major", 5), ("C major", 0)])
def test_the_key_signature_is_the_melody_s_key(key, fifths):
    musicxml = _musicxml(Melody(parse_melody("C4 E4 G4"), key).transposed(key))
    assert f"<fifths>{fifths}</fifths>" in musicxml


def test_notes_are_spelled_in_the_key_and_only_chromatic_ones_carry_an_accidental():
    # in D major: F# and C# are in the signature; C natural needs its sign, and Bb is spelt with a flat
    bars = _bars(_musicxml(Melody(parse_melody("D4 F#4 C#5 C5 Bb4 D5:3"), "D major")))
    notes = [n for bar in bars for n in bar if n[0] != "rest"]
    assert [(step, alter, shown) for step, alter, shown, _ in notes] == [
        ("D", 0, None),
        ("F", 1, None),
        ("C", 1, None),
        ("C", 0, "natural"),
        ("B", -1, "flat"),
        ("D", 0, None),
    ]


def test_a_minor_key_spells_its_raised_sixth_and_seventh_as_sharps():
    # F# minor's leading note is E#, not F; its raised sixth is D#, not Eb
    bars = _bars(_musicxml(Melody(parse_melody("F#4 E#4 F#4 D#4 E#4 F#4"), "F# minor")))
    assert [(n[0], n[1]) for bar in bars for n in bar if n[0] != "rest"] == [
        ("F", 1),
        ("E", 1),
        ("F", 1),
        ("D", 1),
        ("E", 1),
        ("F", 1),
    ]


def test_a_flat_key_spells_its_notes_with_flats():
    bars = _bars(_musicxml(Melody(parse_melody("Ab4 Db5 Eb5 C5"), "Ab major")))
    assert [(n[0], n[1]) for bar in bars for n in bar if n[0] != "rest"] == [("A", -1), ("D", -1), ("E", -1), ("C", 0)]


def test_the_score_of_a_melody_is_drawn():
    assert "<svg" in render_score(Melody(parse_melody("A4 D5 C#5"), "D major", "3/4", 8)).svg


def test_a_melody_without_notes_is_not_engraved():
    with pytest.raises(MelodyError, match="no notes"):
        melody_to_stream(Melody([REST] * 8))
