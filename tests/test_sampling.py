"""The sampling core (musegen_lessons.families.sampling): choosing the next token, and the registry of families, each
family's step generator proven equal to its Keras model over a real chorale."""

import keras
import numpy as np
import pytest

import musegen_lessons.families  # noqa: F401  (registers every family)
from musegen_lessons.corpora.dataset import build_dataset, step_positions
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.errors import ChoiceError
from musegen_lessons.families.sampling import (
    WindowedGenerator,
    register_family,
    registered_families,
    sample_next,
    step_generator,
)


@pytest.fixture(scope="module")
def vocabulary():
    return build_dataset(load_melodies("chorales", quick=True, progress=False).pieces).vocabulary


@pytest.fixture(scope="module")
def chorale(vocabulary):
    piece = build_dataset(load_melodies("chorales", quick=True, progress=False).pieces).pieces["test"][0]
    return vocabulary.encode(piece.tokens[:64]), step_positions(piece)[:64]


# --- sampling ---------------------------------------------------------------------------------------------------


def test_greedy_takes_the_most_probable_token():
    assert sample_next(np.array([0.1, 0.2, 0.6, 0.1]), np.random.default_rng(0), temperature=0, previous=2) == 2


def test_sampling_follows_the_distribution():
    rng = np.random.default_rng(0)
    draws = [sample_next(np.array([0.0, 0.25, 0.75]), rng, previous=2) for _ in range(4000)]
    assert np.mean(np.array(draws) == 2) == pytest.approx(0.75, abs=0.03)
    assert 0 not in draws


def test_low_temperature_concentrates_and_high_temperature_spreads():
    p = np.array([0.0, 0.1, 0.6, 0.3])
    for temperature, low, high in [(0.3, 0.85, 1.0), (3.0, 0.3, 0.55)]:
        rng = np.random.default_rng(1)
        share = np.mean([sample_next(p, rng, temperature=temperature, previous=2) == 2 for _ in range(3000)])
        assert low <= share <= high


def test_top_k_never_samples_outside_the_k_best():
    rng = np.random.default_rng(2)
    p = np.array([0.05, 0.1, 0.4, 0.3, 0.15])
    assert {sample_next(p, rng, temperature=2.0, top_k=2, previous=2) for _ in range(500)} == {2, 3}


def test_nucleus_keeps_the_fewest_tokens_reaching_p():
    rng = np.random.default_rng(3)
    p = np.array([0.05, 0.1, 0.5, 0.3, 0.05])
    assert {sample_next(p, rng, top_p=0.75, previous=2) for _ in range(500)} == {2, 3}


@pytest.mark.parametrize("previous", [None, 0])
def test_hold_is_never_sampled_at_the_start_or_after_a_rest(previous):
    rng = np.random.default_rng(4)
    only_hold = np.array([0.0, 1.0, 0.0])
    assert all(sample_next(only_hold, rng, previous=previous) != 1 for _ in range(200))


@pytest.mark.parametrize("broken", [np.full(4, np.nan), np.zeros(4), np.array([-1.0, np.inf, -np.inf, 0.0])])
def test_a_broken_distribution_still_gives_a_valid_token(broken):
    token = sample_next(broken, np.random.default_rng(5), previous=0)
    assert 0 <= token < 4 and token != 1


def test_a_negative_temperature_is_refused():
    with pytest.raises(ValueError, match="temperature"):
        sample_next(np.array([0.5, 0.5]), np.random.default_rng(0), temperature=-1)


# --- the registry: every family through the same contract ---------------------------------------------------------
FAMILIES = registered_families()


@pytest.mark.parametrize("family", FAMILIES, ids=[f.names[0] for f in FAMILIES])
def test_every_family_s_step_generator_equals_its_keras_model_after_a_primed_history(family, vocabulary, chorale):
    """The family contract: a model built by the family's own `build`, carrying one of its names, is run by its
    registered step generator; primed with 48 steps of a real chorale and stepped through 16 more, the generator
    gives the Keras model's distributions over the whole 64 steps. A new family is tested by registering it."""
    keras.utils.set_random_seed(3)
    model = family.build(len(vocabulary))
    assert model.name in family.names
    generator = step_generator(model)
    assert isinstance(generator, family.step_generator)
    ids, positions = chorale
    reference = np.asarray(model({"tokens": ids[None], "positions": positions[None]}))[0]
    generator.prime(ids[:47], positions[:47])  # the history; the 48th step gives the first distribution compared
    stepped = [generator.step(int(t), int(p)) for t, p in zip(ids[47:], positions[47:])]
    assert np.abs(np.array(stepped) - reference[47:]).max() <= 1e-5
    generator.reset()  # and forgetting the history starts again from nothing
    assert np.abs(generator.step(int(ids[0]), int(positions[0])) - reference[0]).max() <= 1e-5


def test_a_model_no_family_has_registered_is_refused_naming_those_that_have(vocabulary):
    model = keras.Sequential([keras.layers.Dense(2)], name="my_own_model")
    with pytest.raises(ChoiceError, match="my_own_model.*melody_model.*WindowedGenerator"):
        step_generator(model)


def test_a_second_family_cannot_claim_a_registered_name():
    lstm_family = next(f for f in FAMILIES if "melody_model" in f.names)
    with pytest.raises(ChoiceError, match="Two families claim the model name 'melody_model'"):
        register_family(["melody_model"], lstm_family.build, WindowedGenerator, "06_generation")
    assert registered_families() == FAMILIES  # the refused family left the registry as it was
