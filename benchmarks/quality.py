"""Is it music? Every melody set of lesson 07 against the held-out chorales, for a fixed random seed.

The kept model at five temperatures, the tuned 5-gram and random tokens each continue the first 16 steps of
all the held-out chorales for 128 steps; the training chorales (other real tunes) are a reference level. For each of
the features of `evaluation.features`, the Yang–Lerch overlapping area (OA, higher is closer) and KL divergence
(lower is closer) between intra-reference and inter-set distances; the table shows their means over the features,
with a 95% bootstrap interval of the mean OA (1,000 resamples of each set's melodies and of the reference's) and,
for two features set aside, the OA of random tokens, which shows why. Then the bootstrap intervals of the
differences between neighbouring temperatures, and between the closest temperature and the 5-gram: which of them
can be ranked. Writes benchmarks/results/quality.json.

    .venv/bin/python benchmarks/quality.py
"""

import numpy as np
from _results import save_results

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.evaluation.comparison import bootstrap_mean_overlap, compare_sets
from musegen_lessons.evaluation.features import FEATURES, SET_ASIDE
from musegen_lessons.evaluation.sets import evaluation_sets
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()  # before anything imports TensorFlow

SEED = 0


def main():
    model, vocabulary, _ = load_melody_model()
    dataset = build_dataset(load_melodies("chorales", quick=False).pieces)
    sets = evaluation_sets(model, vocabulary, dataset, seed=SEED)
    reference = sets.pop("held-out chorales")
    resampled = bootstrap_mean_overlap(sets, reference, seed=SEED)
    rows = {}
    for name, melodies in sets.items():
        result = compare_sets(melodies, reference)
        rows[name] = {
            "mean_overlap": round(sum(r["overlap"] for r in result.values()) / len(result), 4),
            "mean_overlap_95": [round(float(q), 4) for q in np.quantile(resampled[name], [0.025, 0.975])],
            "mean_kl": round(sum(r["kl"] for r in result.values()) / len(result), 4),
            "features": result,
            "set_aside": {
                feature: round(r["overlap"], 4) for feature, r in compare_sets(melodies, reference, SET_ASIDE).items()
            },
        }
    temperatures = {name: row["mean_overlap"] for name, row in rows.items() if name.startswith("CNN + LSTM")}
    closest = max(temperatures, key=temperatures.get)

    print(f"{len(reference)} held-out chorales, 128 steps each after their first 16; random seed {SEED}")
    aside = list(SET_ASIDE)
    print(f"{len(FEATURES)} features; OA of the two set aside: {', '.join(aside)}")
    print(
        f"{'set':<24}{'mean OA':>9}{'95% interval':>16}{'mean KL':>9}{'scale cons.':>13}{'mean |interval|':>17}"
        + "".join(f"{name:>14}" for name in aside)
    )
    for name, row in rows.items():
        features, (low, high) = row["features"], row["mean_overlap_95"]
        print(
            f"{name:<24}{row['mean_overlap']:>9.3f}{f'{low:.3f} to {high:.3f}':>16}{row['mean_kl']:>9.3f}"
            f"{features['scale consistency']['generated_mean']:>13.3f}"
            f"{features['mean |interval|']['generated_mean']:>17.3f}"
            + "".join(f"{row['set_aside'][name]:>14.3f}" for name in aside)
        )
    difference = resampled["training chorales"] - resampled["CNN + LSTM, T = 1.0"]
    low, high = np.quantile(difference, [0.025, 0.975])
    print(f"training chorales minus the model at T = 1.0: 95% interval {low:+.3f} to {high:+.3f}")
    # every pair of neighbouring temperatures, and the best one against the 5-gram: which can be ranked?
    names = list(temperatures)
    pairs = [*zip(names, names[1:]), (closest, "5-gram, T = 1.0")]
    differences = {}
    for a, b in pairs:
        q_low, q_high = np.quantile(resampled[a] - resampled[b], [0.025, 0.975])
        differences[f"{a} − {b}"] = [round(float(q_low), 4), round(float(q_high), 4)]
        verdict = "cannot be ranked" if q_low <= 0 <= q_high else "ranked"
        print(f"{a} minus {b}: 95% interval {q_low:+.3f} to {q_high:+.3f}: {verdict}")
    print(f"closest to the held-out chorales: {closest}")
    save_results(
        "quality",
        {
            "benchmark": "Yang-Lerch comparison of generated melody sets with the held-out chorales",
            "seed": SEED,
            "reference_melodies": len(reference),
            "rows": rows,
            "closest_temperature": closest,
            "features": list(FEATURES),
            "training_minus_model_t1_95": [round(float(low), 4), round(float(high), 4)],
            "differences_95": differences,
        },
    )


if __name__ == "__main__":
    main()
