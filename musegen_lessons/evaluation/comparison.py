"""How close a set of melodies is to a reference set: Yang and Lerch's comparison, with a bootstrap.

Yang and Lerch (2020, "On the evaluation of generative models in music"): for one feature (`features`), the
*intra-set* distances are the distances between every pair of reference melodies, and the *inter-set* distances
those between every generated and every reference melody. Each set of distances is smoothed into a density with a
Gaussian kernel density estimate; the **overlapping area** (OA, 1 = the same distribution) and the **KL divergence**
KL(intra ‖ inter) (0 = the same) say how far the generated set lies from the reference, measured in the reference's
own variety. `bootstrap_mean_overlap` redraws each set's melodies to say how much of a difference between two sets
is chance.

Lesson: 07_evaluation (lesson 11 compares a thousand fragments at once with it)
"""

import numpy as np

from musegen_lessons.errors import MelodyError
from musegen_lessons.evaluation.features import FEATURES, describe_melody


def gaussian_kde(samples, grid, bandwidth=None):
    """A Gaussian kernel density estimate of 1-D samples, evaluated on a grid (Scott's rule for the bandwidth).

    Lesson: 07_evaluation

    Equal samples are summed once, with their count. Lesson 11 compares sets of a thousand fragments, whose hundreds
    of thousands of distances would need a kernel each at every grid point: above `EXACT_KERNELS` kernels times grid
    points, the samples are first shared out between their two neighbouring points of an evenly spaced grid (linear
    binning; Wand and Jones 1995, appendix D), which moves the estimate by far less than the bandwidth.
    """
    samples, grid = np.asarray(samples, dtype=float), np.asarray(grid, dtype=float)
    if bandwidth is None:
        spread = samples.std(ddof=1) if len(samples) > 1 else 0.0
        bandwidth = spread * len(samples) ** (-1 / 5) if spread > 0 else 1e-3 * max(1.0, abs(samples.mean()))
    values, counts = np.unique(samples, return_counts=True)
    if len(values) * len(grid) > EXACT_KERNELS and len(grid) > 1 and np.allclose(np.diff(grid), grid[1] - grid[0]):
        values, counts = grid, _linear_binning(values, counts, grid)
    z = (grid[:, None] - values[None, :]) / bandwidth
    return np.exp(-0.5 * z**2) @ counts / (len(samples) * bandwidth * np.sqrt(2 * np.pi))


EXACT_KERNELS = 10_000_000


def _linear_binning(values, counts, grid):
    """Each value's count shared between the two grid points either side of it, in proportion to its nearness."""
    place = np.clip((values - grid[0]) / (grid[1] - grid[0]), 0, len(grid) - 1)
    below = np.minimum(np.floor(place).astype(int), len(grid) - 2)
    upper_share = place - below
    weights = np.zeros(len(grid))
    np.add.at(weights, below, counts * (1 - upper_share))
    np.add.at(weights, below + 1, counts * upper_share)
    return weights


def overlapping_area(samples_a, samples_b, points=1000):
    """The area under the smaller of the two samples' kernel density estimates: 1 for one distribution, 0 for
    disjoint ones.

    Lesson: 07_evaluation
    """
    grid, p, q = _densities(samples_a, samples_b, points)
    return float(np.minimum(p, q).sum() * (grid[1] - grid[0]))


def kl_divergence(samples_a, samples_b, points=1000):
    """KL(A ‖ B) = Σ p ln(p / q) between the two samples' kernel density estimates on a grid, in nats.

    Lesson: 07_evaluation

    It is 0 for two equal densities and above 0 otherwise (Gibbs' inequality). It is not symmetric: it weighs
    the places where A is likely and B is not.
    """
    grid, p, q = _densities(samples_a, samples_b, points)
    step = grid[1] - grid[0]
    p, q = p * step + 1e-12, q * step + 1e-12
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def pairwise_distances(features_a, features_b=None):
    """Euclidean distances between feature values: all pairs within one set, or every a with every b.

    Lesson: 07_evaluation

    Within one set the pairs come in the order (1, 0), (2, 0), (2, 1), (3, 0), ...; between two sets, every b for
    the first a, then every b for the second, and so on. Lesson 11 compares a thousand fragments at once, so the
    differences are taken as whole arrays, a block of rows at a time.
    """
    a = _feature_rows(features_a)
    if features_b is None:
        rows, columns = np.tril_indices(len(a), k=-1)
        return _distances(a, rows, a, columns)
    b = _feature_rows(features_b)
    rows, columns = np.divmod(np.arange(len(a) * len(b)), len(b))
    return _distances(a, rows, b, columns)


def _feature_rows(features):
    return np.array([np.atleast_1d(np.asarray(f, dtype=float)) for f in features]).reshape(len(features), -1)


def _distances(a, rows, b, columns, block=1 << 18):
    return np.concatenate(
        [
            np.sqrt(((a[rows[i : i + block]] - b[columns[i : i + block]]) ** 2).sum(axis=1))
            for i in range(0, len(rows), block)
        ]
        or [np.zeros(0)]
    )


def compare_sets(generated, reference, features=None):
    """Yang–Lerch comparison of a generated set with a reference set of melodies, feature by feature.

    Args:
        generated, reference: lists of melodies (`Melody` objects, or token lists of 4/4 melodies from a downbeat).
        features: {name: feature function}; `FEATURES` when not given.

    Returns:
        {feature: {"overlap": OA of intra-reference and inter-set distances, "kl": KL(intra ‖ inter),
        "generated_mean": mean feature value (scalars only), "reference_mean": ...}}

    Lesson: 07_evaluation
    """
    features = features or FEATURES
    _check_sets(generated, reference)
    generated_features = [describe_melody(m, features) for m in generated]
    reference_features = [describe_melody(m, features) for m in reference]
    results = {}
    for name in features:
        gen = [f[name] for f in generated_features]
        ref = [f[name] for f in reference_features]
        intra = pairwise_distances(ref)
        inter = pairwise_distances(gen, ref)
        results[name] = {"overlap": overlapping_area(intra, inter), "kl": kl_divergence(intra, inter)}
        if np.ndim(ref[0]) == 0:
            results[name]["generated_mean"] = float(np.mean(gen))
            results[name]["reference_mean"] = float(np.mean(ref))
    return results


def compare_shares(hits, total, reference_hits, reference_total):
    """Whether a share (hits of total, e.g. notes on black keys) is "more", "fewer" or "about as many" as a reference
    share: "about as many" when the two differ by less than 1.96 standard errors of their difference (the
    two-proportion z-test at 95%), so that a difference chance alone would make often is not called one.

    Lesson: 06_generation

    Example:
        >>> compare_shares(16, 1000, 15, 1000), compare_shares(60, 1000, 15, 1000)
        ('about as many', 'more')
    """
    pooled = (hits + reference_hits) / (total + reference_total)
    error = np.sqrt(pooled * (1 - pooled) * (1 / total + 1 / reference_total))
    difference = hits / total - reference_hits / reference_total
    if error == 0 or abs(difference) < 1.96 * error:
        return "about as many"
    return "more" if difference > 0 else "fewer"


def bootstrap_mean_overlap(sets, reference, resamples=1000, seed=0):
    """How far each set's mean overlapping area would move with another draw of its melodies and of the
    reference's: the bootstrap.

    Lesson: 07_evaluation

    Each resample draws as many melodies as a set has, with replacement, from that set, and as many as the
    reference has from the reference, and recomputes the mean OA over `FEATURES`. Both sets are chance draws (other
    openings, other held-out chorales), so both are resampled: holding the reference fixed would leave out half
    the uncertainty and make the intervals too narrow. Every set is resampled at the same positions, that is the
    same openings against the same reference draw, so the difference of two sets' resamples is the bootstrap of
    their difference. A resample, with some melodies twice and others left out, is a little less varied than the
    set, so the resampled means lie a little below the set's own: read their spread, or a difference, not their
    level.

    Returns:
        {set name: array of `resamples` mean OAs}; its 2.5th and 97.5th percentiles are a 95% interval.
    """
    sizes = {len(melodies) for melodies in sets.values()}
    if len(sizes) != 1:
        raise MelodyError("Bootstrap intervals need sets of equal size, one melody per opening.")
    size = sizes.pop()
    rng = np.random.default_rng(seed)
    weights = _draw_weights(rng, resamples, size)
    reference_weights = _draw_weights(rng, resamples, len(reference))
    reference_features = [describe_melody(m) for m in reference]
    means = {}
    for set_name, melodies in sets.items():
        _check_sets(melodies, reference)
        generated_features = [describe_melody(m) for m in melodies]
        overlaps = []
        for name in FEATURES:
            ref = [f[name] for f in reference_features]
            inter = pairwise_distances([f[name] for f in generated_features], ref).reshape(size, len(ref))
            overlaps.append(resampled_overlaps(pairwise_distances(ref), inter, weights, reference_weights))
        means[set_name] = np.mean(overlaps, axis=0)
    return means


def _draw_weights(rng, resamples, size):
    """How often each of `resamples` draws with replacement takes each of `size` melodies: (resamples, size)."""
    return np.stack([np.bincount(d, minlength=size) for d in rng.integers(0, size, (resamples, size))])


def resampled_overlaps(intra, inter, weights, reference_weights, points=1000):
    """The OA of the intra-reference density with the inter-set density, for every resample at once.

    `intra` holds the reference's pairwise distances (in `pairwise_distances`' order), `inter` one row of
    distances to the reference per generated melody; `weights` and `reference_weights` (resamples × melodies) say
    how often each resample takes each generated and each reference melody. A distance counts as often as the
    product of its two melodies' weights (a reference melody drawn twice is not paired with itself). Drawing
    thousands of kernel density estimates one by one would take minutes, so the densities are binned on the grid
    and the Gaussian smoothing (Scott's bandwidth of each resample, as in `gaussian_kde`) is a product in Fourier
    space.
    """
    grid, _, _ = _densities(intra, inter.ravel(), points)
    rows, columns = np.tril_indices(inter.shape[1], k=-1)
    p = _resampled_densities(intra, reference_weights[:, rows] * reference_weights[:, columns], grid)
    pair_weights = (weights[:, :, None] * reference_weights[:, None, :]).reshape(len(weights), -1)
    q = _resampled_densities(inter.ravel(), pair_weights, grid)
    return np.minimum(p, q).sum(axis=1) * (grid[1] - grid[0])


def _resampled_densities(values, weights, grid):
    """Gaussian kernel densities of `values` on an even grid, each value counted `weights[r]` times in resample r."""
    points, step = len(grid), grid[1] - grid[0]
    bins = np.clip(np.round((values - grid[0]) / step).astype(int), 0, points - 1)
    offsets = np.arange(len(weights))[:, None] * points
    counts = np.bincount((offsets + bins[None, :]).ravel(), weights.ravel(), len(weights) * points)
    counts = counts.reshape(len(weights), points)
    n = weights.sum(axis=1)
    mean = weights @ values / n
    variance = np.maximum(weights @ values**2 - n * mean**2, 0) / np.maximum(n - 1, 1)
    bandwidth = np.where(variance > 0, np.sqrt(variance) * n ** (-1 / 5), 1e-3 * np.maximum(1.0, np.abs(mean)))
    padded = 2 * points  # room for the kernel's tails, so that they do not wrap round
    frequencies = np.fft.rfftfreq(padded, d=step)
    smoothing = np.exp(-2 * (np.pi * frequencies[None, :] * bandwidth[:, None]) ** 2)
    density = np.fft.irfft(np.fft.rfft(counts, n=padded, axis=1) * smoothing, n=padded, axis=1)[:, :points]
    return density / (n[:, None] * step)


def _check_sets(generated, reference):
    if len(reference) < 2 or not len(generated):
        raise MelodyError("Comparing sets needs at least two reference melodies and one generated melody.")


def _densities(samples_a, samples_b, points):
    a, b = np.asarray(samples_a, dtype=float), np.asarray(samples_b, dtype=float)
    if not len(a) or not len(b):
        raise MelodyError("Each sample needs at least one value to estimate a density.")
    low, high = min(a.min(), b.min()), max(a.max(), b.max())
    margin = max(high - low, 1e-3) * 0.25
    grid = np.linspace(low - margin, high + margin, points)
    return grid, gaussian_kde(a, grid), gaussian_kde(b, grid)
