"""The README's headline figures and benchmarks/README.md's lesson times are the benchmarks' saved ones: each table
between its markers is the one benchmarks/headline.py makes from benchmarks/results/*.json (rerun a benchmark, then
`headline.py --write`)."""

import runpy

from musegen_lessons.lesson import PROJECT_ROOT

HEADLINE = PROJECT_ROOT / "benchmarks" / "headline.py"


def test_the_readme_s_headline_table_is_the_one_the_saved_results_make():
    made = runpy.run_path(str(HEADLINE))["headline_table"]()
    assert made in (PROJECT_ROOT / "README.md").read_text()


def test_every_table_of_the_benchmarks_readme_is_the_one_the_saved_results_make():
    tables = runpy.run_path(str(HEADLINE))["all_tables"]()
    written = [(path.name, start) for path, start, _, table in tables if table not in path.read_text()]
    assert len(tables) >= 6 and written == []


def test_every_headline_row_links_to_a_benchmark_that_exists():
    rows = runpy.run_path(str(HEADLINE))["headline_rows"]()
    assert len(rows) >= 15
    assert all((PROJECT_ROOT / "benchmarks" / f"{script}.py").is_file() for *_, script in rows)
    assert all(measured and measured != "–" for _, measured, _, _ in rows)  # every row measured here


def test_the_readme_is_a_front_door():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert "make lab" in readme and "make test" in readme
    assert all(f"]({name})" in readme for name in ("ARCHITECTURE.md", "INSTRUCTORS.md", "benchmarks/README.md"))
