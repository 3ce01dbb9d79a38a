"""Is it music? Objective features of melodies, and how close a set of melodies is to a reference set.

Per-melody features, each a number or a histogram computed from a melody:

- `pitch_class_histogram`: how long each of the 12 pitch classes sounds, as shares (duration-weighted);
- `pitch_range` (highest − lowest MIDI pitch) and `distinct_pitches`;
- `interval_histogram` (melodic intervals −12 … +12 semitones, larger ones clipped) and `mean_abs_interval`;
- `note_length_histogram`: shares of notes lasting 1 … 16 steps (longer ones counted as 16);
- `scale_consistency`: the largest share of notes inside one of the 24 major and natural-minor scales;
- `hold_ratio`: the share of HOLD tokens;
- `bar_similarity`: the mean share of equal tokens over all pairs of whole bars, cut at the melody's own bar lines
  (a melody is a `Melody`, which knows its metre and upbeat, or a token list, taken as 4/4 from a downbeat).

`SET_ASIDE` holds two features that cannot tell real music from random tokens on the chorales, `rest_ratio` and
`repetition` (the share of bars that repeat an earlier bar exactly); lesson 07 shows why.

Set-level comparison follows Yang and Lerch (2020, "On the evaluation of generative models in music"): for one
feature, the *intra-set* distances are the distances between every pair of reference melodies, and the
*inter-set* distances those between every generated and every reference melody. Each set of distances is
smoothed into a density with a Gaussian kernel density estimate; the **overlapping area** (OA, 1 = the same
distribution) and the **KL divergence** KL(intra ‖ inter) (0 = the same) say how far the generated set lies
from the reference, measured in the reference's own variety. `bootstrap_mean_overlap` redraws each set's melodies
to say how much of a difference between two sets is chance.

**Listening** (`binomial_p_value`): how likely a listener who only guesses is to pick Bach out of so many pairs
as often as they did, to judge a blind listening test (`widgets.BlindListening`).

**Copying** (`longest_shared_runs`): the longest stretch of tokens a melody shares, verbatim, with any training
melody, and which one that is. Features cannot see a model that recites its training data; this can.

The sets compared (`evaluation_sets`): the trained model at several temperatures, an n-gram model and random
tokens, each continuing the openings of the held-out chorales, beside real chorales. The n-gram and the random
tokens write through the same step interface as lesson 06's generators (`NGramStepGenerator`,
`UniformStepGenerator`), so `generate.generate` drives them all alike.

Lesson: 07_evaluation
"""

from dataclasses import replace

import numpy as np

from .encoding import HOLD, REST, excerpt, tokens_to_notes
from .errors import MelodyError
from .melody import Melody

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor
MAX_INTERVAL = 12
MAX_NOTE_STEPS = 16


def _notes(melody):
    """Notes as (pitch, start step, length in steps); MelodyError when there are none."""
    notes = [(p, round(s * 4), round((e - s) * 4)) for p, s, e in tokens_to_notes(excerpt(_non_empty(melody), 0))]
    if not notes:
        raise MelodyError("The melody has no notes (only rests): pitch features are undefined.")
    return notes


def pitch_class_histogram(melody):
    """Shares of the total sounding time spent on each pitch class C … B: a 12-vector summing to 1.

    Lesson: 07_evaluation
    """
    histogram = np.zeros(12)
    for pitch, _, length in _notes(melody):
        histogram[pitch % 12] += length
    return histogram / histogram.sum()


def pitch_range(melody):
    """Highest minus lowest MIDI pitch, in semitones (0 for a single note).

    Lesson: 07_evaluation
    """
    pitches = [p for p, _, _ in _notes(melody)]
    return float(max(pitches) - min(pitches))


def distinct_pitches(melody):
    """How many different MIDI pitches the melody uses.

    Lesson: 07_evaluation
    """
    return float(len({p for p, _, _ in _notes(melody)}))


def intervals(melody):
    """The melodic intervals between consecutive notes, in semitones (empty for a single note).

    Lesson: 07_evaluation
    """
    pitches = np.array([p for p, _, _ in _notes(melody)])
    return np.diff(pitches)


def interval_histogram(melody):
    """Shares of the intervals −12 … +12 (25 bins; larger leaps counted in the end bins). All zero for one note.

    Lesson: 07_evaluation
    """
    steps = np.clip(intervals(melody), -MAX_INTERVAL, MAX_INTERVAL)
    histogram = np.bincount(steps + MAX_INTERVAL, minlength=2 * MAX_INTERVAL + 1).astype(float)
    return histogram / histogram.sum() if histogram.sum() else histogram


def mean_abs_interval(melody):
    """The mean size of a melodic step, in semitones (0 for a single note).

    Lesson: 07_evaluation
    """
    steps = intervals(melody)
    return float(np.abs(steps).mean()) if len(steps) else 0.0


def note_length_histogram(melody):
    """Shares of notes lasting 1 … 16 steps (a 16-vector; index 3 is a quarter note, longer notes count as 16).

    Lesson: 07_evaluation
    """
    lengths = np.clip([length for _, _, length in _notes(melody)], 1, MAX_NOTE_STEPS)
    histogram = np.bincount(np.asarray(lengths) - 1, minlength=MAX_NOTE_STEPS).astype(float)
    return histogram / histogram.sum()


def scale_consistency(melody):
    """The largest share of notes whose pitch class lies in one of the 24 major and natural-minor scales.

    Lesson: 07_evaluation
    """
    classes = np.array([p % 12 for p, _, _ in _notes(melody)])
    best = 0.0
    for tonic in range(12):
        for scale in (MAJOR_SCALE, MINOR_SCALE):
            best = max(best, float(np.isin(classes, [(tonic + degree) % 12 for degree in scale]).mean()))
    return best


def rest_ratio(melody):
    """The share of steps that are REST.

    Lesson: 07_evaluation
    """
    return _share(melody, REST)


def hold_ratio(melody):
    """The share of steps that are HOLD.

    Lesson: 07_evaluation
    """
    return _share(melody, HOLD)


def repetition(melody):
    """The share of whole bars that repeat an earlier bar exactly, cut at the melody's own bar lines.

    A melody of two bars played twice, A B A B, has repetition 2 / 4 = 0.5. Not one of `FEATURES`: in eight bars
    of a chorale an exact repeat is rare, so random tokens, which never repeat, score like Bach
    (`SET_ASIDE`).

    Lesson: 07_evaluation
    """
    bars = _bars(melody)
    seen, repeated = set(), 0
    for bar in bars:
        repeated += bar in seen
        seen.add(bar)
    return repeated / len(bars) if bars else 0.0


def bar_similarity(melody):
    """The mean share of equal tokens over all pairs of whole bars: 1 when every bar is the same (0 for one bar).

    The bars are cut at the melody's own bar lines (`Melody.bar_steps`, `Melody.pickup_steps`): the upbeat and
    an unfinished last bar are left out.

    Lesson: 07_evaluation
    """
    bars = np.array(_bars(melody), dtype=object)
    if len(bars) < 2:
        return 0.0
    scores = [np.mean([a == b for a, b in zip(bars[i], bars[j])]) for i in range(len(bars)) for j in range(i)]
    return float(np.mean(scores))


FEATURES = {
    "pitch class histogram": pitch_class_histogram,
    "pitch range": pitch_range,
    "distinct pitches": distinct_pitches,
    "interval histogram": interval_histogram,
    "mean |interval|": mean_abs_interval,
    "note length histogram": note_length_histogram,
    "scale consistency": scale_consistency,
    "hold ratio": hold_ratio,
    "bar similarity": bar_similarity,
}

# Features that look natural but cannot tell real music from random tokens here: on them random tokens come within reach
# of the model's closeness to the held-out chorales (lesson 07), so they would only pull every set's mean together.
SET_ASIDE = {
    "rest ratio": rest_ratio,
    "repetition": repetition,
}


def describe_melody(melody, features=None):
    """Every feature of one melody (a `Melody`, or tokens of a 4/4 melody from a downbeat): {name: number or
    histogram}, for `FEATURES` or the features given.

    Lesson: 07_evaluation
    """
    return {name: feature(melody) for name, feature in (features or FEATURES).items()}


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


def bootstrap_mean_overlap(sets, reference, resamples=1000, seed=0):
    """How far each set's mean overlapping area would move with another draw of its melodies: the bootstrap.

    Lesson: 07_evaluation

    Each resample draws as many melodies as a set has, with replacement, from that set, and recomputes the mean OA
    over `FEATURES` against the whole reference, which stays as it is. Every set is resampled at the same
    positions, that is the same openings, so the difference of two sets' resamples is the bootstrap of their
    difference. A resample, with some melodies twice and others left out, is a little less varied than the set, so
    the resampled means lie a little below the set's own: read their spread, or a difference, not their level.

    Returns:
        {set name: array of `resamples` mean OAs}; its 2.5th and 97.5th percentiles are a 95% interval.
    """
    sizes = {len(melodies) for melodies in sets.values()}
    if len(sizes) != 1:
        raise MelodyError("Bootstrap intervals need sets of equal size, one melody per opening.")
    size = sizes.pop()
    rng = np.random.default_rng(seed)
    # how often each resample takes each melody
    weights = np.stack([np.bincount(d, minlength=size) for d in rng.integers(0, size, (resamples, size))])
    reference_features = [describe_melody(m) for m in reference]
    means = {}
    for set_name, melodies in sets.items():
        _check_sets(melodies, reference)
        generated_features = [describe_melody(m) for m in melodies]
        overlaps = []
        for name in FEATURES:
            ref = [f[name] for f in reference_features]
            inter = pairwise_distances([f[name] for f in generated_features], ref).reshape(size, len(ref))
            overlaps.append(_resampled_overlaps(pairwise_distances(ref), inter, weights))
        means[set_name] = np.mean(overlaps, axis=0)
    return means


def _resampled_overlaps(intra, inter, weights, points=1000):
    """The OA of the intra-set density with the inter-set density of every resample at once.

    `inter` has one row of distances per generated melody; `weights` (resamples × melodies) says how often each
    resample takes each row. Drawing thousands of kernel density estimates one by one would take minutes, so the
    inter-set densities are binned on the grid: the counts of a resample are its weights times the rows' counts,
    and the Gaussian smoothing (Scott's bandwidth of each resample, as in `gaussian_kde`) is a product in Fourier
    space.
    """
    grid, p, _ = _densities(intra, inter.ravel(), points)
    step = grid[1] - grid[0]
    edges = np.append(grid - step / 2, grid[-1] + step / 2)
    counts = weights @ np.stack([np.histogram(row, edges)[0] for row in inter])
    n = weights.sum(axis=1) * inter.shape[1]
    mean = weights @ inter.sum(axis=1) / n
    variance = np.maximum(weights @ (inter**2).sum(axis=1) - n * mean**2, 0) / (n - 1)
    bandwidth = np.where(variance > 0, np.sqrt(variance) * n ** (-1 / 5), 1e-3 * np.maximum(1.0, np.abs(mean)))
    padded = 2 * points  # room for the kernel's tails, so that they do not wrap round
    frequencies = np.fft.rfftfreq(padded, d=step)
    smoothing = np.exp(-2 * (np.pi * frequencies[None, :] * bandwidth[:, None]) ** 2)
    q = np.fft.irfft(np.fft.rfft(counts, n=padded, axis=1) * smoothing, n=padded, axis=1)[:, :points]
    return np.minimum(p[None, :], q / (n[:, None] * step)).sum(axis=1) * step


def _check_sets(generated, reference):
    if len(reference) < 2 or not len(generated):
        raise MelodyError("Comparing sets needs at least two reference melodies and one generated melody.")


def longest_shared_runs(melodies, training):
    """For every melody, the longest run of consecutive tokens it shares exactly with any one training melody.

    Lesson: 07_evaluation

    The longest common substring, by dynamic programming over all training tokens at once: after melody step i,
    `run[j]` is the length of the shared run that ends at melody step i and training token j, which is one more
    than `run[j - 1]` was after step i − 1 where the two tokens are equal, and 0 where they differ.

    Returns:
        [(length in steps, index of the training melody it is shared with, step of the melody where the run
        starts)], the index and the step None when not one token is shared.
    """
    training = [_as_numbers(t) for t in training]
    if not training:
        raise MelodyError("Looking for copies needs at least one training melody.")
    # one long array, a separator (never a token) between melodies so that no run crosses from one into the next
    joined = np.concatenate([np.append(t, _SEPARATOR) for t in training])
    owner = np.repeat(np.arange(len(training)), [len(t) + 1 for t in training])
    results = []
    for melody in melodies:
        run = np.zeros(len(joined), np.int32)
        best, where, start = 0, None, None
        for step, token in enumerate(_as_numbers(melody)):
            run[1:] = np.where(joined[1:] == token, run[:-1] + 1, 0)
            run[0] = int(joined[0] == token)
            end = int(run.argmax())
            if run[end] > best:
                best, where, start = int(run[end]), int(owner[end]), step - int(run[end]) + 1
        results.append((best, where, start))
    return results


def binomial_p_value(correct, trials, chance=0.5):
    """The one-sided binomial test: P(at least `correct` right out of `trials`) for a listener who only guesses.

    Lesson: 07_evaluation

    p = Σ_{j = correct}^{trials} C(trials, j) · chance^j · (1 − chance)^(trials − j). Small p: hard to explain
    by luck; p near 1: no better than guessing.

    Raises:
        ChoiceError: counts that are not whole numbers with 0 <= correct <= trials, or chance outside (0, 1).
    """
    import math

    from .errors import ChoiceError

    if not (isinstance(correct, (int, np.integer)) and isinstance(trials, (int, np.integer))) or not (
        0 <= correct <= trials
    ):
        raise ChoiceError(f"The counts must be whole numbers with 0 <= correct <= trials, not {correct} of {trials}.")
    if not 0 < chance < 1:
        raise ChoiceError(f"The chance of a right guess lies strictly between 0 and 1, not {chance}.")
    return float(
        sum(math.comb(trials, j) * chance**j * (1 - chance) ** (trials - j) for j in range(correct, trials + 1))
    )


_SEPARATOR = -3


def _as_numbers(melody):
    """A melody's tokens as integers, REST −1 and HOLD −2, so that numpy can compare them all at once."""
    return np.array([-1 if t == REST else -2 if t == HOLD else int(t) for t in _tokens(melody)], np.int64)


def _densities(samples_a, samples_b, points):
    a, b = np.asarray(samples_a, dtype=float), np.asarray(samples_b, dtype=float)
    if not len(a) or not len(b):
        raise MelodyError("Each sample needs at least one value to estimate a density.")
    low, high = min(a.min(), b.min()), max(a.max(), b.max())
    margin = max(high - low, 1e-3) * 0.25
    grid = np.linspace(low - margin, high + margin, points)
    return grid, gaussian_kde(a, grid), gaussian_kde(b, grid)


def _tokens(melody):
    """The tokens of a melody, given as a `Melody` or as a token list."""
    return list(melody.tokens if isinstance(melody, Melody) else melody)


def _non_empty(melody):
    tokens = _tokens(melody)
    if not tokens:
        raise MelodyError("The melody is empty: there is nothing to measure.")
    return tokens


def _share(melody, token):
    tokens = _non_empty(melody)
    return sum(t == token for t in tokens) / len(tokens)


def _bars(melody):
    """The whole bars of a melody, cut at its bar lines; a token list is a 4/4 melody that starts on a downbeat."""
    tokens = _non_empty(melody)
    if not isinstance(melody, Melody):
        melody = Melody(tokens)
    size = melody.bar_steps
    first = -melody.pickup_steps % size  # the first bar line
    return [tuple(tokens[i : i + size]) for i in range(first, len(tokens) - size + 1, size)]


# --- the sets compared ---------------------------------------------------------------------------------------------


class NGramStepGenerator:
    """An n-gram model of lesson 05 behind the same step interface, so it can compose too.

    Lesson: 07_evaluation
    """

    def __init__(self, ngram):
        self.ngram = ngram
        self.reset()

    def reset(self):
        self.history = []

    def step(self, token, position):
        self.history.append(int(token))
        return self.ngram.distribution(self.history)


class UniformStepGenerator:
    """The floor of every comparison: each token equally likely, whatever came before.

    Lesson: 07_evaluation
    """

    def __init__(self, vocab_size):
        self.probabilities = np.full(vocab_size, 1.0 / vocab_size)

    def reset(self):
        pass

    def step(self, token, position):
        return self.probabilities


def evaluation_sets(
    model, vocabulary, dataset, temperatures=(0.5, 0.8, 1.0, 1.2, 1.5), seed_steps=16, steps=128, seed=0
):
    """The melody sets that lesson 07 compares, each continuing the first `seed_steps` of every held-out chorale.

    Lesson: 07_evaluation

    Returns:
        {name: [`Melody`]}: "held-out chorales" (the reference: their own continuations), "training chorales"
        (a reference level: real music the model learned from; not a ceiling, since the generated sets
        continue the held-out openings themselves), the model at each temperature, the tuned 5-gram, and
        random tokens. Only the `steps` tokens after the seed are kept, so every set is judged on what it wrote;
        each keeps its chorale's metre, its bar lines where the chorale's fall.
    """
    from .baselines import tune_ngram
    from .generate import NumpyStepGenerator, generate

    test, train = dataset.pieces["test"], dataset.pieces["train"]
    encoded_train = [vocabulary.encode(p.tokens) for p in train]
    encoded_valid = [vocabulary.encode(p.tokens) for p in dataset.pieces["valid"]]
    five_gram, _ = tune_ngram(5, encoded_train, encoded_valid, len(vocabulary))
    generators = {f"CNN + LSTM, T = {t}": (NumpyStepGenerator(model), t) for t in temperatures}
    generators["5-gram, T = 1.0"] = (NGramStepGenerator(five_gram), 1.0)
    generators["random tokens"] = (UniformStepGenerator(len(vocabulary)), 1.0)
    sets = {
        "held-out chorales": [_after_opening(p, excerpt(p.tokens, seed_steps, steps), seed_steps) for p in test],
        "training chorales": [
            _after_opening(p, excerpt(p.tokens, seed_steps, steps), seed_steps) for p in train[: len(test)]
        ],
    }
    for name, (generator, temperature) in generators.items():
        sets[name] = [
            _after_opening(
                p,
                excerpt(
                    generate(
                        generator,
                        vocabulary,
                        p.tokens[:seed_steps],
                        steps,
                        temperature=temperature,
                        seed=seed + i,
                        bar_steps=p.bar_steps,
                        pickup_steps=p.pickup_steps,
                    ),
                    seed_steps,
                ),
                seed_steps,
            )
            for i, p in enumerate(test)
        ]
    return sets


def _after_opening(piece, tokens, seed_steps):
    """Tokens that follow a piece's first `seed_steps`, as a `Melody` in the piece's key and metre."""
    melody = piece.melody
    return replace(melody, tokens=tokens, pickup_steps=(melody.pickup_steps + seed_steps) % melody.bar_steps)
