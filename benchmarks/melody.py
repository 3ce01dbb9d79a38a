"""The melody model against the n-gram baselines, on the tune-disjoint test split of the chorales (lesson 05).

Trains the CNN + LSTM model in full mode exactly as `musegen train` does, fits and tunes every n-gram baseline,
scores them all on the same held-out tunes, and writes benchmarks/results/melody.json. It also trains the model
a second time with transposition augmentation (±3 semitones) at the same cost per epoch (a window every 28
steps instead of every 4, so both runs see the same number of windows), to measure what lesson 02 predicted:
on key-normalised data augmentation is a trade, not a free gain.

What the network itself adds, apart from what it is told: the same network is trained with three random seeds,
with and without its beat input (the position in the bar), so that lesson 05 can show each figure's spread over
seeds beside the n-gram that is told the position too.

Lesson 09's WaveNet trains on the same windows (with its own settings, `wavenet.MELODY_TRAINING`), with the same
three seeds, and is scored the same way; the LSTM and the Transformers are scored a second time with each token
predicted from its last 64 steps only (the WaveNet's receptive field), to measure what their longer past is worth;
then the training speed of the two networks, in tokens per second, is measured in turns in this process
(untrained models, the same batches): a convolution computes every step of a window at once, an LSTM one step
after another.

Lesson 10's melody Transformer trains twice for the same budget of training steps (`transformer.TRANSFORMER_TRAINING`),
on its own longer windows of the same split: on the chorales alone, and pretrained on the Essen folk songs (in the
chorales' vocabulary) before it is fine-tuned on the chorales. Both are scored exactly as the others.

Every comparison the lessons state is saved with its spread: over the three seeds where there are three, and as a
paired 95% bootstrap interval over the test pieces (`likelihood.paired_difference`) for the seed-0 models.

The goals of the course, checked at the end: test NLL at least 20% below the best 1- to 5-gram's and below the
long-context n-gram's, onset accuracy at least 0.35, training within 5 minutes on 2 cores; the WaveNet's test NLL
within 5% of the LSTM's, also trained within 5 minutes; the better Transformer's at or below the LSTM's, each
Transformer trained within 5 minutes.

    .venv/bin/python benchmarks/melody.py            # everything, about 40 minutes on 2 cores
    .venv/bin/python benchmarks/melody.py --reuse    # keep the networks already in results/melody.json
    .venv/bin/python benchmarks/melody.py --baselines-only   # refit the n-grams only (seconds)

With --reuse, a network whose row (by its label) is already in benchmarks/results/melody.json is not trained
again; the baselines are always refitted (seconds). --baselines-only also keeps the training speeds measured
before, so that nothing is timed.
"""

import argparse
import json
import time

import numpy as np
from _results import RESULTS, save_results

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.evaluation.likelihood import evaluate_model, paired_difference, run_baselines
from musegen_lessons.evaluation.speed import training_throughput
from musegen_lessons.families.lstm import EPOCHS, build_melody_model
from musegen_lessons.families.training import compile_melody_model, train_melody_model
from musegen_lessons.families.transformer import (
    TRANSFORMER_TRAINING,
    build_transformer_model,
    pretraining_pieces,
    train_transformer,
)
from musegen_lessons.families.wavenet import MELODY_TRAINING, build_wavenet_model
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()  # before anything imports TensorFlow


SEEDS = (0, 1, 2)
CONTEXT = 64  # the WaveNet's receptive field: the past the other networks are limited to in their second scoring
THROUGHPUT_ROUNDS = 3  # each model's training speed is measured this many times, in turns, and the median kept


def train_and_score(dataset, label, seed=0, build=build_melody_model, epochs=EPOCHS, **architecture):
    model, history, seconds = train_melody_model(
        dataset, epochs=epochs, verbose=0, seed=seed, build=build, **architecture
    )
    return {
        "model": label,
        "parameters": int(model.count_params()),
        "seed": seed,
        "beat_input": architecture.get("position_dim", 8) > 0,
        "train_seconds": round(seconds, 1),
        "epochs_run": len(history["loss"]),
        "history": {"loss": history["loss"], "val_loss": history["val_loss"]},
        "valid": evaluate_model(model, dataset.pieces["valid"], dataset.vocabulary),
        "test": evaluate_model(model, dataset.pieces["test"], dataset.vocabulary),
        **_context_scores(model, dataset, seed, build),
    }


def _context_scores(model, dataset, seed, build):
    """The seed-0 recurrent and attention models scored again with every token predicted from its last `CONTEXT`
    steps only (the WaveNet has no more past than that anyway)."""
    if seed != 0 or build is build_wavenet_model:
        return {}
    return {f"test_context_{CONTEXT}": evaluate_model(model, dataset.pieces["test"], dataset.vocabulary, CONTEXT)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="keep the networks already measured")
    parser.add_argument(
        "--baselines-only", action="store_true", help="refit the baselines; keep every network and the training speed"
    )
    arguments = parser.parse_args()
    reuse = arguments.reuse or arguments.baselines_only
    kept, kept_throughput = {}, None
    if reuse and (RESULTS / "melody.json").is_file():
        recorded = json.loads((RESULTS / "melody.json").read_text())
        kept = {row["model"]: row for row in recorded["rows"]}
        kept_throughput = recorded["training_throughput"] if arguments.baselines_only else None
    started = time.perf_counter()
    pieces = load_melodies("chorales", quick=False).pieces
    dataset = build_dataset(pieces, window_steps=64, stride=4)
    rows = run_baselines(dataset)
    augmented = build_dataset(pieces, window_steps=64, stride=28, augment=range(-3, 4))
    networks = [("CNN + LSTM" if seed == 0 else f"CNN + LSTM, seed {seed}", dataset, seed, {}) for seed in SEEDS]
    networks += [(f"CNN + LSTM, no beat input, seed {seed}", dataset, seed, {"position_dim": 0}) for seed in SEEDS]
    networks.append(("CNN + LSTM, augmented ±3", augmented, 0, {}))
    wavenet_settings = {"build": build_wavenet_model, **MELODY_TRAINING}
    networks += [
        ("WaveNet" if seed == 0 else f"WaveNet, seed {seed}", dataset, seed, wavenet_settings) for seed in SEEDS
    ]
    for label, data, seed, architecture in networks:
        if label in kept:
            print(f"{label}: kept from benchmarks/results/melody.json (--reuse)")
            rows.append(kept[label])
        else:
            rows.append(train_and_score(data, label, seed, **architecture))

    window = TRANSFORMER_TRAINING["window_steps"]
    long_windows = build_dataset(pieces, window_steps=window, stride=4)
    for label, pretrained in (("Transformer", False), ("Transformer, pretrained", True)):
        if label in kept:
            print(f"{label}: kept from benchmarks/results/melody.json (--reuse)")
            rows.append(kept[label])
            continue
        folk = None
        if pretrained:
            songs = pretraining_pieces(load_melodies("folk", quick=False).pieces, long_windows.vocabulary)
            folk = build_dataset(songs, window_steps=window, stride=window // 4, vocabulary=long_windows.vocabulary)
        rows.append(train_and_score_transformer(long_windows, folk, label))

    throughput = kept_throughput or measure_throughput(dataset)
    best_short = min(r["test"]["nll"] for r in rows if r["model"] in {f"{n}-gram" for n in range(1, 6)})
    long_context = next(r for r in rows if r["model"].startswith("long-context"))["test"]["nll"]
    model = next(r for r in rows if r["model"] == "CNN + LSTM")
    wavenet = next(r for r in rows if r["model"] == "WaveNet")
    transformers = [r for r in rows if r["model"].startswith("Transformer")]
    best_transformer = min(transformers, key=lambda r: r["test"]["nll"])
    goals = {
        "nll_below_best_1_to_5_gram": round(1 - model["test"]["nll"] / best_short, 4),
        "nll_at_least_20_percent_below_best_1_to_5_gram": model["test"]["nll"] <= 0.8 * best_short,
        "nll_below_long_context": model["test"]["nll"] < long_context,
        "onset_accuracy_at_least_0_35": model["test"]["onset_accuracy"] >= 0.35,
        "trained_within_5_minutes": model["train_seconds"] <= 300,
        "wavenet_within_5_percent_of_lstm": wavenet["test"]["nll"] <= 1.05 * model["test"]["nll"],
        "wavenet_trained_within_5_minutes": wavenet["train_seconds"] <= 300,
        "better_transformer": best_transformer["model"],
        "transformer_at_or_below_lstm": best_transformer["test"]["nll"] <= model["test"]["nll"],
        "transformer_at_or_below_0_50": best_transformer["test"]["nll"] <= 0.50,
        "transformers_trained_within_5_minutes": all(r["train_seconds"] <= 300 for r in transformers),
    }

    print(
        f"Chorales, tune-disjoint split: {', '.join(f'{k} {len(v)}' for k, v in dataset.pieces.items())} pieces;"
        f" test {model['test']['tokens']:,} tokens scored"
    )
    print(f"{'model':<34}{'parameters':>11}{'test NLL':>10}{'accuracy':>10}{'onset acc.':>11}{'train s':>9}")
    for row in rows:
        test = row["test"]
        seconds = f"{row['train_seconds']:>9.0f}" if "train_seconds" in row else f"{'-':>9}"
        print(
            f"{row['model']:<34}{row['parameters']:>11,}{test['nll']:>10.3f}{test['accuracy']:>10.3f}"
            f"{test['onset_accuracy']:>11.3f}{seconds}"
        )
    print(
        "training speed, tokens per second (median of "
        f"{THROUGHPUT_ROUNDS}): "
        + ", ".join(f"{name} {speed:,.0f}" for name, speed in throughput["tokens_per_second"].items())
        + f"; the WaveNet trains {throughput['wavenet_over_lstm']:.2f} times as fast as the LSTM, the Transformer "
        + f"{throughput['transformer_over_lstm']:.2f} times"
    )
    families = {
        "with the beat input": lambda r: r["model"].startswith("CNN") and r["beat_input"],
        "without the beat input": lambda r: r["model"].startswith("CNN") and not r["beat_input"],
        "WaveNet": lambda r: r["model"].startswith("WaveNet"),
    }
    spread = {}
    for label, member in families.items():
        seeded = [r for r in rows if "augmented" not in r["model"] and "seed" in r and member(r)]
        spread[label] = {
            score: {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)), "seeds": len(values)}
            for score in ("nll", "accuracy", "onset_accuracy")
            for values in [[r["test"][score] for r in seeded]]
        }
        figures = ", ".join(f"{k} {v['mean']:.3f} ± {v['std']:.3f}" for k, v in spread[label].items())
        print(f"{label} ({len(seeded)} seeds, mean ± standard deviation): {figures}")
    by_name = {r["model"]: r for r in rows}
    by_name["long-context n-gram"] = next(r for r in rows if r["model"].startswith("long-context"))
    pairs = [
        ("WaveNet", "CNN + LSTM"),
        ("CNN + LSTM, no beat input, seed 0", "CNN + LSTM"),
        ("Transformer", "CNN + LSTM"),
        ("Transformer, pretrained", "CNN + LSTM"),
        ("Transformer, pretrained", "Transformer"),
        ("CNN + LSTM", "long-context n-gram"),
    ]
    paired = {}
    for a, b in pairs:
        paired[f"{a} − {b}"] = paired_difference(by_name[a]["test"], by_name[b]["test"])
    for name in ("CNN + LSTM", "Transformer", "Transformer, pretrained"):
        limited = by_name[name][f"test_context_{CONTEXT}"]
        paired[f"{name}: last {CONTEXT} steps − whole piece"] = paired_difference(limited, by_name[name]["test"])
    for name, figures in paired.items():
        low, high = figures["interval95"]
        print(
            f"{name}: {figures['difference']:+.4f} nats/token, 95% interval over test pieces {low:+.4f} to {high:+.4f}"
        )
    print(
        f"NLL {goals['nll_below_best_1_to_5_gram']:.0%} below the best 1- to 5-gram; goals: "
        + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in goals.items() if isinstance(v, bool))
    )
    save_results(
        "melody",
        {
            "benchmark": "melody model vs n-gram baselines, chorales, tune-disjoint test split",
            "epochs": EPOCHS,
            "transformer_training": TRANSFORMER_TRAINING,
            "rows": rows,
            "spread_over_seeds": spread,
            "paired_differences": paired,
            "training_throughput": throughput,
            "goals": goals,
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
    )


def train_and_score_transformer(dataset, folk, label):
    model, history, seconds = train_transformer(dataset, folk, verbose=0)
    return {
        "model": label,
        "parameters": int(model.count_params()),
        "seed": 0,
        "beat_input": True,
        "train_seconds": round(seconds, 1),
        "epochs_run": len(history["loss"]),
        "steps_per_round": TRANSFORMER_TRAINING["steps_per_round"],
        "window_steps": TRANSFORMER_TRAINING["window_steps"],
        "folk_songs": len(folk.pieces["train"]) if folk is not None else 0,
        "history": history,
        "valid": evaluate_model(model, dataset.pieces["valid"], dataset.vocabulary),
        "test": evaluate_model(model, dataset.pieces["test"], dataset.vocabulary),
        **_context_scores(model, dataset, 0, build_transformer_model),
    }


def measure_throughput(dataset):
    """Training tokens per second of the lesson 05 LSTM, the WaveNet and the Transformer, untrained, in turns in this
    process (the same 64-step windows for all three)."""
    size = len(dataset.vocabulary)
    models = {
        "CNN + LSTM": compile_melody_model(build_melody_model(size)),
        "WaveNet": compile_melody_model(build_wavenet_model(size), MELODY_TRAINING["learning_rate"]),
        "Transformer": compile_melody_model(build_transformer_model(size), TRANSFORMER_TRAINING["learning_rate"]),
    }
    speeds = {name: [] for name in models}
    for _ in range(THROUGHPUT_ROUNDS):
        for name, model in models.items():
            speeds[name].append(training_throughput(model, dataset))
    medians = {name: round(float(np.median(values)), 1) for name, values in speeds.items()}
    return {
        "tokens_per_second": medians,
        "runs": {name: [round(v, 1) for v in values] for name, values in speeds.items()},
        "wavenet_over_lstm": round(medians["WaveNet"] / medians["CNN + LSTM"], 2),
        "transformer_over_lstm": round(medians["Transformer"] / medians["CNN + LSTM"], 2),
        "batch": "64 windows of 64 steps per training step, 20 steps timed after 3 untimed",
    }


if __name__ == "__main__":
    main()
