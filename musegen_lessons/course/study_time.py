"""Study time: how long each lesson takes a student, worked out from its text, its exercises and its live runs.

Lesson: 00_welcome

Reading is counted on the lesson itself (the words of its prose, the lines of its code), each exercise by what it asks
for, and the live runs by the seconds the lesson last took in full mode (`benchmarks/results/lessons.json`, written by
`benchmarks/lessons.py`). The rates are stated assumptions, not measurements of students: technical prose with
equations read at 150 words a minute, code at 10 lines a minute, and the minutes per exercise in `EXERCISE_MINUTES`.
Change them here to suit a class; the table in lesson 00 follows.
"""

import re
from pathlib import Path

import nbformat

from musegen_lessons.course.checks import ALGORITHM, BUILD, DECIDE, FORMULA, exercises
from musegen_lessons.lesson import benchmark_results

LESSONS = Path(__file__).resolve().parents[2] / "solutions"
WORDS_PER_MINUTE = 150
CODE_LINES_PER_MINUTE = 10
EXERCISE_MINUTES = {FORMULA: 5, ALGORITHM: 15, DECIDE: 15, BUILD: 30}


def study_time(lesson, folder=LESSONS):
    """Minutes of reading, of exercises and of live runs (full mode) for one lesson, e.g. '05_keras_model', read from
    its notebook in `folder`.

    Returns:
        {"reading": minutes, "exercises": minutes, "exercise count": n, "live runs": minutes or None before
        benchmarks/lessons.py has run the lesson, "total": minutes}.
    """
    nb = nbformat.read(Path(folder) / f"{lesson}.ipynb", as_version=4)
    words = sum(len(re.findall(r"\w+", c.source)) for c in nb.cells if c.cell_type == "markdown")
    code_lines = sum(
        len([line for line in c.source.splitlines() if line.strip()]) for c in nb.cells if c.cell_type == "code"
    )
    reading = words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE
    asked = exercises(lesson[:2])
    practice = sum(EXERCISE_MINUTES[ex.kind] for ex in asked)
    ran = ((benchmark_results("lessons") or {}).get("lessons", {}).get(lesson) or {}).get("seconds")
    runs = None if ran is None else ran / 60
    return {
        "reading": reading,
        "exercises": practice,
        "exercise count": len(asked),
        "live runs": runs,
        "total": reading + practice + (runs or 0),
    }


def show_study_times():
    """Show the study time of every lesson as a table (in hours and minutes, rounded to 5 minutes) and return it.

    Lesson: 00_welcome
    """
    from musegen_lessons.course.tables import show_table

    rows = []
    for path in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")):
        time = study_time(path.stem)
        rows.append(
            {
                "lesson": path.stem,
                "reading": _minutes(time["reading"]),
                "exercises": f"{time['exercise count']} · {_minutes(time['exercises'])}",
                "live runs (full mode)": "—" if time["live runs"] is None else _minutes(time["live runs"], step=1),
                "in all": _minutes(time["total"]),
            }
        )
    show_table(rows)
    return rows


def _minutes(minutes, step=5):
    """'1 h 25 min', rounded to `step` minutes (at least one step, so that nothing reads as no time at all)."""
    rounded = max(step, step * round(minutes / step))
    hours, rest = divmod(int(rounded), 60)
    return " ".join(part for part in (f"{hours} h" if hours else "", f"{rest} min" if rest else "") if part)
