"""The course's website: the pages `musegen book` writes for Sphinx, and the check that nothing loads from outside.

The site itself is built and opened in Chromium by tests/browser/test_site.py (`make test-book`).
"""

import shutil
from pathlib import Path

import nbformat
import pytest

from musegen_lessons.course import book
from musegen_lessons.errors import BookError, ReleaseError

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
GUIDE = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")


def exercise_notebook(answer="    return 2 * x"):
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('start_lesson("99_test", written_for="0.1.0")'),
            nbformat.v4.new_markdown_cell("# Lesson 99 · A test\n\nWords."),
            nbformat.v4.new_code_cell(
                "def my_double(x):\n    ### BEGIN SOLUTION\n"
                + answer
                + "\n    ### END SOLUTION\n### BEGIN HIDDEN TESTS\nassert my_double(2) == 4\n### END HIDDEN TESTS"
            ),
            nbformat.v4.new_code_cell('check("99.1", my_double)', outputs=[nbformat.v4.new_output("stream", text="x")]),
        ]
    )


def test_an_answer_is_kept_folded_its_markers_and_the_hidden_tests_gone():
    site = book.site_notebook(exercise_notebook(), "99_test")
    answer = site.cells[2]
    assert answer.source == "def my_double(x):\n    return 2 * x"
    assert answer.metadata["tags"] == [book.FOLDED]
    assert book.FOLDED not in site.cells[3].metadata.get("tags", [])
    assert site.cells[3].outputs == []


def test_an_interactive_panel_is_shown_but_not_executed():
    nb = exercise_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("composer(model, vocabulary)", metadata={"tags": [book.INTERACTIVE]}))
    site = book.site_notebook(nb, "99_test")
    assert site.cells[-1].metadata["tags"] == sorted([book.INTERACTIVE, book.NOT_EXECUTED])
    assert all(book.NOT_EXECUTED not in c.metadata.get("tags", []) for c in site.cells[:-1])


@pytest.mark.parametrize("name", ["06_generation", "07_evaluation"])
def test_the_lessons_panels_are_tagged_interactive(name):
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    panels = [
        c for c in nb.cells if c.cell_type == "code" and ("composer(" in c.source or "BlindListening(" in c.source)
    ]
    assert panels and all(book.INTERACTIVE in c.metadata.get("tags", []) for c in panels)


def test_the_title_comes_before_the_set_up_cell():
    site = book.site_notebook(exercise_notebook(), "99_test")
    assert site.cells[0].source.startswith("# Lesson 99")
    assert site.cells[1].source.startswith("start_lesson")


def test_the_solution_notebook_is_left_unchanged():
    nb = exercise_notebook()
    before = nbformat.writes(nb)
    book.site_notebook(nb, "99_test")
    assert nbformat.writes(nb) == before


def test_an_unclosed_answer_names_the_lesson_and_cell():
    nb = exercise_notebook()
    nb.cells[2].source = "### BEGIN SOLUTION\nreturn 1"
    with pytest.raises(ReleaseError, match=r"99_test, cell 3: '### BEGIN SOLUTION' is never closed"):
        book.site_notebook(nb, "99_test")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_folds_each_of_its_answers_and_nothing_else(path):
    nb = nbformat.read(path, as_version=4)
    site = book.site_notebook(nb, path.stem)
    answered = [c for c in nb.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source]
    folded = [c for c in site.cells if book.FOLDED in c.metadata.get("tags", [])]
    assert answered and len(folded) == len(answered)
    assert not any("### BEGIN" in c.source or "### END" in c.source for c in site.cells)
    assert site.cells[0].cell_type == "markdown" and site.cells[0].source.startswith("# Lesson")


def test_readme_links_become_pages_or_names():
    text = (
        "[05](notebooks/05_keras_model.ipynb) [sec](solutions/09_wavenet.ipynb#naive) "
        "[the data](data/README.md) [`benchmarks/melody.py`](benchmarks/melody.py) "
        "[site](https://github.com/czhuang/JSB-Chorales-dataset) [below](#layout)"
    )
    assert book.site_links(text) == (
        "[05](05_keras_model.ipynb) [sec](09_wavenet.ipynb#naive) the data (`data/README.md`) "
        "`benchmarks/melody.py` [site](https://github.com/czhuang/JSB-Chorales-dataset) [below](#layout)"
    )


def test_a_readme_section_is_read_up_to_the_next_heading():
    text = "# T\n\nintro\n\n## One\n\nfirst\n\n### sub\n\nmore\n\n## Two\n\nsecond\n"
    assert book.readme_section(text, "One") == "first\n\n### sub\n\nmore\n"
    assert book.readme_section(text, "Two") == "second\n"
    with pytest.raises(BookError, match="no section '## Three'"):
        book.readme_section(text, "Three")


def test_the_home_page_lists_every_lesson_in_course_order_then_the_instructor_guide():
    lessons = [p.stem for p in LESSONS]
    pages = book.site_pages(README, lessons, GUIDE)
    home = pages["index.md"]
    toctree = home[home.index("```{toctree}") :]
    assert [line for line in toctree.splitlines() if line and not line.startswith((":", "```"))] == [
        *lessons,
        "instructors",
    ]
    for lesson in lessons:
        assert f"]({lesson}.ipynb)" in home
    assert "notebooks/" not in home
    assert pages["instructors.md"].startswith("# Instructor guide\n\nThe course has two editions")


def test_staging_writes_only_what_changed_and_removes_what_is_gone(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    for path in LESSONS[:2]:
        shutil.copy(path, solutions / path.name)
    source = tmp_path / "source"
    first, second = LESSONS[0].name, LESSONS[1].name
    assert book.stage_site(source, solutions) == ["index.md", "instructors.md", first, second]
    assert book.stage_site(source, solutions) == []
    nb = nbformat.read(solutions / second, as_version=4)
    nb.cells[-1].source += "\n\nOne more sentence."
    nbformat.write(nb, solutions / second)
    assert book.stage_site(source, solutions) == [second]
    (solutions / second).unlink()
    assert book.stage_site(source, solutions) == ["index.md"]
    assert sorted(p.name for p in source.iterdir()) == sorted(["index.md", "instructors.md", first])


def test_staging_without_lessons_says_where_it_looked(tmp_path):
    with pytest.raises(BookError, match="No lessons"):
        book.stage_site(tmp_path / "source", tmp_path)


def test_the_instructor_page_is_the_guide_with_its_links_made_names(tmp_path):
    guide = "# Instructor guide\n\nSee [`ARCHITECTURE.md`](ARCHITECTURE.md) and [05](notebooks/05_keras_model.ipynb).\n"
    page = book.site_pages(README, [p.stem for p in LESSONS], guide)["instructors.md"]
    assert page == "# Instructor guide\n\nSee `ARCHITECTURE.md` and [05](05_keras_model.ipynb).\n"
    with pytest.raises(BookError, match="No instructor guide"):
        book.stage_site(tmp_path / "source", guide=tmp_path / "INSTRUCTORS.md")


def test_addresses_the_site_would_load_from_outside_are_found(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "page.html").write_text(
        '<script src="https://cdn.example.org/require.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/css">'
        '<script src="_static/local.js"></script><img src="data:image/png;base64,AAAA">'
        '<a href="https://github.com/mtpearce/idyom">a link to read, not a load</a>'
        "<div style=\"background: url('http://example.org/b.png')\"></div>",
        encoding="utf-8",
    )
    (tmp_path / "_static" / "theme.css").write_text(
        '@import "https://fonts.example.org/f.css"; .a { src: url(fonts/local.woff2) }'
        " .b { src: url(https://x.org/f) }",
        encoding="utf-8",
    )
    assert sorted(book.external_resources(tmp_path)) == [
        ("_static/theme.css", "https://fonts.example.org/f.css"),
        ("_static/theme.css", "https://x.org/f"),
        ("page.html", "//fonts.example.org/css"),
        ("page.html", "http://example.org/b.png"),
        ("page.html", "https://cdn.example.org/require.js"),
    ]
