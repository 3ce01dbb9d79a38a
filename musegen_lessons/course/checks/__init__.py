"""Exercise checks: `check("01.2", my_function)` runs a student's function on real inputs and says how it went.

A check prints a clear pass, or "not attempted yet" while the function still raises NotImplementedError, or
raises `CheckFailed` with the input, the expected answer and the student's answer. A *prediction* ("predict, then
measure") is never failed for being wrong: its check returns `Answered`, which records the prediction beside the
measurement, and is graded "answered". Each exercise also declares
its *set-up* (the few lines of the lesson its answer may rely on, such as `import numpy as np`) and its
*references* (the package functions, and the Keras layers, that are its answer): an answer that calls a
reference, under any name, is reported as using it, not passed. `musegen grade` runs the same checks, on the
student's function in a process of its own (`isolation`). The checks of lesson NN live in `checks/lessonNN.py`.

Lesson: 00_welcome
"""

import importlib
import pkgutil
import sys
from dataclasses import dataclass

from musegen_lessons.course.checks.environment import check_environment  # noqa: F401  (re-exported for lesson 00)

PASSED, FAILED, NOT_ATTEMPTED, USES_REFERENCE = "passed", "failed", "not attempted", "uses the reference"
ANSWERED = "answered"  # a well-formed prediction, right or wrong: what it predicted and what was measured
NUMPY = "import numpy as np"  # the set-up of most exercises: every lesson from 01 on imports numpy first


class CheckFailed(AssertionError):
    """A student's answer is wrong; the message says on what input and what was expected."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def _render_traceback_(self):
        # IPython shows these lines instead of a traceback through the checking code, which would only distract.
        return [f"\x1b[31m✘ {self.message}\x1b[0m"]


class UsesReference(BaseException):
    """A student's code called one of its exercise's references. A BaseException, so that an `except Exception` in
    the student's code cannot hide it."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


# What an exercise asks of the student, for the instructor's table (`musegen exercises`) and the course's balance.
FORMULA = "a formula in code"  # an equation the lesson states, written as code
ALGORITHM = "an algorithm"  # a procedure the lesson describes but does not spell out
BUILD = "build or train"  # a network made or trained, judged by what it does
DECIDE = "debug, design or predict"  # a bug found, a setting or design chosen, or a prediction made
KINDS = {
    **dict.fromkeys(("01.3", "03.7", "04.4", "07.1", "09.1", "10.5"), ALGORITHM),
    **dict.fromkeys(("03.4", "05.3", "08.4", "09.3", "10.4", "11.3", "12.3"), BUILD),
    **dict.fromkeys(("03.8", "04.2", "04.3", "04.5", "05.4", "05.5", "06.1", "06.3", "09.2", "09.6", "10.2"), DECIDE),
    **dict.fromkeys(("11.2", "12.2", "12.4"), DECIDE),
}


class Answered(str):
    """What the check of a prediction returns: a message that gives the prediction, the measurement and whether they
    agree. An honest wrong prediction is part of the exercise, so it is graded "answered", never "failed"."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id ('01.2'), the name of the function the student writes, a title and its check, the set-up
    its answer may rely on (source lines the lesson ran above it) and its references (dotted names)."""

    id: str
    function: str
    title: str
    run: object
    setup: str = ""
    references: tuple = ()

    @property
    def kind(self):
        """What the exercise asks for: FORMULA, ALGORITHM, BUILD or DECIDE (the table `KINDS`)."""
        return KINDS.get(self.id, FORMULA)

    @property
    def lesson_number(self):
        return self.id.split(".")[0]

    def check_source(self):
        """The canonical source of the exercise's check cell, as the solution notebook holds it."""
        return f'check("{self.id}", {self.function})'


_EXERCISES = {}


def exercise(exercise_id, function, title, setup="", references=()):
    """Register the decorated function as the check of an exercise. The check returns a success message.

    Args:
        setup: the lines of the lesson that the answer may rely on (imports), run before it when graded.
        references: dotted names ('musegen_lessons.layers.convolution.conv1d', 'keras.layers.Conv1D') of what the answer
            must not call, because it is the answer.
    """

    def register(run):
        _EXERCISES[exercise_id] = Exercise(exercise_id, function, title, run, setup, tuple(references))
        return run

    return register


def exercises(lesson_number=None):
    """Return the registered exercises in order, all of them or those of one lesson ('01')."""
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("lesson"):
            importlib.import_module(f"{__name__}.{module.name}")
    found = sorted(_EXERCISES.values(), key=lambda e: tuple(int(part) for part in e.id.split(".")))
    return [e for e in found if lesson_number is None or e.lesson_number == lesson_number]


def find_exercise(exercise_id):
    """The registered exercise with this id.

    Raises:
        KeyError: there is no such exercise; the message lists the ones there are.
    """
    known = {e.id: e for e in exercises()}
    if exercise_id not in known:
        raise KeyError(f"There is no exercise {exercise_id!r}; the exercises are {', '.join(known)}.")
    return known[exercise_id]


def check(exercise_id, fn):
    """Check a student's function for an exercise and report it passed, answered (a prediction) or not attempted yet,
    or raise.

    Lesson: 00_welcome

    Raises:
        CheckFailed: the function gave a wrong answer, raised an error, or called the exercise's reference; the
            message says on what input.
    """
    ex = find_exercise(exercise_id)
    status, message = evaluate(ex, refusing(fn, ex.references))
    if status in (FAILED, USES_REFERENCE):
        raise CheckFailed(message)
    print(message)


def evaluate(ex, fn):
    """Run an exercise's check on `fn` and return (status, message); `check` and `musegen grade` both use it."""
    try:
        message = ex.run(fn)
    except NotImplementedError:
        return NOT_ATTEMPTED, (
            f"○ Exercise {ex.id} ({ex.title}) not attempted yet: replace `raise NotImplementedError()` in the cell "
            "above with your code, run it, then run this cell."
        )
    except CheckFailed as failure:
        return FAILED, f"Exercise {ex.id} ({ex.title}) is not right yet. {failure.message}"
    except UsesReference as used:
        return USES_REFERENCE, uses_reference_message(ex, used.name)
    if isinstance(message, Answered):
        return ANSWERED, f"✔ Exercise {ex.id} ({ex.title}) answered: {message}"
    return PASSED, f"✔ Exercise {ex.id} ({ex.title}) passed: {message}"


def uses_reference_message(ex, name):
    return (
        f"Exercise {ex.id} ({ex.title}) calls {name}, which is this exercise's answer: write it yourself "
        "(the lesson's other functions are yours to use)."
    )


def resolve(dotted):
    """The object a dotted name ('musegen_lessons.layers.convolution.conv1d') names, importing its module."""
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def refuse(references):
    """Make each reference raise `UsesReference` when called, under whatever name the caller holds it: a
    function's code is swapped (so every alias, every earlier import and every copy held elsewhere sees it), a
    class's `__init__` replaced. Returns a function that puts the originals back."""
    restores = []
    for dotted in references:
        target, shown = resolve(dotted), dotted.removeprefix("musegen_lessons.")
        if isinstance(target, type):
            original = target.__dict__.get("__init__")

            def refused_init(self, *args, _shown=shown, **kwargs):
                raise UsesReference(_shown)

            target.__init__ = refused_init
            restores.append(lambda t=target, o=original: setattr(t, "__init__", o) if o else delattr(t, "__init__"))
        else:
            original = target.__code__
            target.__code__ = _refused.__code__.replace(co_name=shown)
            restores.append(lambda t=target, o=original: setattr(t, "__code__", o))

    def restore():
        for undo in reversed(restores):
            undo()

    return restore


def _refused(*args, **kwargs):
    # Runs as the code of a refused function, with that function's globals: so it imports what it needs, and
    # finds the reference's name in its own code object (set by `refuse`).
    import sys

    from musegen_lessons.course.checks import UsesReference

    raise UsesReference(sys._getframe().f_code.co_name)


def refusing(fn, references):
    """`fn`, with the references refused while it runs: those imported by then (what is not imported yet, the
    student's function has not reached either)."""

    def refused_while_running(*args, **kwargs):
        restore = refuse([r for r in references if r.split(".")[0] in sys.modules])
        try:
            return fn(*args, **kwargs)
        finally:
            restore()

    refused_while_running.__name__ = getattr(fn, "__name__", "your function")
    return refused_while_running


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


def agreement(predicted, measured):
    """A sentence saying how many predictions ({question: answer}) agree with the measured answers, and which not."""
    wrong = [question for question, answer in measured.items() if predicted[question] != answer]
    if not wrong:
        return f"all {len(measured)} as measured."
    return f"{len(measured) - len(wrong)} of {len(measured)} as measured; not what was measured for {', '.join(wrong)}."


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
