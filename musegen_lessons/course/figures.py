"""Prose that cannot drift: every figure a lesson's text quotes must be one its code printed or a saved result holds.

A lesson's sentences are written by hand beside numbers that code recomputes; a benchmark rerun or a changed seed
makes them disagree silently. `quoted_figures` finds the numbers in a lesson's Markdown, leaving out what is not a
measurement (the lesson and exercise numbers, headings, LaTeX, code, note names such as C4, metres such as 3/4,
catalogue numbers such as BWV 86.6, and the reading list); `unbacked_figures` returns those that appear neither in
what the lesson printed when it last ran in full mode (`benchmarks/lessons.py` keeps that in
`benchmarks/results/lessons.json`), nor in its code (a setting it states), nor in the saved results and kept models'
metrics it reads, nor among `CONSTANTS`. `tests/test_figures.py` runs it on every lesson.

A figure matches a printed number when the printed number, rounded as the text rounds it, is the figure: "0.62"
matches 0.6224; an integer with trailing zeros is read as rounded there ("350" matches 347, "8,500" 8,462); "15%"
matches 15% or 0.151; "1.1 million" matches 1,127,283.

Lesson: none (it checks the text of every lesson; maintained by instructors)
"""

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

# Numbers the course states as facts of music or of its own design, not as measurements.
CONSTANTS = {*range(13), 16, 24, 32, 48, 64, 88, 96, 100, 127, 128, 256, 512, 1000}

_NUMBER = re.compile(
    r"(?<![\w.\-/])(?P<sign>[−-])?(?P<number>\d{1,3}(?:,\d{3})+|\d+)(?P<decimals>\.\d+)?"
    r"(?P<percent>\s?%)?(?P<scale>\s(?:million|thousand))?(?![\w/]|\.\d)"
)
# Spans of Markdown that hold no figures of the lesson's own, removed before numbers are read.
_NOT_PROSE = [
    re.compile(r"```.*?```", re.S),  # code blocks
    re.compile(r"`[^`]*`"),  # inline code
    re.compile(r"\$\$.*?\$\$", re.S),  # display equations
    re.compile(r"\$[^$]+\$"),  # inline equations
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<[^>]+>"),  # HTML tags
    re.compile(r"^\s*#.*$", re.M),  # headings
    re.compile(r"^\s*\d+\.\s", re.M),  # numbered list markers
    # Bach's catalogue, and the numbers listed after it: "BWV 86.6 and 9.7", "BWV 41.6 with 190.7, and 352"
    re.compile(r"(?i)\bbwv\s?\d+(?:\.\d+)*(?:-\w+)?(?:(?:,?\s+(?:and|or|with)\s+|,\s*|/\s*)\d+(?:\.\d+)*(?:-\w+)?\b)*"),
    re.compile(
        r"(?i)\b(?:lessons?|exercises?|section|sections|table|tables|figure|chapter|ch\.|no\.|op\.)\s[\d.,–\- and]+"
    ),
    re.compile(r"\b\d{1,2}/\d{1,2}\b"),  # metres and fractions of a beat
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # dates
    re.compile(r"\b(?:1[6-9]|20)\d{2}\b(?![,.]?\d)"),  # years
    re.compile(r"(?<=[^\W\d])\d+"),  # digits after a letter: C4, G#4, Conv1D
    re.compile(r"\w+\(\d+\)"),  # call-like names: LSTM(128)
]
_READING = re.compile(r"\*\*Further reading\*\*.*?(?=\*\*Next:\*\*|\Z)", re.S)


@dataclass(frozen=True)
class Figure:
    """A number quoted in a lesson's text: as written, its value, its precision, and the words around it."""

    text: str
    value: float
    tolerance: float
    percent: bool
    context: str
    cell: int


def quoted_figures(notebook, exercise_ids=()):
    """The figures in a notebook's Markdown cells. `exercise_ids` ("05.4", ...) are names, not figures.

    Lesson: none (every lesson's text; maintained by instructors)

    Example:
        >>> nb = {"cells": [{"cell_type": "markdown", "source": "It reaches 0.622 on C4, in 3/4, after lesson 05."}]}
        >>> [f.text for f in quoted_figures(nb)]
        ['0.622']
    """
    figures = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = _READING.sub(" ", _source(cell))
        for name in exercise_ids:
            text = text.replace(name, " ")
        for pattern in _NOT_PROSE:
            text = pattern.sub(lambda match: " " * len(match.group(0)), text)
        for match in _NUMBER.finditer(text):
            figure = _figure(match, text, index)
            if figure.value not in CONSTANTS or figure.percent:
                figures.append(figure)
    return figures


def _figure(match, text, cell):
    digits = match["number"].replace(",", "")
    decimals = match["decimals"] or ""
    value = float(digits + decimals)
    if match["sign"]:
        value = -value
    if decimals:
        tolerance = 0.5 * 10 ** -(len(decimals) - 1)
    else:
        trailing = len(digits) - len(digits.rstrip("0")) if digits != "0" else 0
        tolerance = 0.5 * 10**trailing
    scale = {" million": 1e6, " thousand": 1e3}.get(match["scale"] or "", 1)
    context = " ".join(text[max(0, match.start() - 60) : match.end() + 30].split())
    return Figure(match.group(0).strip(), value * scale, tolerance * scale, bool(match["percent"]), context, cell)


def printed_numbers(texts):
    """Every number in some texts (outputs, code, JSON), as floats: the evidence a figure is checked against."""
    numbers = set()
    for text in texts:
        for match in re.finditer(r"[−-]?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?", text):
            written = match.group(0).replace(",", "").replace("−", "-").rstrip(".")
            try:
                numbers.add(float(written))
            except ValueError:
                continue
    return numbers


def backs(figure, numbers):
    """Whether one of `numbers` is the figure, rounded as the figure is written (a share for a percentage)."""
    candidates = [figure.value] + ([figure.value / 100] if figure.percent else [])
    tolerances = [figure.tolerance] + ([figure.tolerance / 100] if figure.percent else [])
    return any(abs(n - c) <= t + 1e-9 for c, t in zip(candidates, tolerances) for n in numbers)


def unbacked_figures(notebook, numbers, exercise_ids=()):
    """The figures of a notebook's text that none of `numbers` (what it printed, what it read) nor a number of its
    own code backs: each one a sentence to fix.

    Lesson: none (every lesson's text; maintained by instructors)
    """
    numbers = set(numbers) | printed_numbers(_source(c) for c in notebook["cells"] if c["cell_type"] == "code")
    return [f for f in quoted_figures(notebook, exercise_ids) if not backs(f, numbers)]


def cited_results(notebook, names):
    """Which of the saved results `names` ("melody", "gan", ...) a notebook reads or names: the ones whose
    figures its text may quote."""
    text = "\n".join(_source(c) for c in notebook["cells"])
    return [n for n in names if f'"{n}"' in text or f"{n}.json" in text or f"benchmarks/{n}.py" in text]


def output_texts(notebook):
    """The text of every output of an executed notebook: streams, plain-text results and errors."""
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if "text" in output:
                texts.append(_joined(output["text"]))
            for kind in ("text/plain", "text/markdown", "text/html"):
                if kind in output.get("data", {}):
                    texts.append(_joined(output["data"][kind]))
    return texts


def code_hash(notebook):
    """A hash of a notebook's code cells: when it changes, what the lesson prints may have changed too."""
    code = "\n\0".join(_source(c) for c in notebook["cells"] if c["cell_type"] == "code")
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def read_notebook(path):
    """A notebook as plain JSON (no validation: only its cells are read)."""
    return json.loads(Path(path).read_text())


def _source(cell):
    return _joined(cell["source"])


def _joined(text):
    return text if isinstance(text, str) else "".join(text)
