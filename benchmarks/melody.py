"""The melody model against the n-gram baselines, on the tune-disjoint test split of the chorales (lesson 05).

Trains the CNN + LSTM model in full mode exactly as `musegen train` does, fits and tunes every n-gram baseline,
scores them all on the same held-out tunes, and writes benchmarks/results/melody.json. It also trains the model
a second time with transposition augmentation (±3 semitones) at the same cost per epoch (a window every 28
steps instead of every 4, so both runs see the same number of windows), to measure what lesson 02 predicted:
on key-normalised data augmentation is a trade, not a free gain.

The goals of the course, checked at the end: test NLL at least 20% below the best 1- to 5-gram's and below the
long-context n-gram's, onset accuracy at least 0.35, training within 5 minutes on 2 cores.

    .venv/bin/python benchmarks/melody.py
"""

import time

from _results import save_results

from musegen_lessons.corpus import load_melodies
from musegen_lessons.dataset import build_dataset
from musegen_lessons.lesson import quiet_tensorflow
from musegen_lessons.training import EPOCHS, evaluate_model, run_baselines, train_melody_model

quiet_tensorflow()  # before anything imports TensorFlow


def train_and_score(dataset, label):
    model, history, seconds = train_melody_model(dataset, epochs=EPOCHS, verbose=0)
    return {
        "model": label,
        "parameters": int(model.count_params()),
        "train_seconds": round(seconds, 1),
        "epochs_run": len(history["loss"]),
        "valid": evaluate_model(model, dataset.pieces["valid"], dataset.vocabulary),
        "test": evaluate_model(model, dataset.pieces["test"], dataset.vocabulary),
    }


def main():
    started = time.perf_counter()
    pieces = load_melodies("chorales", quick=False).pieces
    dataset = build_dataset(pieces, window_steps=64, stride=4)
    rows = run_baselines(dataset)
    rows.append(train_and_score(dataset, "CNN + LSTM"))
    augmented = build_dataset(pieces, window_steps=64, stride=28, augment=range(-3, 4))
    rows.append(train_and_score(augmented, "CNN + LSTM, augmented ±3"))

    best_short = min(r["test"]["nll"] for r in rows if r["model"] in {f"{n}-gram" for n in range(1, 6)})
    long_context = next(r for r in rows if r["model"].startswith("long-context"))["test"]["nll"]
    model = rows[-2]
    goals = {
        "nll_below_best_1_to_5_gram": round(1 - model["test"]["nll"] / best_short, 4),
        "nll_at_least_20_percent_below_best_1_to_5_gram": model["test"]["nll"] <= 0.8 * best_short,
        "nll_below_long_context": model["test"]["nll"] < long_context,
        "onset_accuracy_at_least_0_35": model["test"]["onset_accuracy"] >= 0.35,
        "trained_within_5_minutes": model["train_seconds"] <= 300,
    }

    print(
        f"Chorales, tune-disjoint split: {', '.join(f'{k} {len(v)}' for k, v in dataset.pieces.items())} pieces;"
        f" test {model['test']['tokens']:,} tokens scored"
    )
    print(f"{'model':<28}{'parameters':>11}{'test NLL':>10}{'accuracy':>10}{'onset acc.':>11}{'train s':>9}")
    for row in rows:
        test = row["test"]
        seconds = f"{row['train_seconds']:>9.0f}" if "train_seconds" in row else f"{'-':>9}"
        print(
            f"{row['model']:<28}{row['parameters']:>11,}{test['nll']:>10.3f}{test['accuracy']:>10.3f}"
            f"{test['onset_accuracy']:>11.3f}{seconds}"
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
            "rows": rows,
            "goals": goals,
            "wall_seconds": round(time.perf_counter() - started, 1),
        },
    )


if __name__ == "__main__":
    main()
