"""How long does `musegen grade` take for a class? (the instructor guide: grading each exercise in a process of its own)

Grades 30 copies of lesson 03's solution edition (every exercise passes, so every check runs to the end), one
after another as `musegen grade` does, and one copy of every lesson. The baseline, measured in the same process,
is one run of the same lesson top to bottom in quick mode, which is what grading a copy cost when the grader ran
each submitted notebook. Writes benchmarks/results/grading.json.

    .venv/bin/python benchmarks/grading.py
"""

import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from _results import save_results

from musegen_lessons.course.checks import PASSED
from musegen_lessons.course.grade import grade_notebook
from musegen_lessons.lesson import quiet_tensorflow

ROOT = Path(__file__).resolve().parents[1]
LESSON = "03_cnn_equation.ipynb"
COPIES = 30


def run_notebook(path, workdir):
    """Seconds to run a notebook top to bottom in quick mode, as a student's kernel runs it."""
    import os

    from nbclient import NotebookClient

    os.environ["MUSEGEN_QUICK"] = "1"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    client.widget_registry = {}  # as the grader's client did (jupyter/nbclient#312)
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def main():
    quiet_tensorflow()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        run_s = run_notebook(ROOT / "solutions" / LESSON, folder)
        copies = []
        for index in range(COPIES):
            copies.append(folder / f"student{index:02d}_{LESSON}")
            shutil.copy(ROOT / "solutions" / LESSON, copies[-1])
        started = time.perf_counter()
        graded = [grade_notebook(path) for path in copies]
        class_s = time.perf_counter() - started
        assert all(r.status == PASSED for results in graded for r in results), "a solution copy did not pass"
        lessons = {}
        for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
            started = time.perf_counter()
            results = grade_notebook(path)
            lessons[path.stem] = {"exercises": len(results), "grade_s": round(time.perf_counter() - started, 1)}

    per_copy = class_s / COPIES
    print(f"Grading {COPIES} copies of {LESSON} ({len(graded[0])} exercises each), one after another:")
    print(f"  {class_s:.1f} s in all, {per_copy:.2f} s a copy")
    print(f"  one run of the lesson in quick mode (the grader's cost per copy before): {run_s:.1f} s")
    print(f"  grading a copy takes {per_copy / run_s:.2f} of that")
    print("One copy of each lesson's solution edition (the first includes starting the grader's imports):")
    for lesson, row in lessons.items():
        print(f"  {lesson:<22}{row['exercises']:>3} exercises {row['grade_s']:>6.1f} s")
    save_results(
        "grading",
        {
            "benchmark": "grading a class",
            "lesson": LESSON,
            "copies": COPIES,
            "exercises": len(graded[0]),
            "class_s": round(class_s, 1),
            "per_copy_s": round(per_copy, 2),
            "notebook_run_s": round(run_s, 1),
            "per_copy_vs_notebook_run": round(per_copy / run_s, 3),
            "lessons": lessons,
        },
    )


if __name__ == "__main__":
    main()
