"""Melody features with known answers, and the Yang–Lerch set comparison."""

import numpy as np
import pytest

from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.errors import MelodyError
from musegen_lessons.evaluation import comparison, features, likelihood, listening, sets
from musegen_lessons.evaluation.copying import longest_shared_runs
from musegen_lessons.music.encoding import HOLD, REST, excerpt
from musegen_lessons.music.melody import Melody


def quarters(*pitches):
    """A melody of quarter notes (4 steps each)."""
    return [t for p in pitches for t in (p, HOLD, HOLD, HOLD)]


C_MAJOR_SCALE = quarters(60, 62, 64, 65, 67, 69, 71, 72)
CHROMATIC = quarters(*range(60, 72))


def test_a_c_major_scale_is_fully_scale_consistent():
    assert features.scale_consistency(C_MAJOR_SCALE) == 1.0


def test_a_chromatic_run_is_not():
    assert features.scale_consistency(CHROMATIC) == pytest.approx(7 / 12)


def test_a_melody_played_twice_has_repetition_one_half():
    phrase = quarters(60, 62, 64, 65, 67, 65, 64, 62)  # two bars of 4/4
    assert features.repetition(phrase + phrase) == 0.5
    assert features.repetition(phrase) == 0.0


def test_bar_similarity_is_one_for_identical_bars():
    assert features.bar_similarity(quarters(60, 62, 64, 65) * 3) == 1.0


def test_bars_are_cut_at_the_melodys_own_bar_lines():
    # a one-beat upbeat, then the same bar three times: bars from the first downbeat are all equal, while 16-step
    # blocks from the first step straddle the bar lines and are not
    bar = quarters(60, 62, 64, 65)
    tokens = quarters(67) + bar * 3
    assert features.bar_similarity(Melody(tokens, pickup_steps=12)) == 1.0
    assert features.repetition(Melody(tokens, pickup_steps=12)) == pytest.approx(2 / 3)
    assert features.bar_similarity(tokens) < 1.0


def test_a_three_four_melody_has_twelve_step_bars():
    waltz = quarters(60, 64, 67) * 4
    assert features.repetition(Melody(waltz, time_signature="3/4")) == 0.75
    assert features.repetition(waltz) == 0.0  # cut into 16 steps, the waltz's bars never line up


def test_pitch_class_histogram_weights_by_duration():
    histogram = features.pitch_class_histogram([60, HOLD, HOLD, HOLD, 64, HOLD, REST, 72])
    assert histogram[0] == pytest.approx(5 / 7) and histogram[4] == pytest.approx(2 / 7)
    assert histogram.sum() == pytest.approx(1.0)


def test_range_distinct_pitches_and_intervals_of_the_scale():
    assert features.pitch_range(C_MAJOR_SCALE) == 12
    assert features.distinct_pitches(C_MAJOR_SCALE) == 8
    assert features.mean_abs_interval(C_MAJOR_SCALE) == pytest.approx(12 / 7)
    histogram = features.interval_histogram(C_MAJOR_SCALE)
    assert histogram[12 + 2] == pytest.approx(5 / 7) and histogram[12 + 1] == pytest.approx(2 / 7)


def test_leaps_beyond_an_octave_fall_in_the_end_bins():
    histogram = features.interval_histogram(quarters(40, 80, 40))
    assert histogram[-1] == 0.5 and histogram[0] == 0.5


def test_note_lengths_and_token_ratios():
    melody = [60, HOLD, HOLD, HOLD, REST, REST, 62, HOLD]
    assert features.note_length_histogram(melody)[[1, 3]].tolist() == [0.5, 0.5]
    assert features.rest_ratio(melody) == 0.25 and features.hold_ratio(melody) == 0.5


def test_a_single_note_has_defined_values():
    single = [67, HOLD, HOLD]
    assert features.pitch_range(single) == 0 and features.mean_abs_interval(single) == 0
    assert features.interval_histogram(single).sum() == 0
    assert features.scale_consistency(single) == 1.0


@pytest.mark.parametrize("feature", list(features.FEATURES))
def test_an_empty_melody_is_a_clear_error(feature):
    with pytest.raises(MelodyError, match="empty"):
        features.FEATURES[feature]([])


@pytest.mark.parametrize("feature", ["pitch class histogram", "pitch range", "scale consistency", "mean |interval|"])
def test_all_rests_is_a_clear_error_for_pitch_features(feature):
    with pytest.raises(MelodyError, match="no notes"):
        features.FEATURES[feature]([REST] * 8)


def test_all_rests_still_has_a_rest_ratio():
    assert features.rest_ratio([REST] * 8) == 1.0


def test_a_continuation_keeps_its_chorales_bar_lines():
    pieces = load_melodies("chorales", limit=12, progress=False).pieces
    piece = next(p for p in pieces if p.pickup_steps)
    continuation = sets.continuation_in_bars(piece, excerpt(piece.tokens, 16), 16)
    whole = features.whole_bars(piece.melody)
    # the continuation's whole bars are the chorale's own, from the first bar line after step 16 on
    assert features.whole_bars(continuation) == whole[len(whole) - len(features.whole_bars(continuation)) :]
    assert continuation.time_signature == piece.time_signature


def test_an_excerpt_that_starts_inside_a_note_is_measured():
    melody = excerpt(quarters(60, 62, 64), 2)
    assert melody[:2] == [REST, REST]
    assert features.distinct_pitches(melody) == 2


def test_overlap_of_a_sample_with_itself_is_one_and_kl_zero():
    sample = np.random.default_rng(0).normal(size=300)
    assert comparison.overlapping_area(sample, sample) == pytest.approx(1.0, abs=1e-3)
    assert comparison.kl_divergence(sample, sample) == pytest.approx(0.0, abs=1e-9)


def test_overlap_falls_as_samples_move_apart():
    rng = np.random.default_rng(1)
    a = rng.normal(size=300)
    overlaps = [comparison.overlapping_area(a, rng.normal(shift, 1, 300)) for shift in (0, 1, 3, 8)]
    assert overlaps == sorted(overlaps, reverse=True) and overlaps[-1] < 0.01


@pytest.mark.parametrize("mean, spread", [(0.0, 1.0), (1.0, 2.0), (0.5, 1.5)])
def test_kl_divergence_of_two_gaussians_matches_the_closed_form(mean, spread):
    """KL(N(0, a²) ‖ N(m, b²)) = ln(b / a) + (a² + m²) / (2 b²) − ½, with a² and b² widened by the smoothing
    (Scott's bandwidth h: a density estimate of normal samples is a normal of variance σ² + h²). B is the wider, so
    that the grid, which ends a little beyond the samples, holds all of A's weight."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 4000), rng.normal(mean, spread, 4000)
    var_a, var_b = (x.var(ddof=1) * (1 + len(x) ** -0.4) for x in (a, b))
    expected = 0.5 * np.log(var_b / var_a) + (var_a + (b.mean() - a.mean()) ** 2) / (2 * var_b) - 0.5
    assert comparison.kl_divergence(a, b) == pytest.approx(expected, abs=0.01)
    if mean:  # and it is not symmetric: KL(B ‖ A) is another number
        assert abs(comparison.kl_divergence(b, a) - expected) > 0.1


def test_a_kernel_density_integrates_to_one():
    grid = np.linspace(-10, 10, 4001)
    density = comparison.gaussian_kde(np.random.default_rng(3).normal(size=50), grid)
    assert density.sum() * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-3)


def test_a_set_compared_with_itself_overlaps_almost_entirely():
    melodies = [
        quarters(60, 62, 64, 65, 67, 65, 64, 62),
        quarters(69, 67, 65, 64, 62, 60, 62, 64),
        quarters(64, 64, 65, 67, 67, 65, 64, 62),
        quarters(60, 60, 62, 64, 62, 60, 59, 60),
    ]
    result = comparison.compare_sets(melodies, melodies)
    assert set(result) == set(features.FEATURES)
    assert result["scale consistency"]["generated_mean"] == result["scale consistency"]["reference_mean"]


def test_random_pitches_lie_further_from_scales_than_scales():
    rng = np.random.default_rng(4)
    reference = [quarters(*rng.choice([60, 62, 64, 65, 67, 69, 71], 8)) for _ in range(12)]
    similar = [quarters(*rng.choice([60, 62, 64, 65, 67, 69, 71], 8)) for _ in range(12)]
    noise = [quarters(*rng.integers(40, 90, 8)) for _ in range(12)]
    close, far = comparison.compare_sets(similar, reference), comparison.compare_sets(noise, reference)
    assert close["pitch class histogram"]["overlap"] > far["pitch class histogram"]["overlap"]
    assert close["mean |interval|"]["kl"] < far["mean |interval|"]["kl"]


def test_comparing_needs_two_reference_melodies():
    with pytest.raises(MelodyError, match="at least two"):
        comparison.compare_sets([C_MAJOR_SCALE], [C_MAJOR_SCALE])


def test_features_set_aside_are_compared_only_when_asked_for():
    melodies = [quarters(60, 62, 64, 65, 67, 65, 64, 62), quarters(69, 67, 65, 64, 62, 60, 62, 64)]
    assert not set(features.SET_ASIDE) & set(features.FEATURES)
    assert set(comparison.compare_sets(melodies, melodies, features.SET_ASIDE)) == set(features.SET_ASIDE)


def _scales(rng, count, pitches=(60, 62, 64, 65, 67, 69, 71)):
    return [quarters(*rng.choice(pitches, 8)) for _ in range(count)]


def test_the_bootstrap_spreads_around_the_set_and_ranks_clear_differences():
    rng = np.random.default_rng(5)
    reference = _scales(rng, 12)
    sets = {"close": _scales(rng, 12), "far": [quarters(*rng.integers(40, 90, 8)) for _ in range(12)]}
    means = comparison.bootstrap_mean_overlap(sets, reference, resamples=300)
    for name, melodies in sets.items():
        whole = np.mean([r["overlap"] for r in comparison.compare_sets(melodies, reference).values()])
        low, high = np.quantile(means[name], [0.025, 0.975])
        assert len(means[name]) == 300 and low < high and low - 0.05 < whole < high + 0.05
    assert np.quantile(means["close"] - means["far"], 0.025) > 0  # the same draws for both: a paired difference


def _kde_by_definition(samples, grid):
    bandwidth = samples.std(ddof=1) * len(samples) ** (-1 / 5)
    z = (grid[:, None] - samples[None, :]) / bandwidth
    return np.exp(-0.5 * z**2).sum(axis=1) / (len(samples) * bandwidth * np.sqrt(2 * np.pi))


def test_the_density_of_repeated_values_is_the_density_by_definition():
    samples = np.repeat([0.0, 1.0, 1.5, 4.0], [50, 3, 20, 7])  # distances between histograms repeat like this
    grid = np.linspace(-2, 6, 500)
    assert np.allclose(comparison.gaussian_kde(samples, grid), _kde_by_definition(samples, grid), atol=1e-12)


def test_the_binned_density_of_many_samples_is_within_a_hair_of_the_density_by_definition():
    samples = np.random.default_rng(3).gamma(2.0, 1.0, 30_000)  # 30,000 kernels on 1,000 points: binned
    grid = np.linspace(-1, samples.max() + 1, 1000)
    assert len(samples) * len(grid) > comparison.EXACT_KERNELS
    binned, exact = comparison.gaussian_kde(samples, grid), _kde_by_definition(samples, grid)
    assert np.abs(binned - exact).sum() * (grid[1] - grid[0]) < 1e-3
    assert not np.allclose(binned, exact, atol=1e-12)  # the binned way really was taken


def test_pairwise_distances_come_in_the_order_of_the_pairs():
    # within one set: (1, 0), (2, 0), (2, 1); distances 3, 4 and 1 on a line
    assert comparison.pairwise_distances([0.0, 3.0, 4.0]).tolist() == [3.0, 4.0, 1.0]
    # between two sets: every b for the first a, then for the second; histograms are vectors (3-4-5 triangles)
    between = comparison.pairwise_distances([[0, 0], [3, 0]], [[3, 4], [0, 1], [0, 4]])
    assert between.tolist() == [5.0, 1.0, 4.0, 4.0, pytest.approx(10**0.5), 5.0]
    assert comparison.pairwise_distances([1.0]).shape == (0,)


def test_the_binned_density_of_the_bootstrap_equals_the_kernel_density_estimate():
    rng = np.random.default_rng(6)
    reference, melodies = _scales(rng, 10), _scales(rng, 10)
    intra = comparison.pairwise_distances([features.mean_abs_interval(m) for m in reference])
    inter = comparison.pairwise_distances(
        [features.mean_abs_interval(m) for m in melodies], [features.mean_abs_interval(m) for m in reference]
    )
    # weights of one: the "resample" that takes every melody once is the set itself
    ones = np.ones((1, 10), int)
    [binned] = comparison.resampled_overlaps(intra, inter.reshape(10, 10), ones, ones)
    assert binned == pytest.approx(comparison.overlapping_area(intra, inter), abs=0.005)


def test_the_bootstrap_resamples_the_reference_too_and_its_spread_grows():
    rng = np.random.default_rng(7)
    reference, melodies = _scales(rng, 20), _scales(rng, 20)
    values = [features.mean_abs_interval(m) for m in reference]
    intra = comparison.pairwise_distances(values)
    inter = comparison.pairwise_distances([features.mean_abs_interval(m) for m in melodies], values).reshape(20, 20)
    draws = np.random.default_rng(0)
    weights = np.stack([np.bincount(d, minlength=20) for d in draws.integers(0, 20, (400, 20))])
    reference_weights = np.stack([np.bincount(d, minlength=20) for d in draws.integers(0, 20, (400, 20))])
    fixed = comparison.resampled_overlaps(intra, inter, weights, np.ones_like(weights))
    both = comparison.resampled_overlaps(intra, inter, weights, reference_weights)
    assert both.std() > 1.2 * fixed.std()


def test_bootstrapping_sets_of_different_sizes_is_refused():
    with pytest.raises(MelodyError, match="equal size"):
        comparison.bootstrap_mean_overlap({"a": [C_MAJOR_SCALE] * 3, "b": [C_MAJOR_SCALE] * 2}, [C_MAJOR_SCALE] * 3)


# --- copying --------------------------------------------------------------------------------------------------------


def test_a_run_copied_from_a_training_melody_is_found_with_its_source_and_place():
    training = [[60, HOLD, 62, HOLD, 64, HOLD, REST, 65], [67, HOLD, HOLD, HOLD, 69, HOLD, 71, HOLD, 72, HOLD]]
    melody = [55, 57, 67, HOLD, HOLD, HOLD, 69, HOLD, 71, 48]  # steps 2-8 are steps 0-6 of the second melody
    assert longest_shared_runs([melody], training) == [(7, 1, 2)]


def test_no_run_crosses_from_one_training_melody_into_the_next():
    training = [[60, 62, 64], [65, 67, 69]]
    assert longest_shared_runs([[62, 64, 65, 67]], training) == [(2, 0, 0)]


def test_a_melody_sharing_nothing_has_a_run_of_zero():
    assert longest_shared_runs([[50, 52]], [[60, HOLD, REST]]) == [(0, None, None)]


def test_a_held_out_chorale_is_not_a_copy_of_itself_once_left_out():
    pieces = load_melodies("chorales", limit=12, progress=False).pieces
    tokens = [p.tokens for p in pieces]
    [(whole, index, start)] = longest_shared_runs([tokens[3]], tokens)
    assert (whole, index, start) == (len(tokens[3]), 3, 0)
    [(left_out, _, _)] = longest_shared_runs([tokens[3]], tokens[:3] + tokens[4:])
    assert left_out < len(tokens[3])


# --- the binomial test of a listening test --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "correct, trials, expected", [(5, 5, 1 / 32), (0, 5, 1.0), (7, 10, 176 / 1024), (1, 1, 0.5), (3, 4, 5 / 16)]
)
def test_the_binomial_p_value_counts_every_score_at_least_as_good(correct, trials, expected):
    assert listening.binomial_p_value(correct, trials) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("arguments", [(6, 5), (-1, 5), (2.5, 5), (2, 5, 1.0)])
def test_impossible_counts_are_refused(arguments):
    with pytest.raises(ValueError):
        listening.binomial_p_value(*arguments)


def test_a_change_counts_only_beyond_both_spreads_over_seeds_added_together():
    assert likelihood.spread_verdict(1.0, 0.02, 0.97, 0.02) == "within the spread"
    assert likelihood.spread_verdict(1.0, 0.02, 0.95, 0.02) == "better"
    assert likelihood.spread_verdict(0.5, 0.01, 0.45, 0.01, lower_is_better=False) == "worse"
    lower = likelihood.compare_over_seeds("the hidden layer", [0.70, 0.70, 0.70], [0.66, 0.65, 0.66])
    assert lower.startswith("The hidden layer lowers the loss") and "larger than the two spreads" in lower
    level = likelihood.compare_over_seeds("the hidden layer", [0.70, 0.69, 0.71], [0.69, 0.70, 0.68])
    assert "within the spread" in level
    assert "one seed" in likelihood.compare_over_seeds("the hidden layer", [0.7], [0.6])
