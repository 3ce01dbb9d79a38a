"""The n-gram baselines (musegen_lessons.baselines): interpolated Witten–Bell smoothing over token ids."""

import math

import numpy as np
import pytest

from musegen_lessons.baselines import NGramModel

VOCAB = 8
SCALE = [0, 1, 2, 3, 4, 5, 6, 7]  # every id follows one fixed id: a bigram memorises it, a unigram cannot


@pytest.fixture
def trigram():
    """A trigram fitted on two melodies (as token ids) that never use ids 6 and 7."""
    return NGramModel(3, VOCAB).fit([[0, 1, 2, 1, 0, 3, 4, 5, 2], [2, 2, 3, 1, 0, 1]])


@pytest.mark.parametrize("order", [0, -1])
def test_order_below_one_raises_value_error(order):
    with pytest.raises(ValueError, match="order"):
        NGramModel(order, VOCAB)


@pytest.mark.parametrize(
    "history",
    [(), (0,), (0, 1), (2, 1, 0), (6, 7), (7, 0), (3, 3, 3, 3, 3, 3)],
    ids=["empty", "seen bigram", "seen trigram", "long", "unseen", "unseen then seen", "repeated"],
)
def test_distribution_sums_to_one(trigram, history):
    assert trigram.distribution(history).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("history", [(), (0, 1), (6, 7)], ids=["empty", "seen", "unseen"])
def test_no_token_has_probability_zero(trigram, history):
    distribution = trigram.distribution(history)
    assert distribution.shape == (VOCAB,)
    assert (distribution > 0).all()
    assert distribution[6] > 0 and distribution[7] > 0  # never seen in training


def test_unfitted_model_is_uniform():
    assert np.allclose(NGramModel(2, 5).distribution([1]), 0.2)


def test_unigram_matches_witten_bell_by_hand():
    # c = {0: 2, 1: 1}, c() = 3, T() = 2 types: P(w) = (c(w) + 2 * 1/4) / (3 + 2)
    model = NGramModel(1, 4).fit([[0, 0, 1]])
    assert model.distribution([]) == pytest.approx([0.5, 0.3, 0.1, 0.1])


def test_unigram_ignores_the_history():
    model = NGramModel(1, 4).fit([[0, 0, 1]])
    assert model.distribution([1, 1]) == pytest.approx(model.distribution([]))


def test_bigram_matches_witten_bell_by_hand():
    # unigram: c = {0: 2, 1: 2}, T = 2, V = 3 -> P(0) = P(1) = (2 + 2/3) / 6 = 4/9, P(2) = (2/3) / 6 = 1/9
    # after 0: c = {1: 2}, T = 1 -> P(w | 0) = (c(0, w) + P(w)) / 3 -> 4/27, 22/27, 1/27
    model = NGramModel(2, 3).fit([[0, 1, 0, 1]])
    assert model.distribution([0]) == pytest.approx([4 / 27, 22 / 27, 1 / 27])


def test_unseen_context_falls_back_to_the_shorter_context():
    model = NGramModel(3, 3).fit([[0, 1, 0, 1]])
    assert model.distribution([2, 0]) == pytest.approx(model.distribution([0]))


def test_only_the_last_order_minus_one_tokens_count(trigram):
    assert trigram.distribution([5, 4, 0, 1]) == pytest.approx(trigram.distribution([0, 1]))


def test_higher_order_gives_a_memorised_continuation_more_probability():
    unigram = NGramModel(1, VOCAB).fit([SCALE] * 5)
    bigram = NGramModel(2, VOCAB).fit([SCALE] * 5)
    assert bigram.probability(4, [3]) > 0.5 > unigram.probability(4, [3])


def test_nll_is_positive_and_finite(trigram):
    nll = trigram.nll([[0, 1, 2, 3], [7, 6, 7, 6]])  # the second melody uses only unseen ids
    assert 0 < nll < math.inf


def test_nll_is_the_mean_negative_log_probability_per_token():
    model = NGramModel(1, 4).fit([[0, 0, 1]])
    assert model.nll([[0, 1], [2]]) == pytest.approx(-(math.log(0.5) + math.log(0.3) + math.log(0.1)) / 3)


def test_nll_of_the_training_data_is_lower_for_the_higher_order():
    unigram = NGramModel(1, VOCAB).fit([SCALE] * 5)
    bigram = NGramModel(2, VOCAB).fit([SCALE] * 5)
    assert bigram.nll([SCALE]) < unigram.nll([SCALE])


def test_token_log_probs_give_one_value_per_token(trigram):
    log_probs = trigram.token_log_probs([0, 1, 2, 7])
    assert log_probs.shape == (4,)
    assert log_probs[0] == pytest.approx(math.log(trigram.probability(0, [])))
    assert log_probs[3] == pytest.approx(math.log(trigram.probability(7, [1, 2])))
    assert (log_probs < 0).all()


def test_fit_returns_the_model():
    model = NGramModel(2, VOCAB)
    assert model.fit([SCALE]) is model


# --- the smoothings that lesson 05 tunes on validation --------------------------------------------------------------

TUNING_TRAIN = [[0, 1, 1, 2, 1, 1, 3, 1], [0, 2, 1, 1, 2, 1, 1, 3]]
TUNING_VALID = [[0, 1, 1, 2, 1, 3, 1, 1]]


@pytest.mark.parametrize("smoothing, parameters", [("add-k", {"k": 0.1}), ("absolute", {"discount": 0.7})])
@pytest.mark.parametrize("history", [[], [1], [1, 1], [3, 3], [0, 1, 1, 2]])
def test_every_smoothing_gives_a_distribution_without_zeros(smoothing, parameters, history):
    from musegen_lessons.baselines import NGramModel

    model = NGramModel(3, 5, smoothing, **parameters).fit(TUNING_TRAIN)
    distribution = model.distribution(history)
    assert distribution.sum() == pytest.approx(1.0)
    assert distribution.min() > 0


def test_add_k_on_a_seen_context_is_the_textbook_formula():
    from musegen_lessons.baselines import NGramModel

    model = NGramModel(2, 5, "add-k", k=0.5).fit([[1, 2, 1, 3, 1, 2]])
    # after 1: c(1,2) = 2, c(1,3) = 1, c(1) = 3
    assert model.probability(2, [1]) == pytest.approx((2 + 0.5) / (3 + 0.5 * 5))
    assert model.probability(4, [1]) == pytest.approx(0.5 / (3 + 0.5 * 5))


@pytest.mark.parametrize(
    "arguments",
    [{"smoothing": "add-k", "k": 0}, {"smoothing": "absolute", "discount": 1.0}, {"smoothing": "kneser-ney"}],
)
def test_impossible_smoothing_settings_are_refused(arguments):
    from musegen_lessons.baselines import NGramModel

    with pytest.raises(ValueError):
        NGramModel(2, 5, **arguments)


def test_tuning_keeps_the_setting_with_the_lowest_validation_nll():
    from musegen_lessons.baselines import tune_ngram

    best, tried = tune_ngram(3, TUNING_TRAIN, TUNING_VALID, 5)
    assert repr(best) in tried and tried[repr(best)] == min(tried.values())
    assert best.nll(TUNING_VALID) == pytest.approx(min(tried.values()))


# --- by position in the bar ---------------------------------------------------------------------------------------

BEATS = [[0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1]]  # a new note (0) on every beat, held (1) between
BEAT_POSITIONS = [[i % 4 for i in range(12)]]


def test_a_unigram_by_position_is_the_frequency_at_each_place_in_the_bar():
    model = NGramModel(1, 2, by_position=True).fit(BEATS, BEAT_POSITIONS)
    # Witten–Bell with one type seen at each position: c / (c + 1) for it, the rest spread uniformly
    assert model.distribution((), position=0) == pytest.approx([3 / 4 + 1 / 4 / 2, 1 / 4 / 2])
    assert model.distribution((), position=2)[1] == pytest.approx(3 / 4 + 1 / 4 / 2)


def test_the_position_tells_what_the_history_alone_cannot():
    plain = NGramModel(3, 2).fit(BEATS)
    placed = NGramModel(3, 2, by_position=True).fit(BEATS, BEAT_POSITIONS)
    assert placed.nll(BEATS, BEAT_POSITIONS) < plain.nll(BEATS)
    assert placed.probability(0, [1, 1], position=0) > 0.5 > plain.probability(0, [1, 1])


def test_an_n_gram_by_position_needs_the_positions():
    model = NGramModel(2, 2, by_position=True)
    with pytest.raises(ValueError, match="position"):
        model.fit(BEATS)
    with pytest.raises(ValueError, match="one position per step"):
        model.fit(BEATS, [[0, 1]])
    with pytest.raises(ValueError, match="give the position too"):
        model.fit(BEATS, BEAT_POSITIONS).distribution([0])
