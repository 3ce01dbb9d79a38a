"""Study time: reading counted on a lesson's words and code, each exercise by what it asks, runs from lessons.json."""

import nbformat

from musegen_lessons.course import study_time as study
from musegen_lessons.course.checks import exercises
from musegen_lessons.lesson import benchmark_results


def _lesson(tmp_path, name, words, code_lines):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(" ".join(["note"] * words)),
        nbformat.v4.new_code_cell("\n".join(["x = 1", ""] * code_lines)),  # blank lines are not read
    ]
    nbformat.write(nb, tmp_path / f"{name}.ipynb")


def test_reading_counts_the_prose_s_words_and_the_code_s_lines(tmp_path):
    _lesson(tmp_path, "00_welcome", words=3 * study.WORDS_PER_MINUTE, code_lines=2 * study.CODE_LINES_PER_MINUTE)
    assert study.study_time("00_welcome", folder=tmp_path)["reading"] == 5


def test_each_exercise_counts_by_what_it_asks_and_the_runs_are_the_lesson_s_full_mode_seconds():
    time = study.study_time("05_keras_model")
    asked = exercises("05")
    assert time["exercise count"] == len(asked)
    assert time["exercises"] == sum(study.EXERCISE_MINUTES[ex.kind] for ex in asked)
    assert time["live runs"] == benchmark_results("lessons")["lessons"]["05_keras_model"]["seconds"] / 60
    assert time["total"] == time["reading"] + time["exercises"] + time["live runs"]


def test_a_lesson_not_yet_run_in_full_mode_has_no_run_time_and_the_table_says_so(tmp_path):
    _lesson(tmp_path, "99_new", words=10, code_lines=1)
    time = study.study_time("99_new", folder=tmp_path)
    assert time["live runs"] is None and time["exercise count"] == 0 and time["total"] == time["reading"]


def test_minutes_read_as_hours_and_minutes_and_never_as_no_time():
    assert [study._minutes(m) for m in (0.2, 42, 60, 61, 87)] == ["5 min", "40 min", "1 h", "1 h", "1 h 25 min"]
