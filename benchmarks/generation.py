"""How fast can the melody model write? The three step generators of lesson 06, side by side.

Each generator continues the same held-out seed with the same sampling settings, five times after a warm-up; the
table gives the median steps per second of the five runs and their spread (slowest and fastest). The naive loop
(model.predict on the whole window at every step) is the baseline the other two are measured against, in the
same process. Real time for 16th notes at 120 bpm is 8 steps per second. Writes benchmarks/results/generation.json.

    .venv/bin/python benchmarks/generation.py
"""

import statistics
import time

from _results import save_results

from musegen_lessons.corpus import load_melodies
from musegen_lessons.dataset import build_dataset
from musegen_lessons.generate import (
    KerasStepGenerator,
    NumpyStepGenerator,
    WindowedGenerator,
    generate,
    seed_from_piece,
)
from musegen_lessons.lesson import quiet_tensorflow
from musegen_lessons.models import load_melody_model

quiet_tensorflow()  # before anything imports TensorFlow

STEPS = {"naive window loop": 64, "tf.function step": 1024, "numpy step": 8192}
RUNS = 5
REAL_TIME_STEPS_PER_SECOND = 8  # 16th notes at 120 bpm


def main():
    model, vocabulary, _ = load_melody_model()
    piece = build_dataset(load_melodies("chorales", quick=False).pieces).pieces["test"][0]
    seed_tokens, bar_steps, pickup = seed_from_piece(piece, 16)
    generators = {
        "naive window loop": WindowedGenerator(model),
        "tf.function step": KerasStepGenerator(model),
        "numpy step": NumpyStepGenerator(model),
    }
    rows = {}
    for name, generator in generators.items():
        generate(generator, vocabulary, seed_tokens, 8, seed=0, bar_steps=bar_steps, pickup_steps=pickup)  # warm up
        steps = len(seed_tokens) + STEPS[name] - 1
        speeds = []
        for _ in range(RUNS):
            started = time.perf_counter()
            generate(generator, vocabulary, seed_tokens, STEPS[name], seed=0, bar_steps=bar_steps, pickup_steps=pickup)
            speeds.append(steps / (time.perf_counter() - started))
        rows[name] = {
            "steps": steps,
            "runs": RUNS,
            "steps_per_second": round(statistics.median(speeds), 1),
            "slowest": round(min(speeds), 1),
            "fastest": round(max(speeds), 1),
        }
    baseline = rows["naive window loop"]["steps_per_second"]
    for row in rows.values():
        row["x_real_time"] = round(row["steps_per_second"] / REAL_TIME_STEPS_PER_SECOND, 1)
        row["x_naive_loop"] = round(row["steps_per_second"] / baseline, 1)
    numpy_row = rows["numpy step"]
    goals = {
        "numpy_at_least_5000_steps_per_second_in_every_run": numpy_row["slowest"] >= 5000,
        "numpy_median_at_least_10000_steps_per_second": numpy_row["steps_per_second"] >= 10000,
        "numpy_at_least_100x_naive": numpy_row["x_naive_loop"] >= 100,
    }

    print(f"median of {RUNS} runs each")
    print(f"{'generator':<20}{'steps/s':>10}{'slowest':>10}{'fastest':>10}{'x real time':>13}{'x naive loop':>14}")
    for name, row in rows.items():
        print(
            f"{name:<20}{row['steps_per_second']:>10,.0f}{row['slowest']:>10,.0f}{row['fastest']:>10,.0f}"
            f"{row['x_real_time']:>13,.0f}{row['x_naive_loop']:>14,.1f}"
        )
    print("goals: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in goals.items()))
    save_results(
        "generation",
        {
            "benchmark": f"generation speed, one step at a time, median of {RUNS} runs",
            "rows": rows,
            "goals": goals,
        },
    )


if __name__ == "__main__":
    main()
