"""Every lesson top to bottom in full mode: how long it takes on this machine, and every number it printed.

The course promises that a lesson runs in full mode within 5 minutes on 2 cores, and that every figure its text
quotes is one its code printed (`course.figures`). Both need the lesson run in full mode, which `make test` cannot
afford; so this script runs each solution lesson in a scratch folder, as a student's kernel runs it, and keeps per
lesson its time, the hash of its code cells, and the numbers of its outputs, in benchmarks/results/lessons.json.
`tests/test_figures.py` checks every lesson's text against them, and fails when a lesson's code has changed since
its run here (rerun that lesson). The executed lessons are kept in build/lessons/, to read.

    .venv/bin/python benchmarks/lessons.py            # every lesson, about 40 minutes on 2 cores
    .venv/bin/python benchmarks/lessons.py 05 09      # only these, the others' records kept
"""

import argparse
import fcntl
import json
import os
import tempfile
import time
from pathlib import Path

import nbformat
from _results import RESULTS, save_results
from nbclient import NotebookClient

from musegen_lessons.course.figures import code_hash, output_texts, printed_numbers, read_notebook

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "build" / "lessons"  # each executed lesson, to read its outputs (git ignores build/)
LIMIT_SECONDS = 300


def run_lesson(path):
    """Run one solution lesson in full mode in a scratch folder: (seconds, status, the executed notebook)."""
    os.environ.pop("MUSEGEN_QUICK", None)
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="musegen-lesson-") as folder:
        client = NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": folder}})
        client.widget_registry = {}  # no widget manager in a headless run (jupyter/nbclient#312)
        started = time.perf_counter()
        try:
            client.execute()
            status = "ok"
        except Exception as error:  # a failing cell: recorded, and the next lesson still runs
            status = f"failed: {type(error).__name__}: {str(error)[-500:]}"
        seconds = time.perf_counter() - started
    return seconds, status, json.loads(nbformat.writes(notebook))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="two-digit lesson numbers (default: every lesson)")
    args = parser.parse_args()
    paths = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if args.lessons:
        paths = [p for p in paths if p.name[:2] in args.lessons]
    for path in paths:
        seconds, status, executed = run_lesson(path)
        numbers = sorted(printed_numbers(output_texts(executed)))
        EXECUTED.mkdir(parents=True, exist_ok=True)
        (EXECUTED / path.name).write_text(json.dumps(executed, indent=1))
        record = {
            "seconds": round(seconds, 1),
            "status": status,
            "within_limit": seconds <= LIMIT_SECONDS,
            "code_hash": code_hash(read_notebook(path)),
            "numbers": " ".join(f"{n:.12g}" for n in numbers),  # one line: thousands of them
        }
        print(f"{path.stem:<22} {seconds:6.0f} s   {status[:100]}   {len(numbers):,} numbers printed")
        save_record(path.stem, record)


def save_record(name, record):
    """Add one lesson's record to results/lessons.json, keeping the others' (read again under a lock, so that two
    runs of this script at once keep both)."""
    path = RESULTS / "lessons.json"
    with open(RESULTS / ".lessons.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        records = json.loads(path.read_text())["lessons"] if path.is_file() else {}
        records[name] = record
        save_results("lessons", {"limit_seconds": LIMIT_SECONDS, "lessons": dict(sorted(records.items()))})


if __name__ == "__main__":
    main()
