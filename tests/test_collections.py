"""Whole collections (musegen_lessons.corpora.melodies): cleaning, key normalisation, the JSON cache, folk songs,
reports.

Every test that loads a collection points MUSEGEN_CACHE at a temporary folder, so the user's cache is never read or
written."""

import json
import re

import pytest
from music21 import chord, duration, meter, note, pitch, stream
from music21 import corpus as music21_corpus

from musegen_lessons.corpora.bundled import EXAMPLE_CHORALE, chorale_names, folk_song_books, load_chorale, score_notes
from musegen_lessons.corpora.cache import CACHE_ENV
from musegen_lessons.corpora.cleaning import (
    CHORDS,
    DUPLICATE,
    GRACE,
    MELODY_RANGE,
    NO_NOTES,
    OFF_GRID,
    OUT_OF_RANGE,
    TOO_SHORT,
    Piece,
    clean_melody,
)
from musegen_lessons.corpora.melodies import (
    CACHE_FORMAT,
    QUICK_LIMITS,
    MelodyCorpus,
    collect_pieces,
    extract_chorale,
    load_melodies,
)
from musegen_lessons.errors import MelodyError
from musegen_lessons.lesson import QUICK_ENV
from musegen_lessons.music.encoding import HOLD, REST, SPECIAL_TOKENS
from musegen_lessons.music.keys import analyze_key

CACHE_LIMIT = 3  # the cache tests read three chorales: enough to be a collection, quick to rebuild


# --- helpers and fixtures ----------------------------------------------------------------------------------------


def _part(*elements):
    part = stream.Part()
    for element in elements:
        part.append(element)
    return part


def _quarters(*names, quarters=1.0):
    return [note.Note(name, quarterLength=quarters) for name in names]


def _clean(part, in_key="C major"):
    return clean_melody(part, in_key, "test/melody", "test", "A Test Melody")


def _pitches(tokens):
    return [t for t in tokens if t not in SPECIAL_TOKENS]


def _soprano_pitches(score):
    soprano = next(p for p in score.parts if p.partName == "Soprano")
    return [n.pitch.midi for n in soprano.stripTies().flatten().notes]


def _tonic_pitch_class(piece):
    return pitch.Pitch(piece.key.split()[0]).pitchClass


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder in tmp_path, set as MUSEGEN_CACHE; quick mode off."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    monkeypatch.delenv(QUICK_ENV, raising=False)
    return folder


@pytest.fixture
def cached(cache):
    """A few chorales loaded once, and the cache file that load wrote: (corpus, path)."""
    loaded = load_melodies("chorales", limit=CACHE_LIMIT, progress=False)
    (path,) = cache.glob("*.json")
    return loaded, path


@pytest.fixture(scope="module")
def chorales(tmp_path_factory):
    """The first 12 chorales, cleaned, loaded with a cache folder of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("chorale-cache")))
        patch.delenv(QUICK_ENV, raising=False)
        return load_melodies("chorales", limit=12, progress=False)


@pytest.fixture(scope="module")
def folk_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("folk-cache")


@pytest.fixture(scope="module")
def folk(folk_cache):
    """The folk songs as quick mode loads them (limit None): one whole book of tunes, read once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(folk_cache))
        patch.setenv(QUICK_ENV, "1")
        return load_melodies("folk", progress=False)


# --- key normalisation -------------------------------------------------------------------------------------------


def test_the_key_found_is_the_one_music21_finds_for_real_chorales():
    for name in chorale_names()[:12]:
        score = load_chorale(name)
        found = score.analyze("key")
        assert analyze_key(score_notes(score)) == f"{found.tonic.name.replace('-', 'b')} {found.mode}", name


@pytest.mark.parametrize(
    "pitches",
    [
        [60, 62, 64, 65, 67, 69, 71, 72],
        [57, 59, 60, 62, 64, 65, 68, 69, 69],
        [63, 65, 67, 68, 70, 72, 74, 75],
        [68, 70, 71, 73, 75, 76, 79, 80, 80],
        [61, 63, 65, 66, 68, 70, 72, 73],
    ],
)
def test_the_key_of_a_scale_is_music21s_and_spelt_as_music21_spells_it(pitches):
    lengths = [2.0 if i in (0, len(pitches) - 1) else 1.0 for i in range(len(pitches))]
    melody = stream.Stream([note.Note(p, quarterLength=length) for p, length in zip(pitches, lengths)])
    found = melody.analyze("key")
    assert analyze_key(score_notes(melody)) == f"{found.tonic.name.replace('-', 'b')} {found.mode}"


def test_no_notes_have_no_key():
    with pytest.raises(MelodyError, match="no key"):
        analyze_key([])


def test_f_sharp_minor_chorale_is_moved_up_three_semitones():
    [(_, piece, reason)] = extract_chorale(EXAMPLE_CHORALE)
    assert reason is None
    assert (piece.key, piece.mode, piece.transposition) == ("F# minor", "minor", 3)


def test_loaded_chorales_are_in_c_major_or_a_minor(chorales):
    assert chorales.pieces
    for piece in chorales.pieces:
        target = {"major": 0, "minor": 9}[piece.mode]
        assert (_tonic_pitch_class(piece) + piece.transposition) % 12 == target, piece
        assert -6 <= piece.transposition <= 5


def test_loaded_chorales_are_the_first_ones_of_the_catalogue(chorales):
    read = (
        [p.id for p in chorales.pieces] + [i for ids in chorales.dropped.values() for i in ids] + list(chorales.failed)
    )
    assert sorted(read) == sorted(chorale_names()[:12])
    assert {p.collection for p in chorales.pieces} == {"chorales"}


# --- the soprano is the melody -----------------------------------------------------------------------------------


def test_example_chorale_melody_is_its_soprano_moved_up_three(chorale):
    [(_, piece, _)] = extract_chorale(EXAMPLE_CHORALE)
    assert _pitches(piece.tokens) == [p + 3 for p in _soprano_pitches(chorale)]
    assert piece.tokens[0] == _soprano_pitches(chorale)[0] + 3  # the tune starts on the first step


def test_loaded_chorale_melodies_are_their_sopranos_transposed(chorales):
    for piece in chorales.pieces[:3]:
        soprano = _soprano_pitches(load_chorale(piece.id))
        assert _pitches(piece.tokens) == [p + piece.transposition for p in soprano], piece.id


# --- the cache ---------------------------------------------------------------------------------------------------


def test_cache_is_written_as_json_under_musegen_cache(cached):
    loaded, path = cached
    data = json.loads(path.read_text())
    assert data["source"] == loaded.source
    assert [p["id"] for p in data["pieces"]] == [p.id for p in loaded.pieces]
    assert not list(path.parent.glob("*.tmp")), "the temporary file was left behind"


def test_cache_records_what_made_it(cached):
    loaded, _ = cached
    assert loaded.source["collection"] == "chorales"
    assert loaded.source["limit"] == CACHE_LIMIT
    assert loaded.source["format"] == CACHE_FORMAT


def test_second_load_reads_the_cache_without_rewriting_it(cached):
    loaded, path = cached
    written = path.stat().st_mtime_ns
    again = load_melodies("chorales", limit=CACHE_LIMIT, progress=False)
    assert again == loaded
    assert path.stat().st_mtime_ns == written


def test_second_load_returns_what_the_cache_holds(cached):
    loaded, path = cached
    data = json.loads(path.read_text())
    data["pieces"][0]["title"] = "Edited In The Cache"
    path.write_text(json.dumps(data))
    again = load_melodies("chorales", limit=CACHE_LIMIT, progress=False)
    assert again.pieces[0].title == "Edited In The Cache"
    assert [p.tokens for p in again.pieces] == [p.tokens for p in loaded.pieces]


def test_load_without_cache_writes_no_file(cache):
    loaded = load_melodies("chorales", limit=2, cache=False, progress=False)
    assert loaded.pieces
    assert not cache.exists() or not list(cache.iterdir())


def _garbage(text):
    return bytes(range(256)) * 4


def _truncated(text):
    return text[: len(text) // 2].encode()


def _json(edit):
    def corrupt(text):
        data = json.loads(text)
        edit(data)
        return json.dumps(data).encode()

    return corrupt


CORRUPTIONS = {
    "garbage bytes": _garbage,
    "truncated json": _truncated,
    "empty file": lambda text: b"",
    "a json list": lambda text: b"[1, 2, 3]",
    "no pieces field": _json(lambda data: data.pop("pieces")),
    "piece missing its tokens": _json(lambda data: data["pieces"][0].pop("tokens")),
    "piece with an unknown field": _json(lambda data: data["pieces"][0].update(velocity=90)),
    "pieces not a list of pieces": _json(lambda data: data.update(pieces=[1, 2])),
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_damaged_cache_is_rebuilt_with_a_note(cached, capsys, corrupt):
    loaded, path = cached
    path.write_bytes(corrupt(path.read_text()))
    capsys.readouterr()
    again = load_melodies("chorales", limit=CACHE_LIMIT, progress=False)
    note_printed = capsys.readouterr().out
    assert again == loaded
    assert "damaged" in note_printed and "rebuilding" in note_printed and str(path) in note_printed
    assert json.loads(path.read_text())["source"] == loaded.source, "the cache file was not rewritten"


@pytest.mark.parametrize(
    "damage",
    [
        lambda piece: piece.update(tokens=None),
        lambda piece: piece.update(tokens="60 HOLD 62"),
        lambda piece: piece.update(tokens=[60, "HOLD", "not a token"]),
    ],
    ids=["tokens null", "tokens a string", "tokens hold a stranger"],
)
def test_cached_piece_whose_tokens_are_not_tokens_is_not_trusted(cached, capsys, damage):
    loaded, path = cached
    data = json.loads(path.read_text())
    damage(data["pieces"][0])
    path.write_text(json.dumps(data))
    again = load_melodies("chorales", limit=CACHE_LIMIT, progress=False)
    assert again.pieces[0].tokens == loaded.pieces[0].tokens
    assert "rebuilding" in capsys.readouterr().out


@pytest.mark.parametrize("field, value", [("format", CACHE_FORMAT - 1), ("music21", "0.0.1")])
def test_stale_cache_is_rebuilt_not_trusted(cached, capsys, field, value):
    loaded, path = cached
    data = json.loads(path.read_text())
    data["source"][field] = value
    data["pieces"][0]["title"] = "Not Bach At All"
    path.write_text(json.dumps(data))
    capsys.readouterr()
    again = load_melodies("chorales", limit=CACHE_LIMIT, progress=False)
    assert again.pieces[0].title == loaded.pieces[0].title != "Not Bach At All"
    assert "another version" in capsys.readouterr().out
    assert json.loads(path.read_text())["source"][field] == loaded.source[field]


def test_unknown_collection_raises_value_error(cache):
    with pytest.raises(ValueError, match="madrigals"):
        load_melodies("madrigals", limit=1, progress=False)


# --- folk songs --------------------------------------------------------------------------------------------------


def test_quick_mode_without_a_limit_reads_the_quick_limit(folk, folk_cache):
    assert folk.source["limit"] == QUICK_LIMITS["folk"]
    books = {p.id.split("#")[0] for p in folk.pieces}
    assert books == set(folk_song_books()[: QUICK_LIMITS["folk"]])
    assert [p.name for p in folk_cache.glob("*.json")] == [f"folk-{QUICK_LIMITS['folk']}.json"]


def test_folk_pieces_are_numbered_within_their_book(folk):
    book = folk_song_books()[0]
    read = [p.id for p in folk.pieces] + [i for ids in folk.dropped.values() for i in ids] + list(folk.failed)
    assert all(re.fullmatch(r"essenFolksong/\w+#\d+", piece_id) for piece_id in read)
    assert sorted(read) == sorted(f"{book}#{n}" for n in range(1, len(read) + 1))
    assert {p.collection for p in folk.pieces} == {"folk"}
    assert len(folk.pieces) > 100  # a book holds hundreds of tunes; most are clean


def test_folk_pieces_are_in_c_major_or_a_minor(folk):
    for piece in folk.pieces:
        target = {"major": 0, "minor": 9}[piece.mode]
        assert (_tonic_pitch_class(piece) + piece.transposition) % 12 == target, piece


def test_folk_melody_is_the_tune_transposed(folk):
    book = folk_song_books()[0]
    opus = music21_corpus.parse(book)
    for piece in folk.pieces[:5]:
        number = int(piece.id.split("#")[1])
        tune = opus.scores[number - 1].parts[0]
        expected = [n.pitch.midi + piece.transposition for n in tune.stripTies().flatten().notes]
        assert _pitches(piece.tokens) == expected, piece.id


# --- cleaning a melody -------------------------------------------------------------------------------------------


def test_triplet_is_off_the_grid():
    triplet = [note.Note(name, type="eighth") for name in ("D4", "E4", "F4")]
    for n in triplet:
        n.duration.appendTuplet(duration.Tuplet(3, 2))
    part = _part(*_quarters("C4"), *triplet, *_quarters("G4", "A4", "B4", "C5"))
    assert _clean(part) == (None, OFF_GRID)


def test_grace_note_is_left_out():
    part = _part(*_quarters("C4", "D4"), note.Note("F4").getGrace(), *_quarters("E4", "F4", "G4"))
    assert _clean(part) == (None, GRACE)


def test_chord_in_the_melody_is_left_out():
    part = _part(*_quarters("C4", "D4"), chord.Chord(["E4", "G4"]), *_quarters("F4", "G4"))
    assert _clean(part) == (None, CHORDS)


def test_overlapping_notes_are_left_out_as_chords():
    part = stream.Part()
    for offset, name in enumerate(["C4", "D4", "E4", "F4", "G4"]):
        part.insert(offset, note.Note(name, quarterLength=1.0))
    part.insert(1.0, note.Note("A4", quarterLength=2.0))  # sounds with D4 and E4
    assert _clean(part) == (None, CHORDS)


def test_melody_far_too_high_is_out_of_range():
    assert _clean(_part(*_quarters("C7", "D7", "E7", "F7"))) == (None, OUT_OF_RANGE)


def test_melody_far_too_low_is_out_of_range():
    assert _clean(_part(*_quarters("C1", "D1", "E1", "F1"))) == (None, OUT_OF_RANGE)


def test_melody_reaching_both_ends_of_the_range_is_kept():
    low, high = MELODY_RANGE
    part = _part(*[note.Note(midi=m, quarterLength=1.0) for m in (low, high, low, high)])
    piece, reason = _clean(part)
    assert reason is None
    assert (min(_pitches(piece.tokens)), max(_pitches(piece.tokens))) == (low, high)


def test_range_is_judged_after_transposition():
    # In B major the melody moves 1 semitone up: MIDI 88 (the top of the range) becomes 89, too high.
    part = _part(*[note.Note(midi=m, quarterLength=1.0) for m in (MELODY_RANGE[1], 80, 78, 76)])
    assert _clean(part, in_key="C major")[1] is None
    assert _clean(part, in_key="B major")[1] == OUT_OF_RANGE


def test_melody_of_one_beat_is_too_short():
    assert _clean(_part(*_quarters("C4"))) == (None, TOO_SHORT)


def test_empty_part_has_no_notes():
    assert _clean(stream.Part()) == (None, NO_NOTES)


def test_part_of_rests_only_has_no_notes():
    assert _clean(_part(note.Rest(quarterLength=4.0))) == (None, NO_NOTES)


def test_clean_melody_in_f_sharp_minor_gives_a_minor_tokens():
    part = _part(
        note.Note("F#4", quarterLength=1.0),
        note.Note("G#4", quarterLength=0.5),
        note.Note("A4", quarterLength=0.5),
        note.Rest(quarterLength=1.0),
        note.Note("C#5", quarterLength=2.0),
    )
    piece, reason = _clean(part, in_key="F# minor")
    assert reason is None
    assert isinstance(piece, Piece)
    assert (piece.key, piece.transposition) == ("F# minor", 3)
    assert piece.tokens == [69, HOLD, HOLD, HOLD, 71, HOLD, 72, HOLD, REST, REST, REST, REST] + [76] + [HOLD] * 7


def test_clean_melody_keeps_id_collection_and_title():
    piece, _ = _clean(_part(*_quarters("C4", "D4", "E4", "F4")))
    assert (piece.id, piece.collection, piece.title) == ("test/melody", "test", "A Test Melody")


def test_plain_part_is_in_4_4_with_sixteen_steps_a_bar_and_no_pickup():
    piece, _ = _clean(_part(*_quarters("C4", "D4", "E4", "F4", "G4")))
    assert (piece.time_signature, piece.bar_steps, piece.pickup_steps) == ("4/4", 16, 0)


def test_3_4_melody_with_a_one_beat_upbeat_starts_eight_steps_into_its_bar():
    upbeat = stream.Measure(number=0)
    upbeat.append(meter.TimeSignature("3/4"))
    upbeat.append(note.Note("G4", quarterLength=1.0))
    upbeat.paddingLeft = 2.0  # the bar is missing its first two beats: the tune starts on beat 3
    bars = [
        stream.Measure(_quarters(*names), number=i)
        for i, names in enumerate([("C5", "D5", "E5"), ("F5", "E5", "D5")], 1)
    ]
    piece, reason = _clean(stream.Part([upbeat, *bars]))
    assert reason is None
    assert (piece.time_signature, piece.bar_steps, piece.pickup_steps) == ("3/4", 12, 8)
    assert piece.tokens[:5] == [67, HOLD, HOLD, HOLD, 72]


# --- bad pieces are reported, not raised -------------------------------------------------------------------------


def test_unreadable_chorale_is_reported_as_failed_not_raised():
    [(piece_id, piece, reason)] = extract_chorale("bach/no-such-piece")
    assert (piece_id, piece) == ("bach/no-such-piece", None)
    assert reason.startswith("failed: ")


def test_collect_counts_an_unreadable_piece_as_failed():
    collected = collect_pieces("chorales", [extract_chorale("bach/no-such-piece")], source={})
    assert list(collected.failed) == ["bach/no-such-piece"]
    assert collected.failed["bach/no-such-piece"]  # why, in music21's words
    assert (collected.pieces, collected.dropped) == ([], {})


def test_collect_drops_a_repeated_melody_as_duplicate():
    tune = _part(*_quarters("C4", "D4", "E4", "F4", "G4"))
    first = ("test/first", *clean_melody(tune, "C major", "test/first", "test", "First"))
    second = ("test/second", *clean_melody(tune, "C major", "test/second", "test", "Second"))
    collected = collect_pieces("test", [[first], [second]], source={})
    assert [p.id for p in collected.pieces] == ["test/first"]
    assert collected.dropped == {DUPLICATE: ["test/second"]}


@pytest.fixture
def mixed_corpus():
    """A collection with one kept chorale, a duplicate, every kind of drop, and an unreadable piece."""
    triplet = [note.Note(n, type="eighth") for n in ("D4", "E4", "F4")]
    for n in triplet:
        n.duration.appendTuplet(duration.Tuplet(3, 2))
    parts = {
        "test/triplet": _part(*_quarters("C4"), *triplet, *_quarters("G4", "A4")),
        "test/grace": _part(*_quarters("C4"), note.Note("D4").getGrace(), *_quarters("E4", "F4")),
        "test/chord": _part(*_quarters("C4"), chord.Chord(["E4", "G4"]), *_quarters("F4", "G4")),
        "test/high": _part(*_quarters("C7", "D7", "E7", "F7")),
        "test/short": _part(*_quarters("C4")),
        "test/empty": stream.Part(),
    }
    rows = [[(i, *clean_melody(p, "C major", i, "test", i))] for i, p in parts.items()]
    kept = extract_chorale(EXAMPLE_CHORALE)
    duplicate = [("test/copy", kept[0][1], None)]
    rows += [kept, duplicate, extract_chorale("bach/no-such-piece")]
    return collect_pieces("chorales", rows, source={})


def test_report_counts_every_piece_read(mixed_corpus):
    first_line = mixed_corpus.report().splitlines()[0]
    assert first_line.startswith("chorales: 9 pieces read, 1 kept")


def test_report_mentions_every_drop_reason(mixed_corpus):
    report = mixed_corpus.report()
    for reason in (OFF_GRID, GRACE, CHORDS, OUT_OF_RANGE, TOO_SHORT, NO_NOTES, DUPLICATE):
        assert reason in report, f"{reason!r} is missing from the report:\n{report}"


def test_report_mentions_the_failures(mixed_corpus):
    failed_lines = [line for line in mixed_corpus.report().splitlines() if "failed" in line]
    assert len(failed_lines) == 1
    assert "bach/no-such-piece" in failed_lines[0] and " 1:" in failed_lines[0]


def test_report_of_a_clean_corpus_has_one_line(chorales):
    clean = MelodyCorpus("chorales", chorales.pieces, {}, {}, chorales.source)
    assert clean.report().splitlines() == [
        f"chorales: {len(chorales.pieces)} pieces read, {len(chorales.pieces)} kept "
        f"({sum(len(p.tokens) for p in chorales.pieces):,} tokens)"
    ]
