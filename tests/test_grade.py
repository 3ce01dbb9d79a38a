"""`musegen grade` runs a copy of a submission, with the canonical checks, within its time limit."""

import json
import os
import time
from pathlib import Path

import nbformat
import pytest

from musegen_lessons.checks import FAILED, NOT_ATTEMPTED, PASSED, exercises
from musegen_lessons.cli import main
from musegen_lessons.errors import GradeError
from musegen_lessons.grade import ERROR, grade_notebook, notebook_client

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
GRADED_LESSONS = [name for name in LESSONS if exercises(name[:2])]


def _submission(tmp_path, lesson, answers, name="submission.ipynb"):
    """A copy of the student edition of `lesson` with some exercise cells (by function name) replaced."""
    nb = nbformat.read(ROOT / "notebooks" / lesson, as_version=4)
    for cell in nb.cells:
        for function, source in answers.items():
            if cell.cell_type == "code" and f"def {function}(" in cell.source:
                cell.source = source
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def _fingerprint(path):
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns


@pytest.mark.parametrize("lesson", GRADED_LESSONS)
def test_every_solution_passes_every_exercise(lesson):
    results = grade_notebook(ROOT / "solutions" / lesson, timeout=300)
    assert [r.exercise for r in results] == [e.id for e in exercises(lesson[:2])]
    assert {r.status for r in results} == {PASSED}, results


@pytest.mark.parametrize("lesson", GRADED_LESSONS)
def test_every_student_exercise_is_not_attempted_without_errors(lesson):
    results = grade_notebook(ROOT / "notebooks" / lesson, timeout=300)
    assert results and {r.status for r in results} == {NOT_ATTEMPTED}, results


def test_wrong_answer_exception_and_endless_loop_are_each_reported(tmp_path):
    path = _submission(
        tmp_path,
        "01_representation.ipynb",
        {
            "my_midi_to_frequency": "def my_midi_to_frequency(midi):\n    return 1 / 0",
            "my_name_to_midi": "def my_name_to_midi(name):\n    return 60",
            "my_notes_to_tokens": "def my_notes_to_tokens(notes):\n    while True:\n        pass",
        },
    )
    before = _fingerprint(path)
    started = time.monotonic()
    results = {r.exercise: r for r in grade_notebook(path, timeout=10)}
    elapsed = time.monotonic() - started

    assert results["01.1"].status == FAILED and "ZeroDivisionError" in results["01.1"].message
    assert results["01.2"].status == FAILED and "the answer is 69, yours was 60" in results["01.2"].message
    assert results["01.3"].status == ERROR and "timed out" in results["01.3"].message
    assert results["01.4"].status == NOT_ATTEMPTED
    assert elapsed < 120, "the endless loop was not stopped by the time limit"
    assert _fingerprint(path) == before


def test_grading_mimics_no_widget(tmp_path):
    # Lesson 07's listening panel writes into an Output widget. nbclient, mimicking the widget, sends on the shell
    # channel while it waits there for the cell's reply, and often misses the reply until the time limit: a 300 s
    # stall per grading of lesson 07, reported as nothing at all. So the grader's client mimics no widget.
    cell = "from musegen_lessons.widgets import BlindListening\n\nBlindListening([([60, 'HOLD'], [62, 'HOLD'])] * 2)\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    replies = {}
    client = notebook_client(nb, 60, str(tmp_path), replies)
    client.execute()
    assert replies[0]["status"] == "ok", replies
    assert not client.comm_objects, "the grader mimics a widget, which can stall every cell that fills one"


def test_an_edited_check_cell_cannot_change_the_grade(tmp_path):
    path = _submission(tmp_path, "00_welcome.ipynb", {})
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if 'check("00.1"' in cell.source:
            cell.source = 'def check(*args):\n    print("passed")\ncheck("00.1", my_seconds_per_quarter)'
    nbformat.write(nb, path)
    [result] = grade_notebook(path, timeout=60)
    assert result.status == NOT_ATTEMPTED


def test_a_deleted_check_cell_is_put_back(tmp_path):
    path = _submission(
        tmp_path, "00_welcome.ipynb", {"my_seconds_per_quarter": "def my_seconds_per_quarter(t):\n    return 60 / t"}
    )
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if 'check("00.1"' not in c.source]
    nbformat.write(nb, path)
    [result] = grade_notebook(path, timeout=60)
    assert result.status == PASSED


def test_a_kernel_that_dies_is_reported_not_raised(tmp_path):
    path = _submission(tmp_path, "00_welcome.ipynb", {"my_seconds_per_quarter": "import os\nos._exit(1)"})
    [result] = grade_notebook(path, timeout=60)
    assert result.status == ERROR and "kernel died" in result.message


def test_grading_writes_nothing_beside_the_submission(tmp_path):
    path = _submission(tmp_path, "01_representation.ipynb", {})
    grade_notebook(path, timeout=300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submission.ipynb"]


def test_an_unreadable_submission_is_a_grade_error(tmp_path):
    path = tmp_path / "01_broken.ipynb"
    path.write_text("this is not JSON")
    with pytest.raises(GradeError, match="Cannot read"):
        grade_notebook(path)


def test_cli_prints_a_table_and_writes_json(tmp_path, capsys):
    good = _submission(
        tmp_path, "00_welcome.ipynb", {"my_seconds_per_quarter": "def my_seconds_per_quarter(t):\n    return 60 / t"}
    )
    broken = tmp_path / "00_broken.ipynb"
    broken.write_text("{")
    report = tmp_path / "grades.json"
    assert main(["grade", str(good), str(broken), "--json", str(report), "--timeout", "60"]) == 2
    captured = capsys.readouterr()
    assert "00.1" in captured.out and "1 of 1 passed" in captured.out
    assert "Cannot read" in captured.err
    [graded] = json.loads(report.read_text())
    assert graded["passed"] == 1 and graded["exercises"][0]["status"] == PASSED
    assert os.path.exists(broken)
