"""Grading submitted notebooks: `musegen grade NOTEBOOK... [--json FILE] [--timeout SECONDS]`.

The grader reads a submission, never runs it and never writes it. For each exercise of the lesson it takes the
student's exercise cell (the last cell that defines the exercise's function) and grades it on its own: in a
fresh process that holds only the exercise's set-up and that cell (`isolation.IsolatedFunction`), called by the
canonical check running here, in the grader. So nothing else in the notebook counts: not an edited or deleted
check cell, not a `check` defined by the student, not a forged output, not a patch of the package or of numpy
in another cell. A prediction is graded "answered" (right or wrong; the message says which). An answer that calls
the exercise's reference is graded "uses the reference"; one that runs longer than the time limit is stopped and
graded "error".

Lesson: 00_welcome (how exercises are checked); used by instructors
"""

import ast
import json
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from musegen_lessons.course.checks import (
    ANSWERED,
    NOT_ATTEMPTED,
    PASSED,
    USES_REFERENCE,
    UsesReference,
    evaluate,
    exercises,
    uses_reference_message,
)
from musegen_lessons.course.isolation import CellError, IsolatedFunction, Stopped
from musegen_lessons.errors import GradeError

ERROR = "error"
DEFAULT_TIMEOUT = 120
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d\d\.\d+)["']""")


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    status: str  # passed, answered (a prediction), failed, not attempted, uses the reference, error
    message: str


def grade_notebook(path, timeout=DEFAULT_TIMEOUT, quick=True):
    """Grade each exercise of a submitted notebook and return one `ExerciseResult` per exercise of its lesson.

    Args:
        path: the submitted .ipynb; it is read, never run and never written.
        timeout: seconds the student's code of one exercise may run in all before it is stopped.
        quick: run the exercises in quick mode (MUSEGEN_QUICK=1), as the tests do.

    Raises:
        GradeError: the file is not a readable notebook, or not one of the course's lessons.
    """
    path = Path(path)
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception as error:
        raise GradeError(f"Cannot read '{path}' as a notebook: {error}") from error
    lesson = nb.metadata.get("musegen", {}).get("lesson") or path.stem
    lesson_exercises = exercises(lesson[:2])
    if not lesson_exercises:
        raise GradeError(f"'{path}' is lesson {lesson!r}, which has no exercises to grade.")
    # Whatever the exercises write (output/) goes to an empty folder of their own, never beside the submission.
    with tempfile.TemporaryDirectory(prefix="musegen-grade-") as workdir:
        return [grade_exercise(ex, exercise_cell(nb, ex), timeout, workdir, quick) for ex in lesson_exercises]


def grade_exercise(ex, cell, timeout, workdir, quick):
    """Grade one exercise cell (source text, or None when the notebook has none), run in the folder `workdir`, and
    return its `ExerciseResult`."""
    if cell is None:
        return ExerciseResult(ex.id, ex.title, NOT_ATTEMPTED, f"no cell of the notebook defines {ex.function}")
    try:
        with IsolatedFunction(ex, cell, timeout, workdir, quick) as fn:
            status, message = evaluate(ex, fn)
    except UsesReference as used:
        status, message = USES_REFERENCE, uses_reference_message(ex, used.name)
    except CellError as error:
        setup = "; ".join(line for line in ex.setup.splitlines() if line)
        setup = f" after only `{setup}`" if setup else " on its own"
        status = ERROR
        message = f"the exercise cell raised {error}. Each exercise cell is graded{setup}: define what it needs in it."
    except Stopped as stop:
        status, message = ERROR, stop.message
    return ExerciseResult(ex.id, ex.title, status, message)


def exercise_cell(nb, ex):
    """The source of the student's cell for an exercise: the last code cell above the exercise's check cell that
    defines its function at the top level (by `def`, `=` or `import ... as`), else the last one anywhere."""
    defining, check_index = [], None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        match = _CHECK_CALL.search(cell.source)
        if match and match.group(1) == ex.id and check_index is None:
            check_index = index
        if ex.function in _top_level_names(cell.source):
            defining.append(index)
    above = [index for index in defining if check_index is None or index < check_index]
    chosen = (above or defining or [None])[-1]
    return None if chosen is None else nb.cells[chosen].source


def _top_level_names(source):
    """Names a cell binds at its top level; for a cell that does not parse, the names it seems to define."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"^(?:def\s+|class\s+)?(\w+)\s*[(=:]", source, re.MULTILINE))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def exercise_table():
    """A Markdown table of every exercise: what it asks for, the set-up its answer may rely on, and its references."""
    rows = ["| exercise | it asks for | the answer may rely on | its references |", "|---|---|---|---|"]
    for ex in exercises():
        setup = "; ".join(f"`{line}`" for line in ex.setup.splitlines() if line) or "its own cell only"
        references = ", ".join(f"`{r.removeprefix('musegen_lessons.')}`" for r in ex.references) or "—"
        rows.append(f"| {ex.id} {ex.title} | {ex.kind} | {setup} | {references} |")
    return "\n".join(rows)


def format_table(path, results):
    """A plain-text table of one notebook's results, one exercise a row."""
    rows = [f"{path}", f"  {'exercise':<9}{'status':<15}message"]
    for r in results:
        rows.append(f"  {r.exercise:<9}{r.status:<15}{_one_line(r.message)}")
    passed, answered = (sum(r.status == status for r in results) for status in (PASSED, ANSWERED))
    rows.append(f"  {passed} of {len(results)} passed" + (f", {answered} answered (predictions)" if answered else ""))
    return "\n".join(rows)


def results_to_json(graded):
    """JSON text for {path: [ExerciseResult, ...]}, with a count of passed exercises per notebook."""
    return json.dumps(
        [
            {
                "notebook": str(path),
                "passed": sum(r.status == PASSED for r in results),
                "answered": sum(r.status == ANSWERED for r in results),
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
