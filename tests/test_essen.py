"""The fast reader of the Essen folk songs (musegen_lessons.corpora.essen), held against music21's own full scores.

Each test reads a real book of music21's corpus both ways: through `essen.read_book` (music21's ABC tokens, read
straight off) and through `music21.corpus.parse` (the full score, as the course read it before), and requires the
same notes, metre, upbeat, title and key for every tune.
"""

import music21
import pytest

from musegen_lessons.corpora import bundled, cleaning, essen
from musegen_lessons.music import keys

BOOK = "essenFolksong/erk5"  # a small book (21 songs), with upbeats, ties and a 3/4 song among them


@pytest.fixture(scope="module")
def both_ways():
    return essen.read_book(BOOK), list(music21.corpus.parse(BOOK).scores)


def _full_score_elements(score):
    return [
        (tuple(int(p.midi) for p in e.pitches), float(e.offset), float(e.quarterLength))
        for e in score.parts[0].stripTies().flatten().notes
    ]


def test_every_tune_of_the_book_is_read(both_ways):
    tunes, scores = both_ways
    assert [number for number, _, _ in tunes] == list(range(1, len(scores) + 1))
    assert all(tune is not None for _, tune, _ in tunes)


def test_the_notes_are_where_music21s_score_puts_them(both_ways):
    tunes, scores = both_ways
    for (number, tune, _), score in zip(tunes, scores):
        assert [(pitches, start, length) for pitches, start, length, _ in tune.elements] == _full_score_elements(
            score
        ), f"tune {number}"


def test_metre_upbeat_and_title_are_music21s(both_ways):
    tunes, scores = both_ways
    upbeats = 0
    for (number, tune, _), score in zip(tunes, scores):
        bar_steps, pickup_steps, time_signature = bundled.bar_position(score.parts[0])
        assert (round(tune.bar_quarters * 4), round(tune.pickup_quarters * 4) % bar_steps, tune.time_signature) == (
            bar_steps,
            pickup_steps,
            time_signature,
        ), f"tune {number}"
        assert tune.title == score.metadata.title
        upbeats += pickup_steps > 0
    assert upbeats > 0  # the book has upbeats, so the comparison above tested them


def test_the_key_is_the_one_music21_finds(both_ways):
    tunes, scores = both_ways
    for (number, tune, _), score in zip(tunes, scores):
        found = score.analyze("key")
        expected = f"{found.tonic.name.replace('-', 'b')} {found.mode}"
        sounding = [(p, start, start + length) for pitches, start, length, _ in tune.elements for p in pitches]
        assert keys.analyze_key(sounding) == expected, f"tune {number}"


def test_ties_are_joined_into_one_note():
    handler = music21.abcFormat.ABCHandler()
    handler.process("X:1\nM:2/4\nL:1/8\nK:C\nc2 d2- | d2 e2 | c4 |]\n")
    tune = essen.read_tune(handler)
    assert [(pitches, start, length) for pitches, start, length, _ in tune.elements] == [
        ((72,), 0.0, 1.0),
        ((74,), 1.0, 2.0),
        ((76,), 3.0, 1.0),
        ((72,), 4.0, 2.0),
    ]


def test_grace_notes_chords_and_triplets_are_marked_for_cleaning():
    handler = music21.abcFormat.ABCHandler()
    handler.process("X:1\nM:2/4\nL:1/8\nK:C\n{d}c2 [ce]2 | (3cde c2 |]\n")
    tune = essen.read_tune(handler)
    kinds = [kind for *_, kind in tune.elements]
    assert kinds[:3] == [essen.GRACE_NOTE, None, essen.CHORD]
    assert tune.elements[0][2] == 0.0  # a grace note takes no time
    assert tune.elements[3][2] == pytest.approx(1 / 3)  # a triplet eighth: off the 16th-note grid
    piece, reason = cleaning.clean_elements(tune.elements, "C major", "2/4", 8, 0, "t#1", "test", "T")
    assert piece is None and reason == cleaning.GRACE


def test_an_upbeat_is_found_from_the_first_bar():
    handler = music21.abcFormat.ABCHandler()
    handler.process("X:1\nM:3/4\nL:1/4\nK:G\nD | G G A | B2 A | G3 |]\n")
    tune = essen.read_tune(handler)
    assert (tune.time_signature, tune.bar_quarters, tune.pickup_quarters) == ("3/4", 3.0, 2.0)
