"""Lesson 11's GANs against lesson 05's LSTM and the chorales themselves: collapse, copying and closeness.

Cuts the chorales' tune-disjoint split (the one of every melody benchmark) into two-bar fragments of 4/4
(`fragments.cut_fragments`: 32 steps from each bar line), trains the plain GAN (non-saturating loss) and WGAN-GP for the
full budget, `gan.TRAINING_STEPS`, with three random seeds each, and measures 1,000 samples of every generator,
1,000 fragments of the kept LSTM (temperature 1.0, each from a training fragment's first token), 1,000 training
fragments and the held-out fragments, on `copying.measure_samples`: distinct fragments, the most common one's share, the
Hamming distance to the nearest training fragment, the copy rate, lesson 07's longest shared run, and lesson 07's
mean overlapping area and KL against the held-out fragments. While seed 0 trains, the same figures of collapse and
copying are taken at points along the way, for lesson 11's curves. Seed 0's generators are kept in
data/models/gan/. Writes benchmarks/results/gan.json.

    .venv/bin/python benchmarks/gan.py      # about 15 minutes on 2 cores
"""

import numpy as np
from _results import save_results

from musegen_lessons.corpora import fragments
from musegen_lessons.evaluation import copying, sets
from musegen_lessons.families import gan
from musegen_lessons.families.lstm import NumpyStepGenerator
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()  # before anything imports TensorFlow

SEEDS = (0, 1, 2)
SAMPLES = 1000
CURVE_AT = (0, 100, 250, 500, 1000, 1500, 2000, 2500, 3000)
NAMES = {"gan": "GAN (non-saturating)", "wgan-gp": "WGAN-GP"}


def main():
    vocabulary, training, held_out, melodies = fragments.chorale_fragments()
    one_hot = fragments.fragments_to_one_hot(training, vocabulary)
    distinct = copying.count_distinct(training)
    print(f"{len(training):,} training fragments ({distinct:,} distinct), {len(held_out)} held out")

    def measure(samples, seconds=None, against=held_out):
        return copying.measure_samples(samples, training, melodies, against, seconds)

    rng = np.random.default_rng(0)
    rows = {
        "training fragments": measure([training[i] for i in rng.choice(len(training), SAMPLES, replace=False)]),
        "held-out fragments": measure(held_out, against=None),  # the reference of closeness: nothing to compare
    }
    lstm, lstm_vocabulary, _ = load_melody_model()
    rows["CNN + LSTM (lesson 05), temperature 1.0"] = measure(
        sets.fragments_from_melody_model(NumpyStepGenerator(lstm), lstm_vocabulary, training, SAMPLES)
    )
    runs, curves, losses = {}, {}, {}
    for loss in gan.LOSSES:
        for seed in SEEDS:
            model = gan.GAN(one_hot, loss=loss, seed=seed)
            if seed == 0:
                history, curve = train_with_curve(model, loss, vocabulary, training, melodies)
                curves[loss] = curve
                losses[loss] = {
                    key: np.round(np.asarray(history[key]).reshape(-1, 10).mean(axis=1), 4).tolist()
                    for key in ("discriminator_loss", "generator_loss")
                }
                gan.save_generator(model.generator, vocabulary, gan.KEPT_GENERATORS, loss)
            else:
                history = model.train(gan.TRAINING_STEPS[loss])
            samples = fragments.decode_fragments(model.sample_probabilities(SAMPLES), vocabulary)
            runs[(loss, seed)] = measure(samples, history["seconds"])
            print(f"{NAMES[loss]}, seed {seed}: {runs[(loss, seed)]}")
        rows[NAMES[loss]] = runs[(loss, 0)]
        rows[f"{NAMES[loss]}, seeds {', '.join(map(str, SEEDS))}"] = spread([runs[(loss, s)] for s in SEEDS])

    print_table(rows)
    save_results(
        "gan",
        {
            "fragments": {"training": len(training), "held_out": len(held_out), "steps": len(training[0])},
            "training_steps": gan.TRAINING_STEPS,
            "seeds": list(SEEDS),
            "rows": rows,
            "runs": {f"{loss}, seed {seed}": figures for (loss, seed), figures in runs.items()},
            "curves": curves,
            "losses_every_10_steps": losses,
        },
    )


def train_with_curve(model, loss, vocabulary, training, melodies):
    """Train seed 0 in stretches, measuring collapse and copying of 1,000 fresh samples after each."""
    history = {"discriminator_loss": [], "generator_loss": [], "seconds": 0.0}
    curve = []
    for stop in CURVE_AT:
        part = model.train(stop - model.steps_done)
        for key in ("discriminator_loss", "generator_loss"):
            history[key] += part[key]
        history["seconds"] += part["seconds"]
        samples = fragments.decode_fragments(model.sample_probabilities(SAMPLES), vocabulary)
        distances, _ = copying.nearest_fragments(samples, training)
        curve.append(
            {
                "step": stop,
                "distinct": copying.count_distinct(samples),
                "most_common_share": round(copying.most_common_share(samples), 4),
                "mean_nearest_distance": round(float(distances.mean()), 3),
                "copy_rate": round(float(np.mean(distances == 0)), 4),
            }
        )
        print(f"{NAMES[loss]} after {stop} steps: {curve[-1]}")
    return history, curve


def spread(figures):
    """Mean and standard deviation over seeds of every figure."""
    values = {key: [f[key] for f in figures] for key in figures[0]}
    return {
        key: [round(float(np.mean(v)), 4), round(float(np.std(v)), 4)] if None not in v else None
        for key, v in values.items()
    }


def print_table(rows):
    columns = [
        ("distinct", "distinct", "{:.0f}"),
        ("most_common_share", "top share", "{:.3f}"),
        ("mean_nearest_distance", "nearest", "{:.2f}"),
        ("copy_rate", "copies", "{:.3f}"),
        ("verbatim_rate", "verbatim", "{:.3f}"),
        ("silent_share", "silent", "{:.3f}"),
        ("mean_longest_run", "longest run", "{:.1f}"),
        ("mean_overlap", "mean OA", "{:.3f}"),
        ("mean_kl", "mean KL", "{:.3f}"),
        ("train_seconds", "train s", "{:.0f}"),
    ]
    print(f"{'set':<44}{'count':>6}" + "".join(f"{title:>12}" for _, title, _ in columns))
    for name, row in rows.items():
        cells = []
        for key, _, form in columns:
            value = row.get(key)
            if value is None:
                cells.append(f"{'-':>12}")
            elif isinstance(value, list):
                cells.append(f"{form.format(value[0])}±{form.format(value[1])}".rjust(12))
            else:
                cells.append(f"{form.format(value):>12}")
        count = row["count"][0] if isinstance(row["count"], list) else row["count"]
        print(f"{name:<44}{count:>6.0f}" + "".join(cells))


if __name__ == "__main__":
    main()
