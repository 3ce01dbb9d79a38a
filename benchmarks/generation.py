"""How fast can the melody model write? The three step generators of lesson 06, side by side.

Each generator continues the same held-out seed with the same sampling settings, five times after a warm-up; the
table gives the median steps per second of the five runs and their spread (slowest and fastest). The naive loop
(model.predict on the whole window at every step) is the baseline the other two are measured against, in the
same process. Real time for 16th notes at 120 bpm is 8 steps per second.

Then lesson 09's WaveNet, generated the naive way (the whole network over the last receptive field at every step)
and the cached way (one queue per block), at depths 4 to 10 (dilations 1 … 2^(depth − 1)) with the lesson's
widths, each timed after a history as long as its receptive field, so that the naive way pays its full cost. The
tokens are random and the models untrained: neither changes the work a step does, and the tests prove both
generators equal to the Keras model.

Then lesson 10's melody Transformer, with its key/value cache and by recomputing everything at every step, beside
lesson 06's numpy LSTM step, each timed after histories of 16 to 2,048 steps: the cached Transformer's step grows
with the history it attends over, the recomputed one's with its square, the LSTM's not at all. Writes
benchmarks/results/generation.json.

    .venv/bin/python benchmarks/generation.py
"""

import statistics
import time

from _results import save_results
from threadpoolctl import threadpool_limits

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.evaluation.speed import steps_per_second
from musegen_lessons.families.lstm import KerasStepGenerator, NumpyStepGenerator
from musegen_lessons.families.sampling import WindowedGenerator, generate, seed_from_piece
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.families.transformer import (
    CachedTransformerGenerator,
    RecomputeTransformerGenerator,
    build_transformer_model,
)
from musegen_lessons.families.wavenet import (
    MELODY_DILATIONS,
    CachedWaveNetGenerator,
    NaiveWaveNetGenerator,
    build_wavenet_model,
    doubling_dilations,
)
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()  # before anything imports TensorFlow

STEPS = {"naive window loop": 64, "tf.function step": 1024, "numpy step": 8192}
RUNS = 5
WAVENET_DEPTHS = range(4, 11)
WAVENET_STEPS = {"WaveNet, naive": 24, "WaveNet, cached queues": 2048}
WAVENETS = (("WaveNet, naive", NaiveWaveNetGenerator), ("WaveNet, cached queues", CachedWaveNetGenerator))
REAL_TIME_STEPS_PER_SECOND = 8  # 16th notes at 120 bpm
HISTORIES = (16, 64, 256, 1024, 2048)  # steps of music before the timed ones
TRANSFORMER_STEPS = {"Transformer, cached keys and values": 64, "Transformer, recomputed": 4, "LSTM, numpy step": 256}
RECOMPUTED_UP_TO = 512  # beyond this, recomputing a step takes seconds


def main():
    model, vocabulary, _ = load_melody_model()
    piece = build_dataset(load_melodies("chorales", quick=False).pieces).pieces["test"][0]
    seed_tokens, bar_steps, pickup = seed_from_piece(piece, 16)
    generators = {
        "naive window loop": WindowedGenerator(model),
        "tf.function step": KerasStepGenerator(model),
        "numpy step": NumpyStepGenerator(model),
    }

    def timed(generator, length):
        generate(generator, vocabulary, seed_tokens, 8, seed=0, bar_steps=bar_steps, pickup_steps=pickup)  # warm up
        steps = len(seed_tokens) + length - 1
        speeds = []
        for _ in range(RUNS):
            started = time.perf_counter()
            generate(generator, vocabulary, seed_tokens, length, seed=0, bar_steps=bar_steps, pickup_steps=pickup)
            speeds.append(steps / (time.perf_counter() - started))
        return speed_row(steps, speeds)

    rows = {name: timed(generator, STEPS[name]) for name, generator in generators.items()}
    depths = []
    for depth in WAVENET_DEPTHS:
        wavenet = build_wavenet_model(len(vocabulary), dilations=doubling_dilations(depth))
        timings = {
            name: timed_after(make(wavenet), WAVENET_STEPS[name], len(vocabulary), 2**depth) for name, make in WAVENETS
        }
        depths.append(
            {
                "depth": depth,
                "receptive_field": 2**depth,
                **{f"{name} ms per step": round(1000 / row["steps_per_second"], 3) for name, row in timings.items()},
            }
        )
        if depth == len(MELODY_DILATIONS):
            rows.update({f"{name} (depth {depth})": row for name, row in timings.items()})
    by_history = []
    transformer = build_transformer_model(len(vocabulary))
    contenders = {
        "Transformer, cached keys and values": CachedTransformerGenerator(transformer),
        "Transformer, recomputed": RecomputeTransformerGenerator(transformer),
        "LSTM, numpy step": NumpyStepGenerator(model),
    }
    for history in HISTORIES:
        row = {"history": history}
        for name, generator in contenders.items():
            if name == "Transformer, recomputed" and history > RECOMPUTED_UP_TO:
                continue
            timing = timed_after(generator, TRANSFORMER_STEPS[name], len(vocabulary), history)
            row[f"{name} steps per second"] = timing["steps_per_second"]
            if history == 256:
                rows[f"{name} (after 256 steps)"] = timing
        by_history.append(row)
    baseline = rows["naive window loop"]["steps_per_second"]
    for row in rows.values():
        row["x_real_time"] = round(row["steps_per_second"] / REAL_TIME_STEPS_PER_SECOND, 1)
        row["x_naive_loop"] = round(row["steps_per_second"] / baseline, 1)
    numpy_row = rows["numpy step"]
    lesson_depth = len(MELODY_DILATIONS)
    cached = rows[f"WaveNet, cached queues (depth {lesson_depth})"]
    naive = rows[f"WaveNet, naive (depth {lesson_depth})"]
    goals = {
        "wavenet_cached_at_least_10x_naive": cached["steps_per_second"] >= 10 * naive["steps_per_second"],
        "wavenet_cached_at_least_5000_steps_per_second": cached["steps_per_second"] >= 5000,
        "numpy_at_least_5000_steps_per_second_in_every_run": numpy_row["slowest"] >= 5000,
        "numpy_median_at_least_10000_steps_per_second": numpy_row["steps_per_second"] >= 10000,
        "numpy_at_least_100x_naive": numpy_row["x_naive_loop"] >= 100,
    }

    print(f"median of {RUNS} runs each")
    print(f"{'generator':<38}{'steps/s':>10}{'slowest':>10}{'fastest':>10}{'x real time':>13}{'x naive loop':>14}")
    for name, row in rows.items():
        print(
            f"{name:<38}{row['steps_per_second']:>10,.0f}{row['slowest']:>10,.0f}{row['fastest']:>10,.0f}"
            f"{row['x_real_time']:>13,.0f}{row['x_naive_loop']:>14,.1f}"
        )
    print(f"\nWaveNet, milliseconds per step by depth (dilations 1 … 2^(depth − 1)), median of {RUNS} runs")
    print(f"{'depth':>5}{'receptive field':>17}{'naive':>10}{'cached':>10}")
    for row in depths:
        naive_ms, cached_ms = row["WaveNet, naive ms per step"], row["WaveNet, cached queues ms per step"]
        print(f"{row['depth']:>5}{row['receptive_field']:>17}{naive_ms:>10.3f}{cached_ms:>10.3f}")
    print(f"\nTransformer against the LSTM, steps per second after a history, median of {RUNS} runs")
    print(f"{'history':>8}" + "".join(f"{name:>38}" for name in contenders))
    for row in by_history:
        print(
            f"{row['history']:>8}"
            + "".join(
                f"{row[f'{name} steps per second']:>38,.0f}" if f"{name} steps per second" in row else f"{'-':>38}"
                for name in contenders
            )
        )
    print("goals: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in goals.items()))
    save_results(
        "generation",
        {
            "benchmark": f"generation speed, one step at a time, median of {RUNS} runs",
            "rows": rows,
            "wavenet_by_depth": depths,
            "transformer_by_history": by_history,
            "goals": goals,
        },
    )


def timed_after(generator, steps, vocab_size, history):
    """Median, slowest and fastest steps per second of RUNS timings, each after `history` steps (a
    receptive field for the WaveNets, the music so far for the Transformer and the LSTM)."""
    with threadpool_limits(limits=1, user_api="blas"):  # as `generate` runs a step generator
        speeds = [steps_per_second(generator, steps, vocab_size, history=history) for _ in range(RUNS)]
    return speed_row(steps, speeds)


def speed_row(steps, speeds):
    """A table row: the median steps per second of the runs, and the slowest and fastest run."""
    return {
        "steps": steps,
        "runs": len(speeds),
        "steps_per_second": round(statistics.median(speeds), 1),
        "slowest": round(min(speeds), 1),
        "fastest": round(max(speeds), 1),
    }


if __name__ == "__main__":
    main()
