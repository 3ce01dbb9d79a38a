"""How fast can the melody model write? The three step generators of lesson 06, side by side.

Each generator continues the same held-out seed with the same sampling settings; steps per second are the best
of three runs. The naive loop (model.predict on the whole window at every step) is the baseline the other two
are measured against, in the same process. Real time for 16th notes at 120 bpm is 8 steps per second. Writes
benchmarks/results/generation.json.

    .venv/bin/python benchmarks/generation.py
"""

import json
import os
import platform
import time
from pathlib import Path

from musegen_lessons.lesson import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from musegen_lessons.corpus import load_melodies  # noqa: E402
from musegen_lessons.dataset import build_dataset  # noqa: E402
from musegen_lessons.generate import (  # noqa: E402
    KerasStepGenerator,
    NumpyStepGenerator,
    WindowedGenerator,
    generate,
    seed_from_piece,
)
from musegen_lessons.models import load_melody_model  # noqa: E402

STEPS = {"naive window loop": 64, "tf.function step": 1024, "numpy step": 8192}
REAL_TIME_STEPS_PER_SECOND = 8  # 16th notes at 120 bpm
RESULTS = Path(__file__).with_name("results") / "generation.json"


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
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            generate(generator, vocabulary, seed_tokens, STEPS[name], seed=0, bar_steps=bar_steps, pickup_steps=pickup)
            timings.append(time.perf_counter() - started)
        steps = len(seed_tokens) + STEPS[name] - 1
        rows[name] = {
            "steps": steps,
            "seconds": round(min(timings), 4),
            "steps_per_second": round(steps / min(timings), 1),
        }
    baseline = rows["naive window loop"]["steps_per_second"]
    for row in rows.values():
        row["x_real_time"] = round(row["steps_per_second"] / REAL_TIME_STEPS_PER_SECOND, 1)
        row["x_naive_loop"] = round(row["steps_per_second"] / baseline, 1)
    numpy_row = rows["numpy step"]
    goals = {
        "numpy_at_least_5000_steps_per_second": numpy_row["steps_per_second"] >= 5000,
        "numpy_at_least_100x_naive": numpy_row["x_naive_loop"] >= 100,
    }

    print(f"{'generator':<20}{'steps/s':>10}{'x real time':>13}{'x naive loop':>14}")
    for name, row in rows.items():
        print(f"{name:<20}{row['steps_per_second']:>10,.0f}{row['x_real_time']:>13,.0f}{row['x_naive_loop']:>14,.1f}")
    print("goals: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in goals.items()))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "generation speed, one step at a time",
                "rows": rows,
                "goals": goals,
                "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
            },
            indent=1,
        )
        + "\n"
    )
    print(f"Written to {RESULTS}")


if __name__ == "__main__":
    main()
