"""Exercise checks: `check("01.2", my_function)` runs a student's function on real inputs and says how it went.

A check prints a clear pass, or "not attempted yet" while the function still raises NotImplementedError, or
raises `CheckFailed` with the input, the expected answer and the student's answer. It also leaves a
machine-readable result (MIME type `application/vnd.musegen.check+json`) in the cell's output, which is what
`musegen grade` reads. The checks of lesson NN live in `checks/lessonNN.py`.

Lesson: 00_welcome
"""

import importlib
import pkgutil
from dataclasses import dataclass

from .. import __version__
from .environment import check_environment  # noqa: F401  (re-exported for lesson 00)

RESULT_MIME = "application/vnd.musegen.check+json"
PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"


class CheckFailed(AssertionError):
    """A student's answer is wrong; the message says on what input and what was expected."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def _render_traceback_(self):
        # IPython shows these lines instead of a traceback through the checking code, which would only distract.
        return [f"\x1b[31m✘ {self.message}\x1b[0m"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id ('01.2'), the name of the function the student writes, a title and its check."""

    id: str
    function: str
    title: str
    run: object

    @property
    def lesson_number(self):
        return self.id.split(".")[0]

    def check_source(self):
        """The canonical source of the exercise's check cell, as the solution notebook holds it."""
        return f'check("{self.id}", {self.function})'


_EXERCISES = {}


def exercise(exercise_id, function, title):
    """Register the decorated function as the check of an exercise. The check returns a success message."""

    def register(run):
        _EXERCISES[exercise_id] = Exercise(exercise_id, function, title, run)
        return run

    return register


def exercises(lesson_number=None):
    """Return the registered exercises in order, all of them or those of one lesson ('01')."""
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__name__}.{module.name}")
    found = sorted(_EXERCISES.values(), key=lambda e: tuple(int(part) for part in e.id.split(".")))
    return [e for e in found if lesson_number is None or e.lesson_number == lesson_number]


def check(exercise_id, fn):
    """Check a student's function for an exercise and report it passed or not attempted yet, or raise.

    Lesson: 00_welcome

    Raises:
        CheckFailed: the function gave a wrong answer or raised an error; the message says on what input.
    """
    known = {e.id: e for e in exercises()}
    if exercise_id not in known:
        raise KeyError(f"There is no exercise {exercise_id!r}; the exercises are {', '.join(known)}.")
    ex = known[exercise_id]
    try:
        message = ex.run(fn)
    except NotImplementedError:
        _report(
            ex,
            NOT_ATTEMPTED,
            f"○ Exercise {ex.id} ({ex.title}) not attempted yet: replace "
            "`raise NotImplementedError()` in the cell above with your code, run it, then run this cell.",
        )
        return
    except CheckFailed as failure:
        _report(ex, FAILED, f"Exercise {ex.id} ({ex.title}) is not right yet. {failure.message}", show=False)
        raise CheckFailed(f"Exercise {ex.id} ({ex.title}) is not right yet. {failure.message}") from None
    _report(ex, PASSED, f"✔ Exercise {ex.id} ({ex.title}) passed: {message}")


def call(fn, *args, **kwargs):
    """Call a student's function; an exception from it becomes a CheckFailed that names the input."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:
        shown = ", ".join([describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()])
        raise CheckFailed(
            f"Called as {getattr(fn, '__name__', 'your function')}({shown}), it raised {type(error).__name__}: {error}"
        ) from None


def call_for_predictions(fn, questions, answers):
    """Call a student's prediction function: it must return {question: answer} for every question, each answer one
    of `answers`. Returns the dict; a CheckFailed says what shape was expected."""
    predicted = call(fn)
    complete = isinstance(predicted, dict) and set(predicted) == set(questions)
    if not complete or not set(predicted.values()) <= set(answers):
        raise CheckFailed(
            f"Return a dict with one entry for each of {list(questions)}, each one of {', '.join(map(repr, answers))}."
        )
    return predicted


def expect_equal(fn, args, expected, hint=""):
    """Call fn(*args) and fail with both answers if its result is not `expected` (exact comparison)."""
    got = call(fn, *args)
    if not _equal(got, expected):
        shown = ", ".join(describe(a) for a in args)
        raise CheckFailed(
            f"For {getattr(fn, '__name__', 'f')}({shown}) the answer is {describe(expected)}, "
            f"yours was {describe(got)}. {hint}".strip()
        )
    return got


def is_near(got, expected, tolerance):
    """True when a student's answer is a number within `tolerance` of the expected one."""
    import numpy as np

    return isinstance(got, (int, float, np.number)) and abs(float(got) - expected) <= tolerance


def _equal(got, expected):
    import numpy as np

    if isinstance(expected, np.ndarray) or isinstance(got, np.ndarray):
        got, expected = np.asarray(got), np.asarray(expected)
        return got.shape == expected.shape and np.array_equal(got, expected)
    if isinstance(expected, float):
        return is_near(got, expected, 1e-6 * max(1.0, abs(expected)))
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected
    try:
        return bool(got == expected)
    except (TypeError, ValueError):  # e.g. an array compared with a list of another length
        return False


def describe(value, limit=80):
    """A short text for a value in a check's message: an array by its shape, anything else by its repr, cut."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + " ...]"


def _report(ex, status, message, show=True):
    result = {"exercise": ex.id, "status": status, "message": message, "version": __version__}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the course
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        # JupyterLab shows text/plain; a failure's message is shown by the error itself, so its text stays empty.
        display({RESULT_MIME: result, "text/plain": message if show else ""}, raw=True)
    elif show:
        print(message)
