"""WaveNet (musegen_lessons.families.wavenet): the Keras model, its numpy forward pass, its receptive field, and the
naive and cached step generators, each proven equal to the Keras model on a real chorale melody."""

import numpy as np
import pytest

from musegen_lessons.corpora.bundled import load_chorale, melody_notes, soprano_part
from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.errors import ShapeError
from musegen_lessons.evaluation.speed import steps_per_second
from musegen_lessons.families import sound_wavenet, wavenet
from musegen_lessons.music.encoding import Vocabulary, notes_to_tokens

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def melody_ids():
    """The bundled chorale's soprano as token ids, its positions in the bar, and the vocabulary size."""
    tokens = notes_to_tokens(melody_notes(soprano_part(load_chorale())))
    vocabulary = Vocabulary.from_melodies([tokens])
    return np.asarray(vocabulary.encode(tokens), np.int32), np.arange(len(tokens)) % 16, len(vocabulary)


def _keras_probabilities(model, ids, positions):
    return np.asarray(model({"tokens": ids[None], "positions": np.asarray(positions, np.int32)[None]}))[0]


def _model(size, seed=1, **options):
    import keras

    keras.utils.set_random_seed(seed)
    return wavenet.build_wavenet_model(size, **options)


@pytest.mark.parametrize(
    "options",
    [{"dilations": (1, 2, 4, 8)}, {"kernel_size": 3, "dilations": (1, 2, 4, 1, 2)}, {"position_dim": 0}],
    ids=["kernel 2", "kernel 3, two stacks", "no beat input"],
)
def test_numpy_forward_and_both_generators_equal_the_keras_model(melody_ids, options):
    ids, positions, size = melody_ids
    model = _model(size, **options)
    expected = _keras_probabilities(model, ids, positions)
    weights = wavenet.wavenet_weights(model)
    assert np.abs(wavenet.wavenet_forward(weights, ids, positions) - expected).max() < TOLERANCE
    for generator in (wavenet.NaiveWaveNetGenerator(model), wavenet.CachedWaveNetGenerator(model)):
        stepped = np.array([generator.step(int(t), int(p)) for t, p in zip(ids, positions)])
        assert np.abs(stepped - expected).max() < TOLERANCE, type(generator).__name__
        generator.reset()  # and again from the start: reset forgets the melody
        assert np.abs(generator.step(int(ids[0]), int(positions[0])) - expected[0]).max() < TOLERANCE


def test_the_naive_generator_sees_only_the_receptive_field_and_is_still_exact(melody_ids):
    ids, positions, size = melody_ids
    model = _model(size, dilations=(1, 2, 4))  # 8 steps: the melody is far longer
    generator = wavenet.NaiveWaveNetGenerator(model)
    assert generator.field == 8 and len(ids) > 4 * generator.field
    stepped = np.array([generator.step(int(t), int(p)) for t, p in zip(ids, positions)])
    assert np.abs(stepped - _keras_probabilities(model, ids, positions)).max() < TOLERANCE


def test_the_model_never_looks_ahead(melody_ids):
    ids, positions, size = melody_ids
    model = _model(size)
    changed = ids.copy()
    changed[20] = (changed[20] + 1) % size
    before, after = _keras_probabilities(model, ids, positions), _keras_probabilities(model, changed, positions)
    assert np.array_equal(before[:20], after[:20])
    assert not np.allclose(before[20], after[20])


@pytest.mark.parametrize("kernel_size, dilations", [(2, (1, 2, 4, 8)), (3, (1, 2, 4)), (2, (1, 1, 1, 1))])
def test_the_receptive_field_formula_is_what_the_gradient_measures(kernel_size, dilations):
    import keras

    stack = keras.Sequential(
        [keras.Input((None, 1))]
        + [
            keras.layers.Conv1D(1, kernel_size, dilation_rate=d, padding="causal", kernel_initializer="ones")
            for d in dilations
        ]
    )
    reached = np.flatnonzero(wavenet.input_gradient(stack, 64) > 0)
    field = 1 + (kernel_size - 1) * sum(dilations)
    assert len(reached) == field
    assert reached[-1] == 63 and reached[0] == 64 - field  # the last steps, none of the future
    weights = wavenet.wavenet_weights(_model(10, kernel_size=kernel_size, dilations=dilations))
    assert wavenet.wavenet_receptive_field(weights) == field


def test_doubling_dilations_and_its_errors():
    assert wavenet.doubling_dilations(4) == (1, 2, 4, 8)
    assert wavenet.doubling_dilations(2, stacks=2) == (1, 2, 1, 2)
    assert wavenet.MELODY_DILATIONS == wavenet.doubling_dilations(6)
    with pytest.raises(ShapeError, match="at least one layer"):
        wavenet.doubling_dilations(0)


def test_a_primed_generator_continues_as_if_it_had_been_fed_the_history(melody_ids):
    ids, positions, size = melody_ids
    model = _model(size, dilations=(1, 2, 4))
    expected = _keras_probabilities(model, ids, positions)
    for generator in (wavenet.NaiveWaveNetGenerator(model), wavenet.CachedWaveNetGenerator(model)):
        generator.prime(ids[:30], positions[:30])
        assert np.abs(generator.step(int(ids[30]), int(positions[30])) - expected[30]).max() < TOLERANCE
    speed = steps_per_second(wavenet.NaiveWaveNetGenerator(model), 5, size, history=8)
    assert speed > 0 and np.isfinite(speed)


def test_generate_levels_continues_a_sound_and_refuses_an_empty_seed():
    model = _model(16, position_dim=0, dilations=(1, 2))
    seed = np.arange(5) % 16
    levels = sound_wavenet.generate_levels(wavenet.CachedWaveNetGenerator(model), seed, 20, seed=3)
    assert levels.shape == (25,) and np.array_equal(levels[:5], seed)
    assert levels.min() >= 0 and levels.max() < 16
    again = sound_wavenet.generate_levels(wavenet.CachedWaveNetGenerator(model), seed, 20, seed=3)
    assert np.array_equal(levels, again)  # the same seed, the same sound
    with pytest.raises(ShapeError, match="seed sound is empty"):
        sound_wavenet.generate_levels(wavenet.CachedWaveNetGenerator(model), [], 5)


def test_a_wavenet_trains_with_the_melody_training_loop():
    from musegen_lessons.corpora.melodies import load_melodies
    from musegen_lessons.evaluation.likelihood import evaluate_model
    from musegen_lessons.families.training import train_melody_model

    pieces = load_melodies("chorales", limit=30, quick=True, progress=False).pieces
    data = build_dataset(pieces, window_steps=32, stride=8)
    model, history, _ = train_melody_model(
        data, epochs=2, verbose=0, build=wavenet.build_wavenet_model, channels=16, skip_channels=16
    )
    assert model.name == "wavenet" and len(history["loss"]) == 2
    assert history["loss"][1] < history["loss"][0]
    uniform = np.log(len(data.vocabulary))
    assert evaluate_model(model, data.pieces["valid"], data.vocabulary)["nll"] < uniform
