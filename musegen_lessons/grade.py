"""Grading submitted notebooks: `musegen grade NOTEBOOK... [--json FILE] [--timeout SECONDS]`.

The grader runs a *copy* of each submission in a fresh kernel inside a temporary folder, never the file
itself. Before running it puts back the canonical check cell of every exercise (so editing a check cell cannot
change a grade), keeps going after a failing cell, interrupts any cell that runs longer than the time limit
(an endless loop), and reads each exercise's result from the machine-readable output its check leaves.

Lesson: 00_welcome (how exercises are checked); used by instructors
"""

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from .checks import PASSED, RESULT_MIME, exercises
from .errors import GradeError

ERROR = "error"
DEFAULT_TIMEOUT = 120
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d\d\.\d+)["']""")
_TIMEOUT_NAME = "CellTimeoutError"


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    status: str  # passed, failed, not attempted, error
    message: str


def grade_notebook(path, timeout=DEFAULT_TIMEOUT, quick=True):
    """Run a copy of a submitted notebook and return one `ExerciseResult` per exercise of its lesson.

    Args:
        path: the submitted .ipynb; it is read, never written.
        timeout: seconds each cell may run before it is interrupted.
        quick: run in quick mode (MUSEGEN_QUICK=1), as the tests do.

    Raises:
        GradeError: the file is not a readable notebook, or not one of the course's lessons.
    """
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as error:
        raise GradeError(f"Cannot read '{path}' as a notebook: {error}") from error
    lesson = nb.metadata.get("musegen", {}).get("lesson") or path.stem
    lesson_exercises = exercises(lesson[:2])
    if not lesson_exercises:
        raise GradeError(f"'{path}' is lesson {lesson!r}, which has no exercises to grade.")
    check_cells = _restore_check_cells(nb, lesson_exercises)

    replies = {}
    # The copy runs in an empty folder of its own: whatever the lesson writes (output/) stays there.
    with tempfile.TemporaryDirectory(prefix="musegen-grade-") as workdir:
        client = notebook_client(nb, timeout, workdir, replies)
        previous = os.environ.get("MUSEGEN_QUICK")
        os.environ["MUSEGEN_QUICK"] = "1" if quick else "0"
        died = None
        try:
            client.execute()
        except DeadKernelError as error:
            died = f"the kernel died while running the notebook ({error}); did the code exit or run out of memory?"
        finally:
            if previous is None:
                os.environ.pop("MUSEGEN_QUICK", None)
            else:
                os.environ["MUSEGEN_QUICK"] = previous

    return [
        _result(ex, nb.cells[check_cells[ex.id]], replies.get(check_cells[ex.id]), timeout, died)
        for ex in lesson_exercises
    ]


def notebook_client(nb, timeout, workdir, replies):
    """The nbclient client that grading runs a notebook with: each cell's execute reply goes into `replies` by
    cell index; a cell that runs longer than `timeout` seconds is interrupted and its reply says so."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": _TIMEOUT_NAME, "evalue": f"the cell ran longer than {timeout} s"},
        resources={"metadata": {"path": workdir}},
        on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(
            cell_index, execute_reply["content"]
        ),
    )
    # nbclient mimics the Output widget by sending on the shell channel while it waits there for the cell's
    # reply, and often misses the reply, idle until the time limit (jupyter/nbclient#312): lesson 07's
    # listening panel cost 300 s a grading. Grading needs no widget, so none is mimicked.
    client.widget_registry = {}
    return client


def _restore_check_cells(nb, lesson_exercises):
    """Replace every check cell with its canonical source; append the missing ones. Returns {id: cell index}."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        match = _CHECK_CALL.search(cell.source)
        if match and match.group(1) in {ex.id for ex in lesson_exercises} and match.group(1) not in found:
            found[match.group(1)] = index
    for ex in lesson_exercises:
        # The import makes the check the package's own, even if the student redefined `check` above.
        source = f"from musegen_lessons.checks import check\n{ex.check_source()}"
        if ex.id in found:
            nb.cells[found[ex.id]].source = source
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
            found[ex.id] = len(nb.cells) - 1
    return found


def _result(ex, cell, reply, timeout, died):
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if RESULT_MIME in data:
            result = data[RESULT_MIME]
            return ExerciseResult(ex.id, ex.title, result["status"], result["message"])
    if reply is None:
        return ExerciseResult(ex.id, ex.title, ERROR, died or "the check cell did not run")
    if reply.get("ename") == _TIMEOUT_NAME:
        return ExerciseResult(
            ex.id, ex.title, ERROR, f"timed out: the check ran longer than {timeout} s (an endless loop?)"
        )
    if reply.get("status") == "error":
        return ExerciseResult(ex.id, ex.title, ERROR, f"{reply.get('ename')}: {reply.get('evalue')}")
    return ExerciseResult(ex.id, ex.title, ERROR, "the check cell ran but reported no result")


def format_table(path, results):
    """A plain-text table of one notebook's results, one exercise a row."""
    rows = [f"{path}", f"  {'exercise':<9}{'status':<15}message"]
    for r in results:
        rows.append(f"  {r.exercise:<9}{r.status:<15}{_one_line(r.message)}")
    passed = sum(r.status == PASSED for r in results)
    rows.append(f"  {passed} of {len(results)} passed")
    return "\n".join(rows)


def results_to_json(graded):
    """JSON text for {path: [ExerciseResult, ...]}, with a count of passed exercises per notebook."""
    return json.dumps(
        [
            {
                "notebook": str(path),
                "passed": sum(r.status == PASSED for r in results),
                "total": len(results),
                "exercises": [asdict(r) for r in results],
            }
            for path, results in graded.items()
        ],
        indent=1,
    )


def _one_line(text, limit=110):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
