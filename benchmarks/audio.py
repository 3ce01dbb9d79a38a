"""How fast does each audio backend turn a chorale into sound? (lessons 00 and 01 play every result inline)

Renders the same Bach chorales from music21's bundled corpus with every backend available here, best of
three runs each, and reports the real-time factor (seconds of music per second of computing) and each
backend's speed as a ratio to the numpy synthesiser, the baseline that always works, measured in the same
process. Writes benchmarks/results/audio.json.

    .venv/bin/python benchmarks/audio.py
"""

import time

from _results import save_results

from musegen_lessons.corpora.bundled import load_chorale
from musegen_lessons.music.audio import available_backends, render_audio
from musegen_lessons.music.midi import as_pretty_midi

CHORALES = ["bach/bwv66.6", "bach/bwv84.5", "bach/bwv269", "bach/bwv347", "bach/bwv153.1"]
REPEATS = 3


def best_time(function):
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main():
    pieces = [as_pretty_midi(load_chorale(name)) for name in CHORALES]  # parse once: measure synthesis only
    music_seconds = sum(pm.get_end_time() for pm in pieces)
    rows = {}
    for backend, reason in available_backends().items():
        if reason is not None:
            rows[backend] = {"available": False, "reason": reason}
            continue
        seconds = best_time(lambda b=backend: [render_audio(pm, backend=b, max_seconds=None) for pm in pieces])
        rows[backend] = {
            "available": True,
            "compute_s": round(seconds, 4),
            "realtime_factor": round(music_seconds / seconds, 1),
        }
    baseline = rows["numpy"]["compute_s"]
    for row in rows.values():
        if row["available"]:
            row["speed_vs_numpy"] = round(baseline / row["compute_s"], 2)

    print(f"Rendering {len(pieces)} chorales ({music_seconds:.0f} s of music), best of {REPEATS}:")
    print(f"{'backend':<14}{'compute s':>10}{'x real time':>13}{'speed vs numpy':>16}")
    for backend, row in rows.items():
        if row["available"]:
            print(
                f"{backend:<14}{row['compute_s']:>10.3f}{row['realtime_factor']:>13.0f}{row['speed_vs_numpy']:>16.2f}"
            )
        else:
            print(f"{backend:<14}  not available: {row['reason']}")
    save_results(
        "audio",
        {
            "benchmark": "audio rendering",
            "chorales": CHORALES,
            "music_seconds": round(music_seconds, 1),
            "backends": rows,
        },
    )


if __name__ == "__main__":
    main()
