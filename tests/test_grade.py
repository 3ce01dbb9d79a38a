"""`musegen grade` grades each exercise cell in a process of its own, with the canonical checks, within its time limit:
the honest cases, and the cheats a student might try."""

import json
import os
import time
from pathlib import Path

import nbformat
import pytest

from musegen_lessons.course.checks import ANSWERED, FAILED, NOT_ATTEMPTED, PASSED, USES_REFERENCE, exercises
from musegen_lessons.course.cli import main
from musegen_lessons.course.grade import ERROR, exercise_table, grade_notebook
from musegen_lessons.errors import GradeError

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


def _graded(tmp_path, lesson, function, cell, exercise_id, timeout=60):
    """The result of one exercise of the student edition of `lesson`, its cell for `function` replaced by `cell`."""
    path = _submission(tmp_path, lesson, {function: cell})
    return {r.exercise: r for r in grade_notebook(path, timeout=timeout)}[exercise_id]


def _fingerprint(path):
    stat = path.stat()
    return path.read_bytes(), stat.st_mtime_ns


@pytest.mark.parametrize("lesson", GRADED_LESSONS)
def test_every_solution_passes_every_exercise(lesson):
    results = grade_notebook(ROOT / "solutions" / lesson, timeout=300)
    assert [r.exercise for r in results] == [e.id for e in exercises(lesson[:2])]
    assert {r.status for r in results if not r.title.startswith("predict")} <= {PASSED}, results
    assert {r.status for r in results if r.title.startswith("predict")} <= {ANSWERED}, results


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


def test_an_edited_check_cell_cannot_change_the_grade(tmp_path):
    path = _submission(tmp_path, "00_welcome.ipynb", {})
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if 'check("00.1"' in cell.source:
            cell.source = 'def check(*args):\n    print("passed")\ncheck("00.1", my_seconds_per_quarter)'
    nbformat.write(nb, path)
    [result] = grade_notebook(path, timeout=60)
    assert result.status == NOT_ATTEMPTED


def test_a_deleted_check_cell_is_not_needed(tmp_path):
    path = _submission(
        tmp_path, "00_welcome.ipynb", {"my_seconds_per_quarter": "def my_seconds_per_quarter(t):\n    return 60 / t"}
    )
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if 'check("00.1"' not in c.source]
    nbformat.write(nb, path)
    [result] = grade_notebook(path, timeout=60)
    assert result.status == PASSED


def test_a_process_that_dies_is_reported_not_raised(tmp_path):
    for cell in [
        "import os\nos._exit(1)\ndef my_seconds_per_quarter(t):\n    return 60 / t",
        "def my_seconds_per_quarter(t):\n    import os\n    os._exit(3)",
    ]:
        [result] = grade_notebook(_submission(tmp_path, "00_welcome.ipynb", {"my_seconds_per_quarter": cell}), 60)
        assert result.status == ERROR and "ended (exit code" in result.message, result


def test_an_exercise_cell_is_graded_after_only_its_set_up(tmp_path):
    # 01.4's answer may use `np` (its set-up) but not `chorale`, which the lesson loads in another cell.
    path = _submission(
        tmp_path,
        "01_representation.ipynb",
        {
            "my_tokens_to_piano_roll": "n = len(chorale.parts)\n"
            "def my_tokens_to_piano_roll(tokens):\n    return np.zeros(1)"
        },
    )
    result = {r.exercise: r for r in grade_notebook(path, timeout=60)}["01.4"]
    assert result.status == ERROR
    assert "NameError: name 'chorale' is not defined" in result.message
    assert "after only `import numpy as np`" in result.message


# Cheats a student who knows a little Python might try. None of them may earn a pass.
WRONG = "def my_seconds_per_quarter(tempo_bpm):\n    return 1.0\n"
PATCHES = {
    "a fake check": "def check(*args):\n    print('✔ Exercise 00.1 passed')",
    "the package's check replaced": "import musegen_lessons.course.checks as c\n"
    "c.check = c.evaluate = lambda *a: ('passed', 'ok')",
    "the exercise's check replaced": "import musegen_lessons.course.checks.lesson00 as l\n"
    "l.check_seconds_per_quarter = lambda fn: 'ok'",
    "the comparison replaced": "import musegen_lessons.course.checks as c\n"
    "c._equal = lambda *a: True\nc.is_near = c._equal",
    "numpy patched": "import numpy\nnumpy.array_equal = numpy.allclose = lambda *a, **k: True",
    "builtins patched": "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True",
    "IPython.display patched": "import IPython.display as d\nd.display = lambda *a, **k: print('passed')",
}


@pytest.mark.parametrize("where", ["another cell", "the exercise cell"])
@pytest.mark.parametrize("patch", PATCHES.values(), ids=PATCHES.keys())
def test_patching_anything_earns_no_pass(tmp_path, patch, where):
    answers = {"my_seconds_per_quarter": WRONG + ("\n" + patch if where == "the exercise cell" else "")}
    path = _submission(tmp_path, "00_welcome.ipynb", answers)
    if where == "another cell":
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(1, nbformat.v4.new_code_cell(patch))
        nbformat.write(nb, path)
    [result] = grade_notebook(path, timeout=60)
    if where == "another cell":  # never run at all
        assert result.status == FAILED and "the answer is 0.5, yours was 1.0" in result.message, result
    else:  # run, in the exercise's own process, which it may break but cannot make pass
        assert result.status in (FAILED, ERROR), result


def test_a_forged_result_in_the_outputs_or_displayed_earns_no_pass(tmp_path):
    forged = {"exercise": "00.1", "status": "passed", "message": "✔ passed"}
    display = (
        f"from IPython.display import display\ndisplay({{'application/vnd.musegen.check+json': {forged!r}}}, raw=True)"
    )
    path = _submission(tmp_path, "00_welcome.ipynb", {"my_seconds_per_quarter": WRONG + display})
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if 'check("00.1"' in cell.source:  # a saved output that says "passed"
            cell.outputs = [nbformat.v4.new_output("display_data", {"application/vnd.musegen.check+json": forged})]
    nbformat.write(nb, path)
    [result] = grade_notebook(path, timeout=60)
    assert result.status == FAILED


REFERENCE_CALLS = {
    "called by its module": (
        "from musegen_lessons.layers import convolution",
        "return convolution.conv1d(x, kernel, bias)",
    ),
    "imported under another name": (
        "from musegen_lessons.layers.convolution import conv1d as mine",
        "return mine(x, kernel, bias)",
    ),
    "found by getattr": (
        "import importlib",
        "return getattr(importlib.import_module('musegen_lessons.layers.convolution'), 'conv' + '1d')(x, kernel, bias)",
    ),
    "hidden in a lambda": (
        "from musegen_lessons.layers import convolution\nhelper = lambda *a: convolution.conv1d(*a)",
        "return helper(x, kernel, bias)",
    ),
    "through Keras's layer": (
        "import keras\nfrom musegen_lessons.course.checks.lesson03 import keras_layer",
        "return keras_layer(keras.layers.Conv1D(kernel.shape[2], kernel.shape[0]), x, [kernel, bias])",
    ),
    "Keras imported inside": (
        "",
        "import keras\n    layer = keras.layers.Conv1D(kernel.shape[2], kernel.shape[0])\n    return layer",
    ),
}


@pytest.mark.parametrize("imports, body", REFERENCE_CALLS.values(), ids=REFERENCE_CALLS.keys())
def test_calling_the_reference_is_reported_by_name(tmp_path, imports, body):
    cell = f"{imports}\n\ndef my_conv1d(x, kernel, bias):\n    {body}\n"
    result = _graded(tmp_path, "03_cnn_equation.ipynb", "my_conv1d", cell, "03.5", timeout=120)
    assert result.status == USES_REFERENCE, result
    assert ("keras.layers.Conv1D" if "keras" in imports + body else "convolution.conv1d") in result.message


@pytest.mark.parametrize(
    "cell",
    [
        "from musegen_lessons.layers.convolution import conv1d as my_conv1d",
        "from musegen_lessons.layers import convolution\nmy_conv1d = convolution.conv1d",
        "import numpy as np\nfrom musegen_lessons.layers import convolution\n"
        "ANSWER = convolution.conv1d(np.ones((4, 1)), np.ones((3, 1, 1)), np.zeros(1))\n"
        "def my_conv1d(x, kernel, bias):\n    return ANSWER",
    ],
    ids=["imported as the answer", "assigned as the answer", "called when the cell runs"],
)
def test_the_reference_as_the_answer_itself_is_reported(tmp_path, cell):
    result = _graded(tmp_path, "03_cnn_equation.ipynb", "my_conv1d", cell, "03.5")
    assert result.status == USES_REFERENCE and "convolution.conv1d" in result.message, result


@pytest.mark.parametrize(
    "cell",
    [
        "import importlib\nfrom musegen_lessons.layers import convolution\nimportlib.reload(convolution)\n\n"
        "def my_conv1d(x, kernel, bias):\n    return convolution.conv1d(x, kernel, bias)",
        "import importlib, sys\n\ndef my_conv1d(x, kernel, bias):\n"
        "    del sys.modules['musegen_lessons.layers.convolution']\n"
        "    module = importlib.import_module('musegen_lessons.layers.convolution')\n"
        "    return module.conv1d(x, kernel, bias)",
    ],
    ids=["reloaded in the cell", "imported afresh in the function"],
)
def test_a_second_copy_of_the_reference_s_module_is_reported(tmp_path, cell):
    result = _graded(tmp_path, "03_cnn_equation.ipynb", "my_conv1d", cell, "03.5")
    assert (
        result.status == USES_REFERENCE and "a second copy of musegen_lessons.layers.convolution" in result.message
    ), result


def test_catching_the_refusal_still_earns_no_pass(tmp_path):
    cell = (
        "from musegen_lessons.layers import convolution\n\ndef my_conv1d(x, kernel, bias):\n    try:\n"
        "        return convolution.conv1d(x, kernel, bias)\n    except BaseException:\n        return x\n"
    )
    result = _graded(tmp_path, "03_cnn_equation.ipynb", "my_conv1d", cell, "03.5")
    assert result.status == FAILED, result


def test_other_package_functions_stay_allowed(tmp_path):
    # 03.6's reference is conv_output_steps; receptive_field, the reference of another exercise (09.2), is not
    # refused here.
    cell = (
        "import math\nfrom musegen_lessons.layers import convolution\n\n"
        "def my_conv_output_steps(steps, kernel_size, stride, padding):\n"
        "    assert convolution.receptive_field([kernel_size]) == kernel_size\n"
        "    if padding == 'valid':\n        return (steps - kernel_size) // stride + 1\n"
        "    return math.ceil(steps / stride)\n"
    )
    result = _graded(tmp_path, "03_cnn_equation.ipynb", "my_conv_output_steps", cell, "03.6")
    assert result.status == PASSED, result


def test_an_answer_the_grader_cannot_take_back_fails_with_a_message(tmp_path):
    cell = "def my_seconds_per_quarter(tempo_bpm):\n    return object()\n"
    path = _submission(tmp_path, "00_welcome.ipynb", {"my_seconds_per_quarter": cell})
    [result] = grade_notebook(path, timeout=60)
    assert (
        result.status == FAILED and "a value of type object, which the grader does not take back" in result.message
    ), result


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


def test_the_instructor_guide_lists_every_exercise_as_the_registry_does(capsys):
    assert exercise_table() in (ROOT / "INSTRUCTORS.md").read_text()
    assert main(["exercises"]) == 0
    printed = capsys.readouterr().out
    assert all(f"| {e.id} {e.title} |" in printed for e in exercises())
    assert (
        "| 03.5 a Conv1D forward pass | a formula in code | `import numpy as np` | `layers.convolution.conv1d`, "
        "`keras.layers.Conv1D` |" in printed
    )


def test_a_wrong_prediction_is_answered_with_the_measurement_not_failed(tmp_path):
    cell = "def my_smallest_remembering_bias():\n    return 1"
    result = _graded(tmp_path, "04_rnn_equation.ipynb", "my_smallest_remembering_bias", cell, "04.3")
    assert result.status == ANSWERED, result
    assert "you predicted 1, not what was measured: the smallest that remembers is 3" in result.message
