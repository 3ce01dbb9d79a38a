"""The student edition is generated from the solution edition, and never overwrites a student's work."""

import nbformat
import pytest

from musegen_lessons.course.cli import main
from musegen_lessons.course.release import STUB_LINE, release, student_source
from musegen_lessons.errors import ReleaseError

SOLUTION_CELL = '''def my_double(x):
    """Return twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION'''


def _write_lesson(folder, cells, name="09_test.ipynb"):
    nb = nbformat.v4.new_notebook()
    for i, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        cell.id = f"cell-{i}"
        nb.cells.append(cell)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def test_solution_region_becomes_a_stub_with_its_indentation():
    assert student_source(SOLUTION_CELL).splitlines()[-2:] == ["    # YOUR CODE HERE", f"    {STUB_LINE}"]


def test_hidden_tests_are_dropped():
    source = "x = 1\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS\ny = 2"
    assert student_source(source) == "x = 1\ny = 2"


def test_markdown_answer_is_blanked():
    source = "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"
    assert student_source(source, markdown=True) == "Why?\nYOUR ANSWER HERE"


@pytest.mark.parametrize(
    "source",
    [
        "### BEGIN SOLUTION\nx = 1",
        "x = 1\n### END SOLUTION",
        "### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n### END SOLUTION",
    ],
)
def test_unbalanced_markers_are_refused(source):
    with pytest.raises(ReleaseError, match="cell"):
        student_source(source)


def test_release_clears_outputs_and_marks_the_edition(tmp_path):
    path = _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL), ("code", "print(1)")])
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[1].execution_count = 3
    nbformat.write(nb, path)
    release(tmp_path / "solutions", tmp_path / "notebooks")
    student = nbformat.read(tmp_path / "notebooks" / path.name, as_version=4)
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells)
    assert "return 2 * x" not in student.cells[0].source
    assert student.metadata["musegen"]["edition"] == "student"


def test_release_is_deterministic(tmp_path):
    _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL)])
    release(tmp_path / "solutions", tmp_path / "notebooks")
    first = (tmp_path / "notebooks" / "09_test.ipynb").read_bytes()
    assert release(tmp_path / "solutions", tmp_path / "notebooks") == []
    assert (tmp_path / "notebooks" / "09_test.ipynb").read_bytes() == first


def test_check_reports_a_changed_solution_without_writing(tmp_path):
    path = _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL)])
    release(tmp_path / "solutions", tmp_path / "notebooks")
    before = (tmp_path / "notebooks" / path.name).read_bytes()
    _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL), ("md", "A new paragraph.")])
    assert release(tmp_path / "solutions", tmp_path / "notebooks", check=True) == [tmp_path / "notebooks" / path.name]
    assert (tmp_path / "notebooks" / path.name).read_bytes() == before


def test_check_reports_a_student_notebook_without_a_solution(tmp_path):
    _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL)])
    release(tmp_path / "solutions", tmp_path / "notebooks")
    _write_lesson(tmp_path / "notebooks", [("code", "x = 1")], name="10_orphan.ipynb")
    assert release(tmp_path / "solutions", tmp_path / "notebooks", check=True) == [
        tmp_path / "notebooks" / "10_orphan.ipynb"
    ]


def test_release_refuses_to_overwrite_student_code(tmp_path):
    _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL)])
    release(tmp_path / "solutions", tmp_path / "notebooks")
    target = tmp_path / "notebooks" / "09_test.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[0].source = 'def my_double(x):\n    """Return twice x."""\n    return x + x'
    nbformat.write(nb, target)
    work = target.read_bytes()
    _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL), ("md", "Changed.")])
    with pytest.raises(ReleaseError, match="student's own code"):
        release(tmp_path / "solutions", tmp_path / "notebooks")
    assert target.read_bytes() == work
    release(tmp_path / "solutions", tmp_path / "notebooks", force=True)
    assert STUB_LINE in nbformat.read(target, as_version=4).cells[0].source


def test_release_refuses_to_overwrite_an_unreadable_notebook(tmp_path):
    _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL)])
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "09_test.ipynb").write_text('{"cells": [')
    with pytest.raises(ReleaseError, match="not a readable notebook"):
        release(tmp_path / "solutions", tmp_path / "notebooks")
    assert (tmp_path / "notebooks" / "09_test.ipynb").read_text() == '{"cells": ['


def test_release_without_lessons_says_where_it_looked(tmp_path):
    with pytest.raises(ReleaseError, match="No lessons"):
        release(tmp_path / "nowhere", tmp_path / "notebooks")


def test_cli_check_exits_1_when_out_of_sync(tmp_path, capsys):
    _write_lesson(tmp_path / "solutions", [("code", SOLUTION_CELL)])
    arguments = ["release", "--solutions", str(tmp_path / "solutions"), "--notebooks", str(tmp_path / "notebooks")]
    assert main(arguments + ["--check"]) == 1
    assert "out of sync" in capsys.readouterr().out
    assert main(arguments) == 0
    assert main(arguments + ["--check"]) == 0


def test_cli_reports_a_refusal_with_exit_2(tmp_path, capsys):
    assert main(["release", "--solutions", str(tmp_path / "none"), "--notebooks", str(tmp_path)]) == 2
    assert "No lessons" in capsys.readouterr().err
