"""The baselines (musegen_lessons.families.ngram): n-grams with four smoothings, PPM and its escape methods, and IDyOM's
long- and short-term models combined. Expected figures are worked by hand in the comments."""

import math

import numpy as np
import pytest

from musegen_lessons.families.ngram import NGramModel
from musegen_lessons.families.ppm import PPM, combine_distributions, predict_sequence

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


@pytest.mark.parametrize(
    "smoothing, parameters", [("add-k", {"k": 0.1}), ("absolute", {"discount": 0.7}), ("kneser-ney", {"discount": 0.7})]
)
@pytest.mark.parametrize("history", [[], [1], [1, 1], [3, 3], [0, 1, 1, 2]])
def test_every_smoothing_gives_a_distribution_without_zeros(smoothing, parameters, history):
    from musegen_lessons.families.ngram import NGramModel

    model = NGramModel(3, 5, smoothing, **parameters).fit(TUNING_TRAIN)
    distribution = model.distribution(history)
    assert distribution.sum() == pytest.approx(1.0)
    assert distribution.min() > 0


def test_add_k_on_a_seen_context_is_the_textbook_formula():
    from musegen_lessons.families.ngram import NGramModel

    model = NGramModel(2, 5, "add-k", k=0.5).fit([[1, 2, 1, 3, 1, 2]])
    # after 1: c(1,2) = 2, c(1,3) = 1, c(1) = 3
    assert model.probability(2, [1]) == pytest.approx((2 + 0.5) / (3 + 0.5 * 5))
    assert model.probability(4, [1]) == pytest.approx(0.5 / (3 + 0.5 * 5))


@pytest.mark.parametrize(
    "arguments",
    [
        {"smoothing": "add-k", "k": 0},
        {"smoothing": "absolute", "discount": 1.0},
        {"smoothing": "kneser-ney", "discount": 0},
        {"smoothing": "good-turing"},
    ],
)
def test_impossible_smoothing_settings_are_refused(arguments):
    from musegen_lessons.families.ngram import NGramModel

    with pytest.raises(ValueError):
        NGramModel(2, 5, **arguments)


def test_tuning_keeps_the_setting_with_the_lowest_validation_nll():
    from musegen_lessons.families.ngram import tune_ngram

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


# --- Kneser–Ney ------------------------------------------------------------------------------------------------------


def test_kneser_ney_counts_continuations_below_the_longest_context():
    # After 0 (seen twice: 0 1 and 0 2). Below it, the unigram counts how many different tokens came before each
    # token: 1 after 0 and 3, 2 after 1 and 0; 0 and 3 only begin melodies. N = [0, 2, 2, 0], total 4, 2 types, D = ½:
    # P_uni = max(N − ½, 0) / 4 + ½ · 2 / 4 · ¼ = [1/16, 7/16, 7/16, 1/16]
    # P(w | 0) = max(c − ½, 0) / 2 + ½ · 2 / 2 · P_uni = [1/32, 15/32, 15/32, 1/32]
    model = NGramModel(2, 4, "kneser-ney", discount=0.5).fit([[0, 1, 2], [3, 1, 2], [0, 2]])
    assert model.distribution([0]) == pytest.approx([1 / 32, 15 / 32, 15 / 32, 1 / 32])


def test_kneser_ney_uses_plain_counts_for_the_longest_context_it_has():
    # With no history the unigram is the longest context: counts, not continuations (2, 2, 3, 1 of 8).
    kneser_ney = NGramModel(2, 4, "kneser-ney", discount=0.5).fit([[0, 1, 2], [3, 1, 2], [0, 2]])
    absolute = NGramModel(2, 4, "absolute", discount=0.5).fit([[0, 1, 2], [3, 1, 2], [0, 2]])
    assert kneser_ney.distribution([]) == pytest.approx(absolute.distribution([]))


def test_kneser_ney_by_position_gives_distributions():
    model = NGramModel(3, 2, "kneser-ney", by_position=True).fit(BEATS, BEAT_POSITIONS)
    assert model.distribution([1, 1], position=0).sum() == pytest.approx(1.0)
    assert model.probability(0, [1, 1], position=0) > 0.5


# --- PPM -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "escape, expected",
    [
        # trained on 0 0 1, order 0, blending, alphabet of 3; order −1 gives 1 / (3 + 1 − types predicted)
        # A: λ = 3 / (3 + 1): 0 gets ¾·⅔, 1 gets ¾·⅓; escape ¼ · ½ to 2 -> [½, ¼, ⅛] / ⅞
        ("a", np.array([0.5, 0.25, 0.125]) / 0.875),
        # B: counts − 1 = {0: 1, 1: 0}, λ = 1 / (1 + 2): 0 gets ⅓; 1 is still novel; escape ⅔ · ⅓ to 1 and 2
        ("b", np.array([1 / 3, 2 / 9, 2 / 9]) / (7 / 9)),
        # C: λ = 3 / (3 + 2): 0 gets 0.6·⅔ = 0.4, 1 gets 0.2; escape 0.4 · ½ = 0.2 to 2 -> sums to 0.8
        ("c", np.array([0.4, 0.2, 0.2]) / 0.8),
        # D: counts − ½ = {1.5, 0.5}, λ = 2 / (2 + 2/2): 0 gets ⅔·¾ = ½, 1 gets ⅙; escape ⅓ · ½ = ⅙ to 2
        ("d", np.array([0.5, 1 / 6, 1 / 6]) / (5 / 6)),
        # X: one type seen once, t = 1 + 1, λ = 3 / 5 as C here
        ("x", np.array([0.4, 0.2, 0.2]) / 0.8),
    ],
)
def test_every_escape_method_matches_the_hand_computation(escape, expected):
    model = PPM(3, order=0, escape=escape, interpolated=False).fit([[0, 0, 1]])
    assert model.distribution([5, 5]) == pytest.approx(expected)  # order 0: the history does not matter


def test_blending_with_exclusion_matches_the_hand_computation():
    # After 0: {1: 1, 2: 1}, λ = 2 / (2 + 2) = ½, so 1 and 2 get ¼ each. Escape ½ to the empty context {0: 2, 1: 1,
    # 2: 1}, where 1 and 2 are excluded: λ = 2 / (2 + 3), and 0 gets ½ · 0.4 = 0.2. Escape 0.3 to order −1, uniform
    # over 1 + 4 − 3 symbols: 3 gets 0.15. Renormalised from 0.85.
    model = PPM(4, order=1, escape="c", interpolated=False).fit([[0, 1, 0, 2]])
    assert model.distribution([0]) == pytest.approx(np.array([0.2, 0.25, 0.25, 0.15]) / 0.85)


def test_interpolation_adds_every_context_share_to_every_symbol():
    # As above, but every context gives each symbol it has seen λ · count / (counts not excluded): the empty context
    # adds ½ · 0.4 · {2/2, 1/2, 1/2} and order −1 adds 0.3 · ½ to all: [0.35, 0.5, 0.5, 0.15], renormalised.
    model = PPM(4, order=1, escape="c", interpolated=True).fit([[0, 1, 0, 2]])
    assert model.distribution([0]) == pytest.approx(np.array([0.35, 0.5, 0.5, 0.15]) / 1.5)


def test_update_exclusion_counts_only_down_to_the_longest_context_that_knew_the_symbol():
    # 0 1 0 1, order 1: the last 1 was known after 0, so the empty context's excluded count of 1 stays at 1.
    model = PPM(2, order=1, update_exclusion=True).fit([[0, 1, 0, 1]])
    assert model.counts[()] == {0: [2, 2], 1: [2, 1]}  # [full count, update-excluded count]
    assert model.counts[(0,)] == {1: [2, 2]}


def test_ppm_star_starts_from_the_shortest_deterministic_context():
    model = PPM(4).fit([[0, 1, 2, 0, 1, 3]])
    assert model.contexts((2, 0)) == ([(0,), ()], True)  # 2 0 and 0 are both followed only by 1: take 0
    assert model.contexts((0, 1)) == ([(0, 1), (1,), ()], False)  # 0 1 was followed by 2 and 3: the longest
    assert model.contexts((3, 3)) == ([()], False)  # never seen: the empty context alone


def test_an_order_bound_limits_the_contexts():
    model = PPM(4, order=1).fit([[0, 1, 2, 0, 1, 3]])
    assert model.contexts((2, 0)) == ([(0,), ()], False)
    assert model.name == "C1I" and PPM(4, escape="x", update_exclusion=True).name == "X*UI"


@pytest.mark.parametrize("escape", ["a", "b", "c", "d", "x"])
@pytest.mark.parametrize("order", [0, 2, None])
@pytest.mark.parametrize("interpolated", [False, True])
@pytest.mark.parametrize("update_exclusion", [False, True])
def test_every_ppm_variant_gives_a_distribution_without_zeros(escape, order, interpolated, update_exclusion):
    model = PPM(5, order, escape, interpolated, update_exclusion).fit(TUNING_TRAIN)
    for history in ([], [1], [1, 1, 2], [0, 1, 1, 2, 1], [4, 4]):
        distribution = model.distribution(history)
        assert distribution.sum() == pytest.approx(1.0)
        assert distribution.min() > 0


def test_an_empty_ppm_model_is_uniform():
    assert PPM(4).distribution([1, 2]) == pytest.approx([0.25] * 4)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"escape": "e"}, "escape"),
        ({"order": -1}, "order"),
        ({"alphabet_size": 0}, "alphabet"),
        ({"exclude": "all"}, "exclude"),
    ],
)
def test_impossible_ppm_settings_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        PPM(**{"alphabet_size": 3, **arguments})


def test_a_symbol_outside_the_alphabet_is_refused():
    with pytest.raises(ValueError, match="alphabet"):
        PPM(3).fit([[0, 3]])


# --- long- and short-term models combined ----------------------------------------------------------------------------


def test_arithmetic_combination_without_bias_is_the_mean():
    p = combine_distributions([[0.5, 0.5, 0.0], [0.1, 0.1, 0.8]], bias=0)
    assert p == pytest.approx([0.3, 0.3, 0.4])


def test_the_bias_trusts_the_more_certain_model_more():
    certain, unsure = [0.9, 0.05, 0.05], [0.3, 0.4, 0.3]
    assert combine_distributions([certain, unsure], bias=2)[0] > combine_distributions([certain, unsure], bias=0)[0]


def test_geometric_combination_is_a_normalised_weighted_product():
    # bias 0: both weights 1, p ∝ sqrt(p1 · p2)
    p = combine_distributions([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]], bias=0, combination="geometric")
    assert p == pytest.approx([0.5, 0.25, 0.25])
    p = combine_distributions([[0.8, 0.2], [0.2, 0.8]], bias=0, combination="geometric")
    assert p == pytest.approx([0.5, 0.5])


def test_an_unknown_combination_is_refused():
    with pytest.raises(ValueError, match="combination"):
        combine_distributions([[0.5, 0.5]], combination="harmonic")


def test_the_short_term_model_learns_the_piece_as_it_goes():
    predicted = predict_sequence([0, 1, 0, 1, 0, 1, 0, 1], stm=PPM(3))
    probabilities = predicted[np.arange(8), [0, 1, 0, 1, 0, 1, 0, 1]]
    assert probabilities[0] == pytest.approx(1 / 3)  # nothing seen yet: uniform
    assert probabilities[-1] > probabilities[3] > probabilities[1]


def test_the_long_term_model_learns_the_test_notes_only_when_told_to():
    kept, learning = PPM(3).fit([[0, 1, 2]]), PPM(3).fit([[0, 1, 2]])
    predict_sequence([2, 2, 2], ltm=kept, learn=False)
    predict_sequence([2, 2, 2], ltm=learning, learn=True)
    assert (2,) not in kept.counts and learning.counts[(2,)][2] == [2, 2]


def test_predicting_needs_a_model():
    with pytest.raises(ValueError, match="long-term model"):
        predict_sequence([0, 1])


def test_kneser_ney_continuations_drop_the_oldest_token():
    # 0 1 2, 3 1 2, 1 1 2: the context "1" was followed by 2 after three different tokens (0, 3 and 1)
    model = NGramModel(3, 4, "kneser-ney").fit([[0, 1, 2], [3, 1, 2], [1, 1, 2]])
    assert model.continuation_counts()[1][(1,)] == {2: 3}


@pytest.mark.parametrize(
    "exclude, expected",
    [
        # 0 1 0 2 0 2, order 1, escape B, blending. After 0: 1 once (still novel), 2 twice: λ = 1 / (1 + 2), 2 gets ⅓.
        # 'predicted': the empty context leaves out only 2: n = (3 − 1) + (1 − 1) = 2, λ = 2 / (2 + 3), 0 gets
        # ⅔ · 0.4 = 4/15; 1 is still novel; escape 0.4 · 1 / (3 + 1 − 2 predicted) = 0.2 to 1. Sum 12/15.
        ("predicted", np.array([4 / 15, 0.2, 1 / 3]) / 0.8),
        # 'seen': the empty context leaves out 1 and 2; 0 gets 4/15 again; order −1 is 1 / (3 + 1 − 3 seen): 0.4 to 1.
        ("seen", np.array([4 / 15, 0.4, 1 / 3])),
    ],
)
def test_escape_b_excludes_what_was_predicted_or_what_was_seen(exclude, expected):
    model = PPM(3, order=1, escape="b", interpolated=False, exclude=exclude).fit([[0, 1, 0, 2, 0, 2]])
    assert model.distribution([0]) == pytest.approx(expected)


def test_for_escape_c_both_exclusions_are_the_same():
    seen = PPM(5, escape="c", exclude="seen").fit(TUNING_TRAIN)
    predicted = PPM(5, escape="c", exclude="predicted").fit(TUNING_TRAIN)
    assert seen.distribution([1, 1, 2]) == pytest.approx(predicted.distribution([1, 1, 2]))
