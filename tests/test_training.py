"""Scoring and training melody models, and the `musegen train` command, on a few real chorales."""

import json
import math
import os

import keras
import numpy as np
import pytest

from musegen_lessons.corpora.dataset import build_dataset, step_positions
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.course.cli import main
from musegen_lessons.evaluation.likelihood import (
    evaluate_model,
    evaluate_ngram,
    next_token_scores,
    paired_difference,
    predict_pieces,
    run_baselines,
)
from musegen_lessons.families.lstm import build_melody_model
from musegen_lessons.families.ngram import NGramModel
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.families.training import train_melody_model

TINY = {"lstm_units": 8, "lstm_layers": 1, "conv_filters": 8, "embedding_dim": 8, "position_dim": 4}


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    os.environ["MUSEGEN_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        pieces = load_melodies("chorales", limit=24, quick=False, progress=False).pieces
    finally:
        del os.environ["MUSEGEN_CACHE"]
    return build_dataset(pieces, window_steps=32, stride=16)


def test_scores_of_hand_made_predictions():
    # three steps over REST, HOLD, C4: right on HOLD, right on the onset, wrong on the last onset
    probabilities = np.array([[0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]])
    scores = next_token_scores(np.log(probabilities), np.array([1, 2, 2]))
    assert scores["nll"] == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.1)) / 3)
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["onset_accuracy"] == pytest.approx(1 / 2)
    assert scores["tokens"] == 3


def test_onset_accuracy_is_undefined_without_onsets():
    scores = next_token_scores(np.log(np.full((2, 3), 1 / 3)), np.array([1, 1]))
    assert math.isnan(scores["onset_accuracy"])


def test_one_padded_batch_predicts_what_each_piece_gets_alone(small_dataset):
    model, vocabulary, _ = load_melody_model()
    pieces = small_dataset.pieces["test"][:3]
    assert len({len(p.tokens) for p in pieces}) > 1  # pieces of different lengths: padding is tested
    for piece, together in zip(pieces, predict_pieces(model, pieces, vocabulary)):
        ids, positions = vocabulary.encode(piece.tokens), step_positions(piece)
        alone = np.asarray(model({"tokens": ids[None, :-1], "positions": positions[None, :-1]}))[0]
        assert together.shape == (len(piece.tokens) - 1, len(vocabulary))
        np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_limited_context_predicts_each_token_from_its_last_steps_only(small_dataset):
    keras.utils.set_random_seed(1)
    model, vocabulary = build_melody_model(len(small_dataset.vocabulary), **TINY), small_dataset.vocabulary
    piece = min(small_dataset.pieces["test"], key=lambda p: len(p.tokens))
    whole = evaluate_model(model, [piece], vocabulary)
    assert evaluate_model(model, [piece], vocabulary, context=len(piece.tokens))["nll"] == pytest.approx(whole["nll"])
    ids, positions = vocabulary.encode(piece.tokens), step_positions(piece)
    [rows] = predict_pieces(model, [piece], vocabulary)
    expected = -sum(np.log(rows[k, ids[k + 1]]) for k in range(8))  # the first 8 have no more past than 8 steps
    for k in range(8, len(ids) - 1):  # token k + 1 from tokens k − 7 … k, and nothing before them
        window = {"tokens": ids[None, k - 7 : k + 1], "positions": positions[None, k - 7 : k + 1]}
        expected -= np.log(np.asarray(model(window))[0, -1, ids[k + 1]])
    limited = evaluate_model(model, [piece], vocabulary, context=8)
    assert limited["piece_losses"][0] == pytest.approx(expected, rel=1e-4)
    assert limited["nll"] != pytest.approx(whole["nll"], abs=1e-6)


def test_ngram_evaluation_skips_the_first_token_of_each_piece(small_dataset):
    vocabulary = small_dataset.vocabulary
    train = [vocabulary.encode(p.tokens) for p in small_dataset.pieces["train"]]
    ngram = NGramModel(3, len(vocabulary)).fit(train)
    test = small_dataset.pieces["test"]
    scores = evaluate_ngram(ngram, test, vocabulary)
    expected = np.concatenate([ngram.token_log_probs(vocabulary.encode(p.tokens))[1:] for p in test])
    assert scores["nll"] == pytest.approx(-expected.mean())
    assert scores["tokens"] == sum(len(p.tokens) - 1 for p in test)
    assert sum(scores["piece_losses"]) / sum(scores["piece_tokens"]) == pytest.approx(scores["nll"], abs=1e-6)


def test_the_paired_difference_of_two_models_on_the_same_pieces(small_dataset):
    vocabulary = small_dataset.vocabulary
    train = [vocabulary.encode(p.tokens) for p in small_dataset.pieces["train"]]
    test = small_dataset.pieces["test"]
    low, high = (evaluate_ngram(NGramModel(n, len(vocabulary)).fit(train), test, vocabulary) for n in (1, 3))
    same = paired_difference(high, high)
    assert same["difference"] == 0 and same["interval95"] == [0, 0]
    better = paired_difference(high, low)
    assert better["difference"] == pytest.approx(high["nll"] - low["nll"])
    assert better["interval95"][0] < better["difference"] < better["interval95"][1] < 0
    with pytest.raises(ValueError, match="same pieces"):
        paired_difference(high, evaluate_ngram(NGramModel(1, len(vocabulary)).fit(train), test[:-1], vocabulary))


def test_baselines_cover_orders_1_to_5_a_long_context_and_the_position_in_the_bar(small_dataset):
    rows = run_baselines(small_dataset, long_orders=(6, 8))
    assert [r["model"] for r in rows][:5] == ["1-gram", "2-gram", "3-gram", "4-gram", "5-gram"]
    assert rows[-2]["model"] in ("long-context 6-gram", "long-context 8-gram")
    assert rows[-1]["model"].endswith("-gram by position") and "by position" in rows[-1]["smoothing"]
    assert all(0 < r["test"]["nll"] < math.log(len(small_dataset.vocabulary)) + 1 for r in rows)


def test_training_improves_on_the_untrained_model_and_checkpoints(small_dataset, tmp_path):
    checkpoint = tmp_path / "best.keras"
    model, history, seconds = train_melody_model(
        small_dataset, build_melody_model, 2, checkpoint=checkpoint, verbose=0, **TINY
    )
    assert set(history) >= {"loss", "val_loss", "accuracy", "val_accuracy"} and len(history["loss"]) == 2
    assert history["loss"][-1] < history["loss"][0]
    assert checkpoint.is_file() and seconds > 0
    scores = evaluate_model(model, small_dataset.pieces["valid"], small_dataset.vocabulary)
    assert scores["nll"] < math.log(len(small_dataset.vocabulary))  # better than guessing uniformly


def test_musegen_train_writes_model_vocabulary_and_metrics(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUSEGEN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "model"
    arguments = [
        "train",
        "--limit",
        "12",
        "--epochs",
        "1",
        "--lstm-units",
        "8",
        "--conv-filters",
        "8",
        "--window",
        "32",
        "--stride",
        "16",
        "--out",
        str(out),
    ]
    assert main(arguments) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["command"] == "musegen " + " ".join(arguments)
    assert metrics["epochs_run"] == 1 and metrics["test"]["tokens"] > 0
    model, vocabulary, _ = load_melody_model(out)
    assert model.output_shape[-1] == len(vocabulary)
    assert "test " in capsys.readouterr().out


def test_musegen_train_refuses_zero_epochs_and_writes_nothing(tmp_path, capsys):
    assert main(["train", "--epochs", "0", "--out", str(tmp_path / "model")]) == 2
    assert "argument --epochs: must be a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "model").exists()


def test_musegen_train_trains_and_saves_a_transformer(tmp_path, capsys):
    from musegen_lessons.families.transformer import load_transformer_model

    out = tmp_path / "transformer"
    arguments = ["train", "--architecture", "transformer", "--no-pretrain", "--limit", "12", "--steps", "2"]
    assert main(arguments + ["--out", str(out)]) == 0
    model, vocabulary, metrics = load_transformer_model(out)
    assert metrics["history"]["stage"] == ["chorales"] and metrics["test"]["tokens"] > 0
    assert model.output_shape[-1] == len(vocabulary)
    assert "test " in capsys.readouterr().out
