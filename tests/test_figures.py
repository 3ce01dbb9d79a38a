"""Prose that cannot drift (musegen_lessons.course.figures): every figure a lesson's text quotes is one that its
code printed when it last ran in full mode (benchmarks/lessons.py), a setting of its code, or a saved result it reads.
"""

import copy
import json

import pytest

from musegen_lessons.course.checks import exercises
from musegen_lessons.course.figures import (
    backs,
    cited_results,
    code_hash,
    printed_numbers,
    quoted_figures,
    read_notebook,
    unbacked_figures,
)
from musegen_lessons.lesson import PROJECT_ROOT

LESSONS = sorted((PROJECT_ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
RUNS = json.loads((RESULTS / "lessons.json").read_text())["lessons"]
# Facts of the data or of a publication, with where they come from: no output of the course prints them.
ALLOWED = {
    229: "the JSB split's training chorales (data/jsb; tests/test_jsb.py checks the split)",
    185: "Pearce's chorale melodies (published: Pearce 2005, section 7)",
    9227: "Pearce's notes in them (published: the same)",
    550: "half the Transformer's 1,100 training steps (transformer.TRANSFORMER_TRAINING's pretrain_share)",
    2048: "MusicVAE's big configuration (published: Magenta's music_vae/configs.py)",
    253: "the first of the chorales BWV 253-438, Pearce's set (a catalogue number)",
    438: "the last of them",
    65536: "2 to the 16th: the values of 16-bit PCM",
}
RERUN = "run `.venv/bin/python benchmarks/lessons.py {number}` and commit benchmarks/results/lessons.json"


def _evidence(notebook, stem):
    """The numbers a lesson's text may quote: what it printed in full mode, the results it cites, the kept models'."""
    names = sorted(p.stem for p in RESULTS.glob("*.json") if p.stem != "lessons")
    texts = [(RESULTS / f"{name}.json").read_text() for name in cited_results(notebook, names)]
    texts += [p.read_text() for p in sorted((PROJECT_ROOT / "data" / "models").glob("*/metrics.json"))]
    return {float(n) for n in RUNS[stem]["numbers"].split()} | printed_numbers(texts)


def _not_allowed(figures):
    return [f for f in figures if f.value not in ALLOWED or f.percent]


def _exercise_ids(path):
    return [exercise.id for exercise in exercises(path.name[:2])]


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_the_lesson_ran_in_full_mode_with_the_code_it_has_now(path):
    run = RUNS.get(path.stem)
    assert run is not None, f"{path.stem} has never run in full mode here: {RERUN.format(number=path.name[:2])}"
    assert run["status"] == "ok", f"{path.stem} failed in full mode: {run['status']}"
    assert run["code_hash"] == code_hash(read_notebook(path)), (
        f"{path.stem}'s code changed since its full-mode run, so its outputs may have: "
        + RERUN.format(number=path.name[:2])
    )


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_figure_in_the_text_is_one_the_lesson_printed_or_read(path):
    notebook = read_notebook(path)
    unbacked = _not_allowed(unbacked_figures(notebook, _evidence(notebook, path.stem), _exercise_ids(path)))
    assert not unbacked, f"{path.stem}: figures in the text that no output, code or cited result holds:\n" + "\n".join(
        f"  cell {f.cell}: {f.text!r} in …{f.context}…" for f in unbacked
    )


def test_a_wrong_figure_written_into_a_lesson_fails():
    path = PROJECT_ROOT / "solutions" / "05_keras_model.ipynb"
    notebook = read_notebook(path)
    wrong = copy.deepcopy(notebook)
    cell = next(c for c in wrong["cells"] if c["cell_type"] == "markdown" and "n-gram" in "".join(c["source"]))
    cell["source"] = "".join(cell["source"]) + "\n\nThe network reaches 0.4871 nats a token, 7,342 tokens a second."
    unbacked = _not_allowed(unbacked_figures(wrong, _evidence(notebook, path.stem), _exercise_ids(path)))
    assert [f.text for f in unbacked] == ["0.4871", "7,342"]


def _markdown(text):
    return {"cells": [{"cell_type": "markdown", "source": text}]}


def test_names_notes_metres_equations_code_and_reading_are_not_figures():
    text = (
        "## 3. A heading with 0.91\n\nLesson 05 and exercise 05.4 use C4, G#5 and Conv1D in 3/4 (BWV 86.6, 1995), "
        "with $x = 0.37$ and `epochs=17`.\n\n1. a list\n\n**Further reading**\n\n- J. Doe, *Music* 24(1), 2005, "
        "p. 77.\n\n**Next:** lesson 06"
    )
    assert quoted_figures(_markdown(text), ["05.4"]) == []


def test_a_figure_is_read_at_the_precision_it_is_written():
    [figure] = quoted_figures(_markdown("it reaches 0.62 here"))
    assert backs(figure, {0.6249}) and not backs(figure, {0.6251})
    [rounded] = quoted_figures(_markdown("about 350 chorales"))
    assert backs(rounded, {347.0}) and not backs(rounded, {356.0})
    [exact] = quoted_figures(_markdown("in 1,969 s"))
    assert exact.value == 1969 and not backs(exact, {1970.0})


def test_a_percentage_is_backed_by_its_share_and_a_million_by_its_count():
    [percent] = quoted_figures(_markdown("15% better"))
    assert backs(percent, {0.151}) and backs(percent, {15.0}) and not backs(percent, {0.16})
    [million] = quoted_figures(_markdown("1.1 million tokens"))
    assert backs(million, {1_127_283.0}) and not backs(million, {1_500_000.0})


def test_small_counts_are_constants_unless_they_are_percentages():
    assert [f.text for f in quoted_figures(_markdown("4 heads, 2 cores and 3%"))] == ["3%"]


DOCUMENTS = ["README.md", "INSTRUCTORS.md", "ARCHITECTURE.md", "benchmarks/README.md", "data/README.md"]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_figure_in_the_documents_is_one_a_benchmark_or_a_kept_model_saved(name):
    text = (PROJECT_ROOT / name).read_text()
    evidence = printed_numbers(
        [p.read_text() for p in sorted(RESULTS.glob("*.json")) if p.stem != "lessons"]
        + [p.read_text() for p in sorted((PROJECT_ROOT / "data").rglob("*.json")) if p.stat().st_size < 1_000_000]
    )
    unbacked = _not_allowed(unbacked_figures(_markdown(text), evidence))
    assert not unbacked, f"{name}: figures that no saved result holds:\n" + "\n".join(
        f"  {f.text!r} in …{f.context}…" for f in unbacked
    )
