"""Event tokens (musegen_lessons.music.events): REMI with MidiTok on real chorales, beside the grid, and NLL per
note."""

import numpy as np
import pytest

from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.music import events


@pytest.fixture(scope="module")
def pieces():
    return load_melodies("chorales", limit=12, progress=False).pieces


def test_remi_writes_one_pitch_and_one_duration_for_every_note(pieces):
    tokenizer = events.remi_tokenizer()
    for piece in pieces:
        names, ids = events.piece_to_remi(piece, tokenizer)
        assert len(names) == len(ids) and max(ids) < len(tokenizer)
        assert sum(name.startswith("Pitch_") for name in names) == events.count_notes(piece)
        assert sum(name.startswith("Duration_") for name in names) == events.count_notes(piece)
        pitches = [int(name.split("_")[1]) for name in names if name.startswith("Pitch_")]
        assert pitches == [t for t in piece.tokens if isinstance(t, int)]


def test_remi_keeps_the_metre_and_puts_an_upbeat_where_it_falls_in_its_bar(pieces):
    tokenizer = events.remi_tokenizer()
    piece = next(p for p in pieces if p.pickup_steps)
    names, _ = events.piece_to_remi(piece, tokenizer)
    assert names[:3] == ["Bar_None", f"TimeSig_{piece.time_signature}", f"Position_{piece.pickup_steps}"]
    # a bar line before every bar the melody reaches
    bars = -(-(piece.pickup_steps + len(piece.tokens)) // piece.bar_steps)
    assert names.count("Bar_None") == bars


def test_nats_per_note_is_the_whole_piece_over_its_notes():
    log_probs = np.log([0.5, 0.25, 0.5, 1.0])
    assert events.nats_per_note(log_probs, 2) == pytest.approx((np.log(2) + np.log(4) + np.log(2)) / 2)
