"""The published protocol (musegen_lessons.evaluation.literature): music21's chorale melodies BWV 253–438, the saved
folds, and bits per note, for PPM and for a network. Reads the real corpus (cached after the first read)."""

import dataclasses
import json

import numpy as np
import pytest

from musegen_lessons.corpora.protocol import (
    CACHE_FORMAT,
    GRACE_NOTES,
    SAME_STEP,
    fold_dataset,
    key_normalise,
    load_folds,
    load_protocol_melodies,
    make_folds,
    melody_pitches,
    protocol_chorale_names,
    protocol_vocabulary,
    read_protocol_cache,
    save_folds,
    sounding_pitches,
    split_fold,
    tunes_across_folds,
)
from musegen_lessons.evaluation import literature
from musegen_lessons.evaluation.literature import (
    add_short_term_model,
    bits_per_note,
    first_note_distribution,
    network_pitch_distributions,
    note_probabilities,
    paired_folds,
    score_ppm,
)


@pytest.fixture(scope="module")
def protocol():
    return load_protocol_melodies(progress=False)


@pytest.fixture(scope="module")
def folds(protocol):
    return load_folds(protocol.pieces)


def test_the_protocol_reads_every_chorale_from_bwv_253_to_438_in_order():
    names = protocol_chorale_names()
    numbers = [int(name.removeprefix("bach/bwv")) for name in names]
    assert numbers == list(range(253, 439))  # all 186: one more than Pearce's 185


def test_the_melodies_are_in_their_own_keys_with_every_note_but_five(protocol):
    assert len(protocol.pieces) == 186
    assert protocol.notes == 9300  # Pearce: 9,227 in 185
    assert {p.transposition for p in protocol.pieces} == {0}
    assert len(protocol.alphabet) == 22 and protocol.alphabet[0] == 57  # Pearce: 21 pitches
    left_out = {reason: len(where) for reason, where in protocol.dropped_notes.items()}
    assert left_out == {GRACE_NOTES: 3, SAME_STEP: 2}
    assert "186 melodies (Pearce: 185)" in protocol.report()


def test_bwv_432_keeps_one_of_each_pair_of_32nd_notes(protocol):
    piece = next(p for p in protocol.pieces if p.id == "bach/bwv432")
    assert all(isinstance(t, int) or t in ("HOLD", "REST") for t in piece.tokens)
    assert [q for name, q in protocol.dropped_notes[SAME_STEP]] == [14.875, 21.875]


def test_folds_are_a_seeded_deal_of_every_piece_once():
    ids = [f"piece{i}" for i in range(23)]
    folds = make_folds(ids, 5, seed=3)
    assert folds == make_folds(ids, 5, seed=3) and folds != make_folds(ids, 5, seed=4)
    assert sorted(i for fold in folds for i in fold) == sorted(ids)
    assert {len(fold) for fold in folds} == {4, 5}


@pytest.mark.parametrize("count", [1, 24])
def test_impossible_fold_counts_are_refused(count):
    with pytest.raises(ValueError, match="folds"):
        make_folds([f"piece{i}" for i in range(23)], count)


def test_the_saved_folds_are_the_seeded_deal_of_the_protocol(protocol, folds):
    assert len(folds) == 10
    assert folds == make_folds([p.id for p in protocol.pieces], 10, seed=0)


def test_missing_folds_say_how_to_restore_them(protocol, tmp_path):
    with pytest.raises(ValueError, match="git checkout data/literature"):
        load_folds(protocol.pieces, tmp_path / "none.json")
    (tmp_path / "damaged.json").write_text("{not json")
    with pytest.raises(ValueError, match="could not be read"):
        load_folds(protocol.pieces, tmp_path / "damaged.json")


def test_folds_for_other_pieces_are_refused(protocol, tmp_path):
    path = save_folds([["bach/bwv1"], ["bach/bwv2"]], tmp_path / "other.json")
    assert json.loads(path.read_text())["folds"] == [["bach/bwv1"], ["bach/bwv2"]]
    with pytest.raises(ValueError, match="another corpus"):
        load_folds(protocol.pieces, path)


def test_a_fold_is_tested_against_the_other_nine(protocol, folds):
    train, test = split_fold(protocol.pieces, folds, 3)
    assert [p.id for p in test] == [p.id for p in protocol.pieces if p.id in set(folds[3])]
    assert len(train) + len(test) == 186 and not {p.id for p in train} & set(folds[3])
    with pytest.raises(ValueError, match="numbered 0 to 9"):
        split_fold(protocol.pieces, folds, 10)


def test_bits_per_note_is_the_mean_surprise_in_bits():
    assert bits_per_note([0.5, 0.25]) == pytest.approx(1.5)


def test_the_best_ppm_system_lands_near_pearces_figure(protocol, folds):
    ltm, stm = literature.PPM_SYSTEMS["LTM+C*I — STMC*I"]
    scored = score_ppm(protocol, folds, ltm, stm)
    assert scored["notes"] == 9300 and len(scored["folds"]) == 10
    assert scored["bits"] == pytest.approx(2.347, abs=0.1)  # Pearce 2005, Table 6.7
    assert min(scored["folds"]) < scored["bits"] < max(scored["folds"])


def test_the_short_term_model_and_the_long_term_model_do_better_together(protocol, folds):
    ltm, stm = literature.PPM_SYSTEMS["LTM+C3 — STMC2"]
    both = score_ppm(protocol, folds, ltm, stm, only_folds=[0])["bits"]
    assert both < score_ppm(protocol, folds, ltm, None, only_folds=[0])["bits"]
    assert both < score_ppm(protocol, folds, None, stm, only_folds=[0])["bits"]


def test_a_networks_fold_trains_on_eight_watches_the_ninth_and_tests_the_tenth(protocol, folds):
    dataset = fold_dataset(protocol, folds, 9)
    assert {p.id for p in dataset.pieces["test"]} == set(folds[9])
    assert {p.id for p in dataset.pieces["valid"]} == set(folds[0])
    assert len(dataset.pieces["train"]) == 186 - len(folds[9]) - len(folds[0])
    assert dataset.vocabulary.pitches[0] == 57 - 6 and dataset.vocabulary.pitches[-1] == 81 + 6  # room to move keys


def test_first_notes_are_counted_with_one_added_to_each_pitch(protocol):
    alphabet = protocol.alphabet
    distribution = first_note_distribution(protocol.pieces[:10], alphabet)
    first = melody_pitches(protocol.pieces[0])[0]
    expected = (1 + sum(melody_pitches(p)[0] == first for p in protocol.pieces[:10])) / (len(alphabet) + 10)
    assert distribution[alphabet.index(first)] == pytest.approx(expected)


@pytest.fixture(scope="module")
def untrained(protocol):
    """An untrained lesson 05 network (any network will do) and its distributions over two melodies' notes."""
    from musegen_lessons.families.lstm import build_melody_model

    vocabulary = protocol_vocabulary(protocol)
    model = build_melody_model(len(vocabulary), lstm_units=16, conv_filters=8)
    pieces = protocol.pieces[:2]
    first_notes = first_note_distribution(protocol.pieces, protocol.alphabet)
    distributions = network_pitch_distributions(model, pieces, vocabulary, protocol.alphabet, first_notes)
    return model, vocabulary, pieces, first_notes, distributions


def test_a_network_predicts_every_note_renormalised_over_the_pitches(protocol, untrained):
    from musegen_lessons.evaluation.likelihood import predict_pieces

    model, vocabulary, pieces, first_notes, distributions = untrained
    alphabet = protocol.alphabet
    assert [d.shape for d in distributions] == [(len(melody_pitches(p)), len(alphabet)) for p in pieces]
    assert np.allclose([d.sum(axis=1) for d in distributions][0], 1.0)
    assert distributions[0][0] == pytest.approx(first_notes)  # the first note has no past
    piece, rows = pieces[0], predict_pieces(model, pieces, vocabulary)[0]
    second = next(step for step, token in enumerate(piece.tokens) if step > 0 and isinstance(token, int))
    over_pitches = rows[second - 1][vocabulary.encode(alphabet)]
    assert distributions[0][1] == pytest.approx(over_pitches / over_pitches.sum(), rel=1e-5)


def test_note_probabilities_pick_the_pitch_that_came(protocol, untrained):
    *_, pieces, _, distributions = untrained
    probabilities = note_probabilities(distributions, pieces, protocol.alphabet)
    second_pitch = melody_pitches(pieces[0])[1]
    assert len(probabilities) == sum(len(melody_pitches(p)) for p in pieces)
    assert probabilities[1] == pytest.approx(distributions[0][1][protocol.alphabet.index(second_pitch)])


def test_the_short_term_model_helps_a_network_that_knows_nothing(protocol, untrained):
    *_, pieces, _, distributions = untrained
    alone = bits_per_note(note_probabilities(distributions, pieces, protocol.alphabet))
    combined = add_short_term_model(distributions, pieces, protocol.alphabet)
    assert [d.shape for d in combined] == [d.shape for d in distributions]
    assert bits_per_note(note_probabilities(combined, pieces, protocol.alphabet)) < alone


def test_key_normalised_melodies_keep_the_pitches_they_predict(protocol, folds):
    from musegen_lessons.music.melody import transposition_to_c
    from musegen_lessons.music.notation import parse_key

    piece = next(p for p in protocol.pieces if p.key not in ("C major", "A minor"))
    shift = transposition_to_c(*parse_key(piece.key))
    moved = key_normalise(piece)
    assert moved.transposition == shift != 0
    assert [t for t in moved.tokens if isinstance(t, int)] == [p + shift for p in melody_pitches(piece)]
    assert melody_pitches(moved) == melody_pitches(piece)  # the pitches as written, whatever the network reads
    in_c = fold_dataset(protocol, folds, 0, in_c=True)
    written = split_fold(protocol.pieces, folds, 0)[1]
    assert [melody_pitches(p) for p in in_c.pieces["test"]] == [melody_pitches(p) for p in written]


def test_a_network_reading_in_c_is_scored_on_the_pitches_as_written(protocol, untrained):
    model, vocabulary, pieces, first_notes, _ = untrained
    from musegen_lessons.evaluation.likelihood import predict_pieces

    moved = [key_normalise(p) for p in pieces]
    distributions = network_pitch_distributions(model, moved, vocabulary, protocol.alphabet, first_notes)
    rows = predict_pieces(model, moved, vocabulary)[0]
    second = next(step for step, token in enumerate(moved[0].tokens) if step > 0 and isinstance(token, int))
    over_pitches = rows[second - 1][vocabulary.encode([p + moved[0].transposition for p in protocol.alphabet])]
    assert distributions[0][1] == pytest.approx(over_pitches / over_pitches.sum(), rel=1e-5)


def test_some_melodies_share_their_tune_with_another_fold(protocol, folds):
    shared = tunes_across_folds(protocol, folds)
    assert len(shared) == 35 and len(set(shared)) == 35  # lesson 02's tunes, by the edit distance of their outlines
    one_fold = [[p.id for p in protocol.pieces]] * 1
    assert tunes_across_folds(protocol, one_fold) == []  # all in one fold: nothing is shared across


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"source": {}, "pieces": []}', "SOURCE_WITH_BAD_TOKENS"],
    ids=["not JSON", "another version", "tokens that break the rules"],
)
def test_a_damaged_or_stale_cache_is_read_again_not_trusted(protocol, tmp_path, content):
    import music21

    source = {"format": CACHE_FORMAT, "music21": music21.__version__}
    if content == "SOURCE_WITH_BAD_TOKENS":
        piece = {**dataclasses.asdict(protocol.pieces[0]), "tokens": ["HOLD", 60]}  # HOLD with nothing to hold
        content = json.dumps({"source": source, "pieces": [piece], "dropped_notes": {}})
    path = tmp_path / "literature-chorales.json"
    path.write_text(content)
    assert read_protocol_cache(path, source) is None
    path.write_text(
        json.dumps({"source": source, "pieces": [dataclasses.asdict(protocol.pieces[0])], "dropped_notes": {}})
    )
    assert read_protocol_cache(path, source).pieces == protocol.pieces[:1]


def test_every_ppm_system_measured_here_has_its_published_figure():
    for name in literature.PPM_SYSTEMS:
        entry = literature.published_for(name)
        assert entry["source"] == "Pearce 2005, Table 6.7" and 2.3 < entry["bits"] < 2.7
    assert literature.published_for("LTM+C*I alone")["bits"] == 2.375
    assert literature.published_for("a system nobody published") is None


def test_a_paired_comparison_over_folds_sees_a_steady_gain_that_the_folds_spread_would_hide():
    hard_and_easy = np.array([2.6, 2.1, 2.4, 2.0, 2.5, 2.2, 2.3, 2.7, 2.1, 2.4])  # folds differ by half a bit
    better = hard_and_easy - 0.05 + np.tile([0.01, -0.01], 5)  # 0.05 lower on every fold, give or take 0.01
    paired = paired_folds(better, hard_and_easy)
    assert paired["difference"] == pytest.approx(-0.05) and paired["lower_on"] == 10
    assert paired["interval95"][1] < 0  # the spread of the folds (0.24) is far wider than the gain
    assert paired_folds(hard_and_easy, hard_and_easy) == {
        "difference": 0.0,
        "interval95": [0.0, 0.0],
        "lower_on": 0,
        "folds": 10,
    }
    with pytest.raises(ValueError, match="same two or more folds"):
        paired_folds(better[:9], hard_and_easy)


def test_ppm_told_the_key_reads_each_melody_moved_to_c_and_scores_it_differently(protocol, folds):
    in_c = dataclasses.replace(protocol, pieces=[key_normalise(p) for p in protocol.pieces])
    assert sounding_pitches(in_c.pieces[0]) != melody_pitches(in_c.pieces[0])  # moved, unless already in C
    assert [melody_pitches(p) for p in in_c.pieces] == [melody_pitches(p) for p in protocol.pieces]
    settings = {"ltm": {"order": 2, "escape": "c"}, "stm": None, "only_folds": [0]}
    as_written = score_ppm(protocol, folds, **settings)
    told = score_ppm(in_c, folds, **settings, pitches=sounding_pitches)
    assert told["notes"] == as_written["notes"] and 0 < told["bits"] < as_written["bits"]
