"""Polyphony (lesson 08): frames, the benchmark's metric on hand-made frames, the baselines, the MADE masking
property, the numpy sampler against Keras, saving and loading, and both data sources."""

import hashlib
import json
import math
import os
import runpy
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from musegen_lessons.corpora import jsb
from musegen_lessons.corpora.splits import group_by_tune
from musegen_lessons.errors import ChoiceError, DataFileError, MelodyError, ModelFileError, ShapeError
from musegen_lessons.families.polyphony import baselines, metric, models, training
from musegen_lessons.families.polyphony.sampler import FrameSampler
from musegen_lessons.lesson import DATA_DIR
from musegen_lessons.music import frames
from musegen_lessons.music.encoding import PIANO_LOW
from musegen_lessons.music.score import frames_to_score, render_score

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "jsb.py"

C_MAJOR, G7, A_MINOR = [48, 64, 67, 72], [43, 59, 65, 74], [45, 60, 64, 69]


def _piece(*chords):
    return np.array([frames.pitches_to_frame(c) for c in chords], np.uint8)


@pytest.fixture(scope="module")
def tiny_split():
    rng = np.random.default_rng(0)
    chords = [C_MAJOR, G7, A_MINOR, [41, 60, 65, 69]]

    def pieces(n):
        return [_piece(*(chords[i] for i in rng.integers(0, 4, rng.integers(6, 20)))) for _ in range(n)]

    return jsb.FrameSplit("hand-made", False, {"train": pieces(12), "valid": pieces(4), "test": pieces(4)})


@pytest.fixture(
    scope="module",
    params=[
        ("independent", False, "lstm"),
        ("autoregressive", False, "lstm"),
        ("independent", True, "lstm"),
        ("autoregressive", True, "lstm"),
        ("independent", False, "tcn"),
        ("autoregressive", True, "tcn"),
    ],
    ids=lambda p: f"{p[2]}, {p[0]}{', skip' if p[1] else ''}",
)
def small_model(request):
    keras.utils.set_random_seed(0)
    output, skip, body = request.param
    # a TCN of 3 blocks, kernel 2, dilations 1, 2, 4: it sees 1 + 2·(1 + 2 + 4) = 15 frames back
    tcn = {"tcn_channels": 10, "kernel_size": 2, "dilations": (1, 2, 4)}
    return models.build_frame_model(output, lstm_units=12, made_hidden=20, skip=skip, body=body, **tcn)


# --------------------------------------------------------------------------------------------------- frames
def test_pitches_and_frames_round_trip():
    frame = frames.pitches_to_frame([21, 60, 108])
    assert frame.shape == (88,) and frame.sum() == 3 and frame[0] == frame[39] == frame[87] == 1
    assert frames.frame_to_pitches(frame) == [21, 60, 108]


@pytest.mark.parametrize("pitch", [20, 109])
def test_a_pitch_off_the_piano_is_refused(pitch):
    with pytest.raises(MelodyError, match=f"MIDI pitch {pitch} is off the 88-key piano"):
        frames.pitches_to_frame([pitch])


def test_transposition_keeps_the_music_on_the_piano():
    piece = _piece(C_MAJOR, G7)
    assert frames.frame_to_pitches(frames.transpose_frames(piece, 2)[0]) == [50, 66, 69, 74]
    assert frames.transpose_frames(_piece([107]), 2) is None
    assert frames.frame_to_pitches(frames.transpose_frames(_piece([22, 60]), -2, drop=True)[0]) == [58]
    assert len(frames.augment_pieces([piece, _piece([108])], range(-1, 2))) == 5


# --------------------------------------------------------------------------------------------------- metric
def test_a_coin_toss_for_every_key_costs_88_ln_2():
    frames = _piece(C_MAJOR, G7, [])
    nll = metric.frame_nll(np.full(frames.shape, 0.5), frames)
    np.testing.assert_allclose(nll, 88 * math.log(2))
    assert round(float(nll[0]), 2) == 61.0


def test_the_frame_nll_sums_over_keys():
    frame, p = np.zeros(88), np.full(88, 0.1)
    frame[[0, 1]], p[0] = 1, 0.8
    expected = -math.log(0.8) - math.log(0.1) - 86 * math.log(0.9)
    assert metric.frame_nll(p, frame) == pytest.approx(expected)
    with pytest.raises(ShapeError):
        metric.frame_nll(np.full(87, 0.5), np.zeros(87))


def test_a_certain_mistake_costs_a_bounded_amount():
    frame = np.zeros(88)
    frame[0] = 1
    assert metric.frame_nll(np.zeros(88), frame) == pytest.approx(-math.log(metric.EPSILON), rel=1e-3)


def test_frame_accuracy_counts_true_positives_against_all_mistakes():
    truth = _piece([60, 64, 67], [62])
    predicted = _piece([60, 64, 65], [])  # TP 2; FP 1 (65); FN 2 (67, 62)
    assert metric.frame_accuracy(predicted, truth) == pytest.approx(2 / 5)
    assert metric.frame_accuracy(np.zeros_like(truth), truth) == 0.0
    assert metric.frame_accuracy(truth, truth) == 1.0


def test_the_split_score_is_weighted_by_frames_not_by_piece():
    short, long = _piece(C_MAJOR, C_MAJOR), _piece(*[C_MAJOR] * 11)

    def predict(pieces):  # perfect on the short piece (1 frame), a coin toss on the long one (10 frames)
        return [(np.where(p[1:], 1.0, 0.0) if len(p) == 2 else np.full((len(p) - 1, 88), 0.5), p[1:]) for p in pieces]

    score = metric.score_split(predict, [short, long])
    assert score["frames"] == 11
    assert score["nll"] == pytest.approx(10 * 88 * math.log(2) / 11, rel=1e-4)


# ------------------------------------------------------------------------------------------------ baselines
def test_the_frequency_model_predicts_each_keys_share_of_frames():
    piece = _piece(C_MAJOR, C_MAJOR, G7)
    model = baselines.FrequencyModel().fit([piece], smoothing=0)
    assert model.p[frames.pitches_to_frame([48]).argmax()] == 0.5  # C3 in one of the two scored frames
    assert model.p[frames.pitches_to_frame([67]).argmax()] == 0.5 and model.p[0] == 0


def test_the_markov_model_knows_what_each_key_did_last():
    piece = _piece([60], [60], [60], [], [60], [])
    with np.errstate(invalid="ignore"):  # unsmoothed, a key that never sounds has no estimate
        model = baselines.MarkovModel().fit([piece], smoothing=0)
    key = 60 - PIANO_LOW
    assert model.p[1, key] == pytest.approx(2 / 4) and model.p[0, key] == 1.0
    ((probabilities, _),) = model.predict([piece])
    assert probabilities.shape == (5, 88) and probabilities[2, key] == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------------ the masks
def test_made_masks_let_key_k_see_only_lower_keys():
    to_hidden, to_output, direct = models.made_masks(88, 200)
    reach = (to_hidden @ to_output > 0) | (direct > 0)  # reach[i, k]: can key i influence output k?
    assert not np.any(np.tril(reach))  # never from key k itself or a higher key
    assert reach[:, 87].sum() == 87  # the highest key sees every key below it


def test_the_model_gives_88_probabilities_per_step(small_model):
    inputs = np.random.default_rng(0).integers(0, 2, (3, 10, 88)).astype("float32")
    feed = training.model_inputs(small_model, inputs, inputs)
    out = np.asarray(small_model(feed))
    assert out.shape == (3, 10, 88) and np.all((out > 0) & (out < 1))


def test_key_k_ignores_itself_higher_keys_and_the_future(small_model):
    rng = np.random.default_rng(1)
    previous = rng.integers(0, 2, (1, 12, 88)).astype("float32")
    current = np.concatenate([previous[:, 1:], rng.integers(0, 2, (1, 1, 88))], axis=1).astype("float32")

    def run(prev, cur):
        return np.asarray(small_model(training.model_inputs(small_model, prev, cur)))

    base, t = run(previous, current), 5
    for k in (0, 30, 87):
        prev, cur = previous.copy(), current.copy()
        cur[0, t, k:] = 1 - cur[0, t, k:]  # key k and every key above it, in the frame being predicted
        cur[0, t + 1 :] = 1 - cur[0, t + 1 :]  # every later frame
        prev[0, t + 1 :] = 1 - prev[0, t + 1 :]
        changed = run(prev, cur)
        np.testing.assert_allclose(changed[0, t, k], base[0, t, k], atol=1e-6)
        np.testing.assert_allclose(changed[0, :t], base[0, :t], atol=1e-6)
    if models.is_autoregressive(small_model):  # and it is not deaf: a lower key does change key k's probability
        cur = current.copy()
        cur[0, t, :40] = 1 - cur[0, t, :40]
        assert not np.allclose(run(previous, cur)[0, t, 40:], base[0, t, 40:], atol=1e-6)


def test_the_numpy_sampler_computes_what_keras_computes(small_model):
    rng = np.random.default_rng(2)
    piece = rng.integers(0, 2, (9, 88)).astype("float32")
    inputs, targets, _ = training.pad_pieces([piece])
    feed = training.model_inputs(small_model, inputs, targets)
    keras_p = np.asarray(small_model(feed))[0, :8]
    sampler = FrameSampler(small_model)
    numpy_p = sampler.probabilities(sampler.hidden_states(piece[:-1]), piece[1:])
    np.testing.assert_allclose(numpy_p, keras_p, atol=2e-6)


def test_sampling_continues_the_seed(small_model):
    seed = _piece(C_MAJOR, G7, C_MAJOR)
    sampler = FrameSampler(small_model)
    frames = sampler.sample(seed, 5, seed=3)
    assert frames.shape == (8, 88) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[:3], seed)
    np.testing.assert_array_equal(frames, sampler.sample(seed, 5, seed=3))  # same seed, same music
    with pytest.raises(MelodyError, match="at least one seed frame"):
        sampler.sample(np.zeros((0, 88)), 4)


def test_greedy_decoding_keeps_the_keys_keras_is_sure_of(small_model):
    """Decoded in numpy, judged by Keras: each key is on exactly when Keras, fed the decoded frame (the keys
    below it, for the MADE output), gives it a probability above 0.5."""
    piece = _piece(C_MAJOR, G7, A_MINOR, C_MAJOR)
    sampler = FrameSampler(small_model)
    greedy = sampler.decode(sampler.hidden_states(piece[:-1]), greedy=True)
    inputs, _, _ = training.pad_pieces([piece])
    decoded = np.zeros_like(inputs)
    decoded[0, : len(greedy)] = greedy
    keras_p = np.asarray(small_model(training.model_inputs(small_model, inputs, decoded)))[0, : len(greedy)]
    np.testing.assert_array_equal(greedy, keras_p > 0.5)


def test_a_tcn_body_sees_exactly_its_receptive_field_and_an_unknown_body_is_refused():
    keras.utils.set_random_seed(0)
    model = models.build_frame_model("independent", body="tcn", tcn_channels=6, kernel_size=3, dilations=(1, 2))
    frames = np.random.default_rng(4).integers(0, 2, (1, 30, 88)).astype("float32")
    base = np.asarray(model(training.model_inputs(model, frames, frames)))[0, -1]
    field = 1 + 2 * (3 - 1) * (1 + 2)  # two convolutions per block
    for t, inside in [(29 - field + 1, True), (29 - field, False)]:
        changed = frames.copy()
        changed[0, t] = 1 - changed[0, t]
        moved = not np.allclose(
            np.asarray(model(training.model_inputs(model, changed, changed)))[0, -1], base, atol=1e-7
        )
        assert moved == inside, f"frame {t}"
    with pytest.raises(ChoiceError, match="body must be 'lstm' or 'tcn'"):
        models.build_frame_model("independent", body="gru")


# --------------------------------------------------------------------------------------- training and files
def test_training_keeps_the_best_validation_weights(tiny_split):
    model, history, seconds = training.train_frame_model(
        tiny_split, "autoregressive", epochs=3, patience=5, lstm_units=8, made_hidden=16
    )
    assert len(history["val_nll"]) == 3 and seconds > 0
    score = metric.score_split(lambda p: training.keras_predict(model, p), tiny_split.pieces["valid"])
    assert score["nll"] == pytest.approx(min(history["val_nll"]), rel=1e-4)
    assert 0 <= score["accuracy"] <= 1


def test_a_saved_model_loads_and_predicts_the_same(small_model, tmp_path):
    models.save_frame_model(small_model, {"test": {"nll": 1.0}}, tmp_path)
    loaded, metrics = models.load_frame_model(tmp_path)
    assert metrics == {"test": {"nll": 1.0}}
    piece = _piece(C_MAJOR, G7, A_MINOR, C_MAJOR)
    (before,) = training.keras_predict(small_model, [piece])
    (after,) = training.keras_predict(loaded, [piece])
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)


def test_missing_or_damaged_model_files_are_explained(tmp_path):
    with pytest.raises(ModelFileError, match="No frame model"):
        models.load_frame_model(tmp_path)
    (tmp_path / models.MODEL_FILE).write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not a readable"):
        models.load_frame_model(tmp_path)


# ---------------------------------------------------------------------------------------------- data sources
def _write_jsb(path, splits):
    path.write_text(json.dumps(splits))
    return path


def test_a_file_in_the_benchmark_format_is_read(tmp_path):
    piece = [[60, 64, 67], [], [59, 62, 67, 74]]
    split = jsb.read_jsb(_write_jsb(tmp_path / "jsb.json", {"train": [piece], "valid": [piece], "test": [piece]}))
    assert split.official and split.pieces["test"][0].shape == (3, 88)
    assert frames.frame_to_pitches(split.pieces["train"][0][2]) == [59, 62, 67, 74]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"train": []}',
        '{"train": [[[200]]], "valid": [], "test": []}',
        '{"train": [[[60]]], "valid": [[[60], [62]]], "test": [[[60], [62]]]}',
    ],
)
def test_a_damaged_benchmark_file_is_explained(tmp_path, content):
    path = tmp_path / "jsb.json"
    path.write_text(content)
    with pytest.raises(DataFileError):
        jsb.read_jsb(path)


def test_a_missing_benchmark_file_named_by_the_user_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv(jsb.JSB_ENV, str(tmp_path / "absent.json"))
    with pytest.raises(DataFileError, match="No JSB file"):
        jsb.load_frame_split()


def test_the_official_split_and_its_published_floors(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARK.parent))  # as when the script runs: its folder's modules importable
    monkeypatch.delenv(jsb.JSB_ENV, raising=False)
    path = runpy.run_path(str(BENCHMARK))["benchmark_file"]()  # where the benchmark finds it: the course's copy
    assert path == jsb.JSB_FILE
    split = jsb.read_jsb(path)
    assert [len(split.pieces[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    test = split.pieces["test"]
    frequency = metric.score_split(baselines.FrequencyModel().fit(split.pieces["train"]).predict, test)
    markov = metric.score_split(baselines.MarkovModel().fit(split.pieces["train"]).predict, test)
    assert frequency["frames"] == 4648
    assert round(frequency["nll"], 2) == 11.09 and round(markov["nll"], 2) == 10.49  # the README's floors


def test_a_chorale_becomes_four_voices_per_quarter(chorale):
    frames = jsb.chorale_frames(chorale)
    assert frames.shape[1] == 88 and len(frames) == pytest.approx(chorale.highestTime, abs=1)
    counts = frames.sum(axis=1)
    assert counts.min() == 3 and counts.max() == 4  # 3 where two voices sing the same note
    assert np.mean(counts == 4) > 0.7


def test_the_music21_split_is_key_normalised_and_split_by_tune():
    split = jsb.build_chorale_split(quick=True, progress=False)
    assert not split.official and all(split.pieces[s] for s in ("train", "valid", "test"))
    frames = np.concatenate(split.pieces["train"])
    by_class = np.bincount((np.nonzero(frames)[1] + PIANO_LOW) % 12, minlength=12)
    assert by_class.argmax() in (0, 7)  # C (tonic) or G (dominant) is the commonest pitch class
    assert metric.chord_statistics(frames)["four_notes"] > 0.7
    names = ("train", "valid", "test")
    pieces = [(s, jsb.top_line(p)) for s in names for p in split.pieces[s]]
    splits_of_each_tune = [
        {pieces[i][0] for i in members} for members in group_by_tune([t for _, t in pieces]).values()
    ]
    assert all(len(splits) == 1 for splits in splits_of_each_tune)  # no tune in two splits


# ------------------------------------------------------------------------------------------------ music out
def test_chord_statistics_count_four_note_and_in_key_frames():
    stats = metric.chord_statistics(_piece(C_MAJOR, G7, [60, 61, 62, 63], []))
    assert stats["four_notes"] == 0.75 and stats["in_key"] == pytest.approx(2 / 3) and stats["mean_notes"] == 3


def test_frames_are_engraved_on_two_staves():
    score = frames_to_score(_piece(C_MAJOR, G7, C_MAJOR))
    assert len(score.parts) == 2
    assert sorted(p.midi for n in score.parts[1].recurse().notes for p in n.pitches) == [
        43,
        48,
        48,
        59,
        64,
        64,
    ]  # the lower two of each chord
    assert "<svg" in render_score(score)._repr_svg_()


def test_a_chorale_s_frames_are_engraved_in_the_key_found_in_them():
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    c_minor = [48, 55, 63, 72]  # C3 G3 Eb4 C5
    g_major = [43, 55, 62, 71]  # G2 G3 D4 B4
    score = frames_to_score(_piece(c_minor, g_major, c_minor, c_minor))
    musicxml = GeneralObjectExporter(score).parse().decode()
    assert musicxml.count("<fifths>-3</fifths>") == 2  # C minor's three flats, on both staves
    assert "<step>E</step>\n          <alter>-1</alter>" in musicxml  # E flat, not D sharp
    assert (
        "<fifths>2</fifths>" in GeneralObjectExporter(frames_to_score(_piece(g_major), key="D major")).parse().decode()
    )


@pytest.mark.parametrize("value", ["", "  "])
def test_the_course_s_copy_of_the_benchmark_is_read_by_default(monkeypatch, value):
    monkeypatch.setenv(jsb.JSB_ENV, value)
    assert jsb.find_jsb() == jsb.JSB_FILE
    full, quick = jsb.load_frame_split(quick=False), jsb.load_frame_split(quick=True)
    assert full.official and [len(full.pieces[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    assert [len(quick.pieces[s]) for s in ("train", "valid", "test")] == [60, 20, 20] and "quick" in quick.source
    assert all(np.array_equal(a, b) for a, b in zip(quick.pieces["test"], full.pieces["test"]))  # the first ones


def test_the_benchmark_files_are_the_ones_whose_provenance_data_readme_gives():
    readme = (DATA_DIR / "README.md").read_text()
    for path in (jsb.JSB_FILE, jsb.JSB_VOICES_FILE):
        assert f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}" in readme


def test_off_makes_the_lesson_use_music21s_chorales(monkeypatch):
    monkeypatch.setenv(jsb.JSB_ENV, "off")
    assert jsb.find_jsb() is None
    assert not jsb.load_frame_split(quick=True, progress=False).official


def test_the_voices_file_holds_the_same_split_with_four_voices_apart():
    voices = jsb.read_jsb_voices()
    frames = jsb.read_jsb(jsb.JSB_FILE)
    assert [len(voices[s]) for s in ("train", "valid", "test")] == [229, 76, 77]
    piece = voices["train"][0]
    assert piece.shape[1] == 4 and piece.dtype.kind == "i"
    sounding = piece[piece != jsb.REST]
    assert sounding.min() >= 21 and sounding.max() <= 108  # on the piano, as the frames
    # Soprano above bass wherever both sing; four 16th notes to the quarter note of the frames file.
    both = (piece[:, 0] != jsb.REST) & (piece[:, 3] != jsb.REST)
    assert np.all(piece[both, 0] > piece[both, 3])
    steps = sum(len(p) for p in voices["test"])
    assert steps == pytest.approx(4 * sum(len(p) for p in frames.pieces["test"]), rel=0.02)


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not the JSB split with voices apart"),
        ('{"train": [[[60, 55, 52, 48], [60, 55, 52]]], "valid": [], "test": []}', "not the JSB split"),
        ('{"train": [[[60, 55, 52, 48], [60, 55, 52, 200]]], "valid": [[]], "test": [[]]}', "neither a MIDI pitch"),
        ('{"train": [[[60, 55, 52, 48], [60, 55, 52, 48]]], "valid": [], "test": []}', "empty split"),
    ],
)
def test_a_damaged_voices_file_is_explained(tmp_path, content, message):
    path = tmp_path / "voices.json"
    path.write_text(content)
    with pytest.raises(DataFileError, match=message):
        jsb.read_jsb_voices(path)
    with pytest.raises(DataFileError, match="No JSB voices file"):
        jsb.read_jsb_voices(tmp_path / "absent.json")


def test_the_benchmark_skips_cleanly_without_the_file():
    results = BENCHMARK.with_name("results") / "jsb.json"
    before = results.stat().st_mtime_ns if results.is_file() else None
    done = subprocess.run(
        [sys.executable, str(BENCHMARK)],
        env={**os.environ, jsb.JSB_ENV: "off"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "skipped" in done.stdout
    after = results.stat().st_mtime_ns if results.is_file() else None
    assert after == before  # the measured results are kept, not overwritten with nothing
