"""The two editions of the course: in sync, clean, and built the way DESIGN.md says."""

import re
from pathlib import Path

import nbformat
import pytest

from musegen_lessons import __version__
from musegen_lessons.course.checks import exercises
from musegen_lessons.course.course_map import COURSE_MAP
from musegen_lessons.course.release import STUB_LINE, release

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.name for p in SOLUTIONS]


def _read(path):
    return nbformat.read(path, as_version=4)


def test_the_lessons_are_numbered_from_00_without_a_gap_in_both_editions():
    assert [int(name[:2]) for name in NAMES] == list(range(len(NAMES)))
    assert sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) == NAMES


def test_every_lesson_is_on_the_course_map_and_in_the_readmes_lesson_map():
    on_the_map = {number.strip() for *_, lessons in COURSE_MAP for number in lessons.split(",")}
    assert on_the_map == {name[:2] for name in NAMES}
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in NAMES if f"[{Path(name).stem}](notebooks/{name})" not in readme]
    assert not missing, f"the README's lesson map has no row for {missing}"


def test_student_edition_is_in_sync_with_solutions():
    assert release(ROOT / "solutions", ROOT / "notebooks", check=True) == []


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("edition", ["solutions", "notebooks"])
def test_notebooks_are_stored_without_outputs(edition, name):
    nb = _read(ROOT / edition / name)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", NAMES)
def test_cells_have_unique_stable_ids(name):
    ids = [c.get("id") for c in _read(ROOT / "solutions" / name).cells]
    assert all(ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize("name", NAMES)
def test_first_cell_starts_the_lesson_for_this_version(name):
    first = _read(ROOT / "solutions" / name).cells[0]
    assert first.cell_type == "code"
    assert f'start_lesson("{Path(name).stem}", written_for="{__version__}")' in first.source


@pytest.mark.parametrize("name", NAMES)
def test_lesson_has_goals_summary_reading_and_a_next_step(name):
    text = "\n".join(c.source for c in _read(ROOT / "solutions" / name).cells if c.cell_type == "markdown")
    assert "**In this lesson you will**" in text
    assert "## Summary" in text and "**Further reading**" in text and "**Next:**" in text


@pytest.mark.parametrize("name", NAMES)
def test_check_cells_are_canonical_and_cover_every_exercise(name):
    nb = _read(ROOT / "solutions" / name)
    lesson_exercises = exercises(name[:2])
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    for ex in lesson_exercises:
        assert sources.count(ex.check_source()) == 1, f"{name}: no single check cell `{ex.check_source()}`"
        definition = next(i for i, s in enumerate(sources) if re.search(rf"^def {ex.function}\(", s, re.M))
        assert "### BEGIN SOLUTION" in sources[definition]
        assert sources.index(ex.check_source()) > definition
    called = set(re.findall(r'check\("(\d\d\.\d+)"', "\n".join(sources)))
    assert called == {ex.id for ex in lesson_exercises}


@pytest.mark.parametrize("name", [n for n in NAMES if exercises(n[:2])])
def test_student_edition_has_one_stub_per_exercise_and_no_solution(name):
    student = _read(ROOT / "notebooks" / name)
    stubs = sum(STUB_LINE in c.source for c in student.cells if c.cell_type == "code")
    assert stubs == len(exercises(name[:2]))
    assert not any("### BEGIN SOLUTION" in c.source for c in student.cells)


def test_later_cells_never_call_a_students_function():
    for path in SOLUTIONS:
        sources = [c.source for c in _read(path).cells if c.cell_type == "code"]
        for ex in exercises(path.name[:2]):
            users = [s for s in sources if re.search(rf"\b{ex.function}\b", s)]
            assert len(users) == 2, f"{path.name}: {ex.function} is used outside its exercise and check cells"
