"""The JSB Chorales benchmark (lesson 08): our frame models against the published table, on the official split.

Reads the benchmark's quarter-note split from `MUSEGEN_JSB` or from ../shared/benchmarks/jsb/ beside the course
(the public copy is linked in polyphony.JSB_PUBLIC_COPY; the data is never copied into this project). Without
it the benchmark says so and stops cleanly: published figures are only compared on the official split.

Every model is fitted on the train split, with its best epoch chosen on the valid split, and scored once on
test: the frame NLL in nats (frame t from frames < t, the first frame of a piece not scored, summed over 88
keys, averaged over all scored frames) and the frame accuracy TP / (TP + FP + FN). Each network trains within
a budget of `polyphony.BENCHMARK_SECONDS` on this machine.

    .venv/bin/python benchmarks/jsb.py
"""

import json
import os
import platform
import sys
import time
from pathlib import Path

from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()

from musegen_lessons import polyphony as P  # noqa: E402

RESULTS = Path(__file__).with_name("results") / "jsb.json"


def score_row(name, model, predict, split, seconds=None, settings=None):
    row = {
        "model": name,
        "parameters": int(model.count_params()),
        "valid": P.score_split(predict, split.pieces["valid"]),
        "test": P.score_split(predict, split.pieces["test"]),
    }
    if seconds is not None:
        row.update(train_seconds=round(seconds, 1), settings=settings)
    print(f"  {name}: test NLL {row['test']['nll']:.2f}" + (f" after {seconds:.0f} s" if seconds else ""), flush=True)
    return row


def main():
    path = P.find_jsb()
    if path is None:
        print(
            f"JSB benchmark skipped: no benchmark file. It is read from {P.JSB_ENV} (now "
            f"{os.environ.get(P.JSB_ENV) or 'unset'}) or from {P.JSB_BESIDE_COURSE}; published figures are only "
            f"compared on the official split. The public copy: {P.JSB_PUBLIC_COPY}."
        )
        return 0
    started = time.perf_counter()
    split = P.read_jsb(path)
    print(split.summary(), flush=True)
    rows = []
    for name, baseline in (("per-key frequency", P.FrequencyModel()), ("per-key Markov", P.MarkovModel())):
        model = baseline.fit(split.pieces["train"])
        rows.append(score_row(name, model, model.predict, split))
    for output, label in (("independent", "LSTM, independent keys"), ("autoregressive", "LSTM + MADE over keys")):
        settings = P.BENCHMARK_SETTINGS[output]
        model, history, seconds = P.train_frame_model(
            split, output, max_seconds=P.BENCHMARK_SECONDS, verbose=1, **settings
        )
        row = score_row(
            label,
            model,
            lambda pieces, m=model: P.keras_predict(m, pieces),
            split,
            seconds,
            {**settings, "augment": list(settings.get("augment", (0,)))},
        )
        row["epochs_run"] = len(history["val_nll"])
        rows.append(row)

    best = {output: rows[index]["test"]["nll"] for index, output in ((2, "independent"), (3, "autoregressive"))}
    goals = {
        "independent_at_most_8_3": best["independent"] <= 8.3,
        "independent_at_most_8_1": best["independent"] <= 8.1,
        "autoregressive_at_most_5_0": best["autoregressive"] <= 5.0,
        "autoregressive_at_most_4_8": best["autoregressive"] <= 4.8,
        "each_trained_within_10_minutes": all(r["train_seconds"] <= 600 for r in rows if "train_seconds" in r),
    }
    print(
        f"\nJSB Chorales, quarter notes, test split ({rows[0]['test']['frames']:,} frames scored); NLL in nats "
        "per frame, lower is better"
    )
    print(f"{'model':<34}{'parameters':>11}{'test NLL':>10}{'accuracy':>10}{'train s':>9}   source")
    for row in rows:
        seconds = f"{row['train_seconds']:>9.0f}" if "train_seconds" in row else f"{'-':>9}"
        print(
            f"{row['model']:<34}{row['parameters']:>11,}{row['test']['nll']:>10.2f}{row['test']['accuracy']:>10.3f}"
            f"{seconds}   measured here"
        )
    for name, nll, source in P.PUBLISHED:
        print(f"{name:<34}{'':>11}{nll:>10.2f}{'':>10}{'':>9}   {source}")
    print("goals: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in goals.items()))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "JSB Chorales, quarter-note split, frame NLL (nats) and frame accuracy on test",
                "data": str(path),
                "rows": rows,
                "published": [{"model": n, "test_nll": v, "source": s} for n, v, s in P.PUBLISHED],
                "goals": goals,
                "budget_seconds": P.BENCHMARK_SECONDS,
                "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
                "wall_seconds": round(time.perf_counter() - started, 1),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"Written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
