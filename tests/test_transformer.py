"""The melody Transformer (musegen_lessons.families.transformer and relative_layer): the Keras layer and model proven
equal to their numpy mirror on a real chorale, the key/value cache proven equal to recomputing, saving and loading in
safe mode, and pretraining followed by fine-tuning."""

import numpy as np
import pytest

from musegen_lessons.corpora.bundled import load_chorale, melody_notes, soprano_part
from musegen_lessons.corpora.cleaning import Piece
from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.errors import ChoiceError, ModelFileError
from musegen_lessons.evaluation import attention_maps
from musegen_lessons.families import transformer
from musegen_lessons.layers import attention
from musegen_lessons.music.encoding import Vocabulary, notes_to_tokens

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def melody_ids():
    """The bundled chorale's soprano as token ids, its positions in the bar, and the vocabulary size."""
    tokens = notes_to_tokens(melody_notes(soprano_part(load_chorale())))
    vocabulary = Vocabulary.from_melodies([tokens])
    return (
        np.asarray(vocabulary.encode(tokens), np.int32),
        (np.arange(len(tokens)) % 16).astype(np.int32),
        len(vocabulary),
    )


def _model(size, seed=2, **options):
    import keras

    keras.utils.set_random_seed(seed)
    return transformer.build_transformer_model(size, **{"model_dim": 32, "heads": 2, "layers": 2, **options})


def _keras_probabilities(model, ids, positions):
    return np.asarray(model({"tokens": ids[None], "positions": positions[None]}))[0]


def test_the_relative_attention_layer_equals_its_equations(melody_ids):
    import keras

    from musegen_lessons.layers.relative_attention import RelativeAttention

    ids, _, size = melody_ids
    x = np.asarray(keras.layers.Embedding(size, 24)(ids[None]))
    layer = RelativeAttention(3, 8, max_distance=10)
    expected = np.asarray(layer(x))[0]
    w = [np.asarray(a, np.float64) for a in layer.get_weights()]
    weights = {name: (w[2 * i], w[2 * i + 1]) for i, name in enumerate(("query", "key", "value", "output"))}
    got, maps = attention.multi_head_attention(x[0], weights, relative=w[8])
    assert np.abs(got - expected).max() < TOLERANCE
    assert (maps[:, np.triu_indices(len(ids), k=1)[0], np.triu_indices(len(ids), k=1)[1]] == 0).all()


@pytest.mark.parametrize("options", [{}, {"max_distance": 6}, {"position_dim": 0}], ids=["full", "clipped", "no beat"])
def test_numpy_forward_and_both_generators_equal_the_keras_model(melody_ids, options):
    ids, positions, size = melody_ids
    model = _model(size, **options)
    expected = _keras_probabilities(model, ids, positions)
    forward, maps = transformer.transformer_forward(transformer.transformer_weights(model), ids, positions)
    assert np.abs(forward - expected).max() < TOLERANCE
    assert len(maps) == 2 and maps[0].shape == (2, len(ids), len(ids))
    cached = transformer.CachedTransformerGenerator(model)
    cached.reset(room=8)  # far less room than the melody: the cache must grow on the way
    for generator in (cached, transformer.RecomputeTransformerGenerator(model)):
        stepped = np.array([generator.step(int(t), int(p)) for t, p in zip(ids, positions)])
        assert np.abs(stepped - expected).max() < TOLERANCE, type(generator).__name__


def test_prime_is_the_same_as_stepping(melody_ids):
    ids, positions, size = melody_ids
    model = _model(size)
    expected = _keras_probabilities(model, ids[:20], positions[:20])[-1]
    for generator in (transformer.CachedTransformerGenerator(model), transformer.RecomputeTransformerGenerator(model)):
        generator.prime(ids[:19], positions[:19])
        assert np.abs(generator.step(int(ids[19]), int(positions[19])) - expected).max() < TOLERANCE


def test_attention_distance_measures_how_far_back_a_head_looks():
    steps = 6
    to_itself = np.eye(steps)[None]
    to_the_first = np.zeros((1, steps, steps))
    to_the_first[0, :, 0] = 1
    assert attention_maps.attention_distance(to_itself)[0] == 0
    assert attention_maps.attention_distance(to_the_first)[0] == pytest.approx(np.mean(np.arange(steps)))


def test_a_saved_transformer_loads_in_safe_mode_and_predicts_the_same(tmp_path, melody_ids):
    from musegen_lessons.families.saving import save_melody_model

    ids, positions, size = melody_ids
    model = _model(size)
    vocabulary = Vocabulary(range(60, 60 + size - 2))
    save_melody_model(model, vocabulary, {"made by": "a test"}, tmp_path)
    loaded, loaded_vocabulary, metrics = transformer.load_transformer_model(tmp_path)
    assert metrics == {"made by": "a test"} and len(loaded_vocabulary) == size
    assert np.abs(_keras_probabilities(loaded, ids, positions) - _keras_probabilities(model, ids, positions)).max() == 0


def test_loading_another_kind_of_model_as_a_transformer_is_refused():
    from musegen_lessons.families.saving import KEPT_MODEL

    with pytest.raises(ModelFileError, match="not a melody Transformer"):
        transformer.load_transformer_model(KEPT_MODEL)


def _pieces(count, offset):
    rng = np.random.default_rng(offset)
    pieces = []
    for index in range(count):
        pitches = rng.integers(60, 72, 40)
        tokens = [t for p in pitches for t in (int(p), "HOLD")]
        pieces.append(Piece(f"p{offset}-{index}", "test", f"tune {offset}-{index}", "C major", 0, "4/4", 16, 0, tokens))
    return pieces


def test_pretraining_then_fine_tuning_spends_the_budget_in_two_stages():
    chorales = build_dataset(_pieces(30, 0), window_steps=16, stride=8)
    folk = build_dataset(_pieces(20, 1), window_steps=16, stride=8, vocabulary=chorales.vocabulary)
    options = {"model_dim": 16, "heads": 2, "layers": 1, "feedforward_dim": 16, "verbose": 0}
    _, history, seconds = transformer.train_transformer(
        chorales, folk, steps=8, steps_per_round=2, pretrain_share=0.5, **options
    )
    assert history["stage"] == ["pretrain"] * 2 + ["fine-tune"] * len(history["stage"][2:])
    assert 1 <= len(history["stage"][2:]) <= 2 and seconds > 0
    assert len(history["val_loss"]) == len(history["stage"])  # the chorales alone: tests/test_training.py's CLI test


def test_a_budget_that_does_not_make_whole_rounds_is_refused_before_training():
    chorales = build_dataset(_pieces(30, 0), window_steps=16, stride=8)
    with pytest.raises(ChoiceError, match="do not make whole rounds"):
        transformer.train_transformer(chorales, chorales, steps=7, steps_per_round=2, pretrain_share=0.5, verbose=0)


def test_pretraining_keeps_only_the_pieces_the_vocabulary_and_the_beat_input_can_take():
    (fits,) = _pieces(1, 2)
    too_high = Piece("high", "test", "high", "C major", 0, "4/4", 16, 0, [90, "HOLD"] * 10)
    long_bar = Piece("long", "test", "long", "C major", 0, "16/4", 64, 0, [62, "HOLD"] * 10)
    vocabulary = Vocabulary(range(55, 80))
    assert transformer.pretraining_pieces([fits, too_high, long_bar], vocabulary) == [fits]


def test_attention_shares_find_a_head_that_looks_at_the_downbeats():
    steps, bar = 32, 8
    downbeats = np.arange(steps) % bar == 0
    onsets = np.arange(steps) % 2 == 0
    a = np.zeros((1, steps, steps))
    for i in range(steps):
        a[0, i, i - i % bar] = 1  # the downbeat of the query's own bar
    distance, near, on_onsets, on_downbeats, bars_back = attention_maps.attention_shares(a, onsets, downbeats, bar)[0]
    assert (on_onsets, on_downbeats) == (1, 1)
    # from a bar's last step its downbeat is a whole bar before the token predicted, the next bar's downbeat
    assert bars_back == pytest.approx(4 / 32)
    assert near == pytest.approx(8 / 32)  # the downbeat itself, and the step after it
    assert distance == pytest.approx(np.mean(np.arange(steps) % bar))
    uniform = attention_maps.attention_shares(attention_maps.uniform_attention(steps), onsets, downbeats, bar)[0]
    assert uniform[3] == pytest.approx(np.mean([np.mean(downbeats[: i + 1]) for i in range(steps)]))


def test_attention_shares_find_a_head_that_looks_a_bar_back():
    steps, bar = 32, 8
    a = np.zeros((1, steps, steps))
    for i in range(steps):  # the step a bar before the token it predicts, i + 1
        a[0, i, i + 1 - bar if i + 1 >= bar else i] = 1
    shares = attention_maps.attention_shares(a, np.ones(steps, bool), np.zeros(steps, bool), bar)[0]
    assert shares[4] == pytest.approx(25 / 32) and shares[1] == pytest.approx(7 / 32)
