"""The melody model: its shapes, its causality, saving and loading it safely, and the kept model kept in data/."""

import json

import keras
import numpy as np
import pytest

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.errors import ModelFileError
from musegen_lessons.evaluation.likelihood import evaluate_model
from musegen_lessons.families.lstm import build_melody_model
from musegen_lessons.families.saving import KEPT_MODELS, MODEL_FILE, load_melody_model, save_melody_model
from musegen_lessons.music.encoding import Vocabulary

VOCAB = Vocabulary(range(60, 73))


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(0)
    return build_melody_model(len(VOCAB), embedding_dim=8, position_dim=4, conv_filters=8, lstm_units=8)


def _inputs(steps=24, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "tokens": rng.integers(0, len(VOCAB), (2, steps)).astype("int32"),
        "positions": (np.arange(steps)[None].repeat(2, 0) % 16).astype("int32"),
    }


def test_the_model_gives_a_distribution_at_every_step(small_model):
    out = np.asarray(small_model(_inputs()))
    assert out.shape == (2, 24, len(VOCAB))
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-5)


def test_no_output_step_sees_its_future(small_model):
    inputs = _inputs()
    changed = {key: value.copy() for key, value in inputs.items()}
    changed["tokens"][:, 12] = (changed["tokens"][:, 12] + 1) % len(VOCAB)
    difference = np.abs(np.asarray(small_model(changed)) - np.asarray(small_model(inputs)))
    assert difference[:, :12].max() == 0.0
    assert difference[:, 12:].max() > 0.0


def test_the_beat_input_changes_the_prediction(small_model):
    inputs = _inputs()
    shifted = {"tokens": inputs["tokens"], "positions": (inputs["positions"] + 4) % 16}
    assert np.abs(np.asarray(small_model(shifted)) - np.asarray(small_model(inputs))).max() > 0.0


def test_without_the_beat_input_the_positions_change_nothing_and_the_step_generators_agree():
    from musegen_lessons.families.lstm import KerasStepGenerator, NumpyStepGenerator

    keras.utils.set_random_seed(0)
    model = build_melody_model(len(VOCAB), embedding_dim=8, position_dim=0, conv_filters=8, lstm_units=8)
    inputs = _inputs()
    shifted = {"tokens": inputs["tokens"], "positions": (inputs["positions"] + 4) % 16}
    reference = np.asarray(model(inputs))
    assert np.abs(np.asarray(model(shifted)) - reference).max() == 0.0
    assert "beat_embedding" not in {layer.name for layer in model.layers}
    for generator in (NumpyStepGenerator(model), KerasStepGenerator(model)):
        steps = [generator.step(int(t), int(p)) for t, p in zip(inputs["tokens"][0], inputs["positions"][0])]
        assert np.abs(np.array(steps) - reference[0]).max() <= 1e-5


def test_save_and_load_give_the_same_outputs(small_model, tmp_path):
    save_melody_model(small_model, VOCAB, {"note": "test"}, tmp_path / "m")
    model, vocabulary, metrics = load_melody_model(tmp_path / "m")
    assert vocabulary == VOCAB and metrics == {"note": "test"}
    np.testing.assert_array_equal(np.asarray(model(_inputs())), np.asarray(small_model(_inputs())))


def test_a_missing_model_says_how_to_make_one(tmp_path):
    with pytest.raises(ModelFileError, match="musegen train"):
        load_melody_model(tmp_path / "nothing here")


@pytest.mark.parametrize("content", [b"", b"not a model", b"PK\x03\x04 truncated zip"])
def test_a_damaged_model_file_is_a_clear_error(tmp_path, small_model, content):
    folder = save_melody_model(small_model, VOCAB, {}, tmp_path / "m")
    (folder / MODEL_FILE).write_bytes(content)
    with pytest.raises(ModelFileError, match="not a readable Keras model"):
        load_melody_model(folder)


def test_a_truncated_model_file_is_a_clear_error(tmp_path, small_model):
    folder = save_melody_model(small_model, VOCAB, {}, tmp_path / "m")
    data = (folder / MODEL_FILE).read_bytes()
    (folder / MODEL_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        load_melody_model(folder)


def test_a_vocabulary_that_does_not_belong_to_the_model_is_refused(tmp_path, small_model):
    folder = save_melody_model(small_model, VOCAB, {}, tmp_path / "m")
    Vocabulary(range(60, 62)).save(folder / "vocabulary.json")
    with pytest.raises(ModelFileError, match="do not belong together"):
        load_melody_model(folder)


def test_safe_mode_refuses_a_model_that_carries_code(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    folder = tmp_path / "m"
    folder.mkdir()
    model.save(folder / MODEL_FILE)
    Vocabulary([]).save(folder / "vocabulary.json")
    with pytest.raises(ModelFileError):
        load_melody_model(folder)


@pytest.mark.parametrize("name", sorted(KEPT_MODELS))
def test_the_kept_model_was_made_by_musegen_train(name):
    _, _, metrics = load_melody_model(KEPT_MODELS[name])
    assert metrics["command"].startswith("musegen train")
    assert metrics["test"]["tokens"] > 5000


@pytest.mark.parametrize("name", sorted(KEPT_MODELS))
def test_the_kept_model_scores_what_its_metrics_record(name):
    """Loads the whole chorale corpus (cached after the first run) and re-measures a kept model's test split (the
    split by tune does not depend on the window length, which only the training windows use)."""
    model, vocabulary, metrics = load_melody_model(KEPT_MODELS[name])
    dataset = build_dataset(load_melodies("chorales", quick=False, progress=False).pieces)
    assert dataset.vocabulary == vocabulary
    assert {split: len(p) for split, p in dataset.pieces.items()} == metrics["pieces"]
    scores = evaluate_model(model, dataset.pieces["test"], vocabulary)
    assert scores["tokens"] == metrics["test"]["tokens"]
    assert scores["nll"] == pytest.approx(metrics["test"]["nll"], abs=1e-4)
    assert scores["onset_accuracy"] == pytest.approx(metrics["test"]["onset_accuracy"], abs=1e-4)
    json.dumps(scores)
