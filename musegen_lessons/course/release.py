"""The student edition, generated from the solution edition: `musegen release [--check] [--force]`.

solutions/ is the single source of every lesson. Releasing a notebook replaces each
`### BEGIN SOLUTION` ... `### END SOLUTION` region with `# YOUR CODE HERE` and `raise NotImplementedError()`
(in Markdown, with `YOUR ANSWER HERE`), drops `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`, and
clears every output, so the two editions can never drift apart: `--check` proves they have not.

Lesson: 00_welcome (how exercises work); maintained by instructors
"""

import copy
import re
from pathlib import Path

import nbformat

from musegen_lessons import __version__
from musegen_lessons.errors import ReleaseError

STUB_LINE = "raise NotImplementedError()"
_MARKER = re.compile(r"^(\s*)### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def _regions(source, where):
    """Yield (line, indent, region, edge) for each line: region is 'SOLUTION', 'HIDDEN TESTS' or None; on a marker
    line edge is 'BEGIN' or 'END' (with the region it opens or closes), otherwise None.

    Raises:
        ReleaseError: a BEGIN without its END, an END without its BEGIN, or nested regions.
    """
    region = None
    for line in source.splitlines():
        match = _MARKER.match(line)
        if match is None:
            yield line, "", region, None
            continue
        indent, edge, kind = match.groups()
        if edge == "BEGIN":
            if region is not None:
                raise ReleaseError(f"{where}: '### BEGIN {kind}' inside an open {region} region.")
            region = kind
            yield line, indent, kind, edge
        else:
            if region != kind:
                raise ReleaseError(f"{where}: '### END {kind}' without a matching '### BEGIN {kind}'.")
            region = None
            yield line, indent, kind, edge
    if region is not None:
        raise ReleaseError(f"{where}: '### BEGIN {region}' is never closed with '### END {region}'.")


def student_source(source, markdown=False, where="a cell"):
    """Return a cell's source with solutions replaced by stubs and hidden tests removed.

    Raises:
        ReleaseError: a BEGIN without its END, an END without its BEGIN, or nested regions.
    """
    out = []
    for line, indent, region, edge in _regions(source, where):
        if edge == "BEGIN" and region == "SOLUTION":
            out.extend(["YOUR ANSWER HERE"] if markdown else [f"{indent}# YOUR CODE HERE", f"{indent}{STUB_LINE}"])
        elif region is None:
            out.append(line)
    return "\n".join(out)


def solution_source(source, where="a cell"):
    """Return a cell's source with its solutions kept but their markers dropped, and hidden tests removed: the
    solution edition as the course's website shows it (`musegen book`).

    Returns:
        (source, whether the cell held a solution).

    Raises:
        ReleaseError: a BEGIN without its END, an END without its BEGIN, or nested regions.
    """
    out, solved = [], False
    for line, _, region, edge in _regions(source, where):
        solved = solved or region == "SOLUTION"
        if edge is None and region in (None, "SOLUTION"):
            out.append(line)
    return "\n".join(out), solved


def student_notebook(nb, lesson):
    """Return the student edition of a solution notebook (a new notebook; the input is left unchanged)."""
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells):
        where = f"{lesson}, cell {index + 1}"
        if cell.cell_type in ("code", "markdown"):
            cell.source = student_source(cell.source, markdown=cell.cell_type == "markdown", where=where)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for transient in ("execution", "collapsed", "scrolled"):
            cell.metadata.pop(transient, None)
    student.metadata.pop("widgets", None)
    student.metadata["musegen"] = {"lesson": lesson, "edition": "student", "version": __version__}
    return student


def release(solutions_dir="solutions", notebooks_dir="notebooks", check=False, force=False):
    """Write (or with `check`, compare) the student edition of every solution notebook.

    Returns:
        list of the notebook paths that were written (or that differ, with `check`).

    Raises:
        ReleaseError: a notebook to be replaced holds a student's own code in an exercise cell (pass `force`
            to overwrite it anyway), or cannot be read.
    """
    solutions_dir, notebooks_dir = Path(solutions_dir), Path(notebooks_dir)
    sources = sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise ReleaseError(f"No lessons (NN_name.ipynb) in '{solutions_dir}': run this from the course folder.")
    changed = []
    expected_names = {p.name for p in sources}
    for path in sources:
        text = render(nbformat.read(path, as_version=4), path.stem)
        target = notebooks_dir / path.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        changed.append(target)
        if check:
            continue
        if current is not None and not force:
            _refuse_if_student_work(target, current, text)
        notebooks_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if check:
        changed += [p for p in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb")) if p.name not in expected_names]
    return changed


def render(nb, lesson):
    """The student edition of a solution notebook as the exact text written to notebooks/."""
    return nbformat.writes(student_notebook(nb, lesson)) + "\n"


def _refuse_if_student_work(target, current, generated):
    try:
        existing = nbformat.reads(current, as_version=4)
    except Exception as error:
        raise ReleaseError(
            f"'{target}' is not a readable notebook ({error}); it may be a student's damaged work. "
            "Move it aside, or pass --force to overwrite it."
        ) from error
    stubs = {c.id for c in nbformat.reads(generated, as_version=4).cells if STUB_LINE in c.source and "id" in c}
    edited = [
        index + 1
        for index, cell in enumerate(existing.cells)
        if cell.get("id") in stubs and STUB_LINE not in cell.source
    ]
    if edited:
        raise ReleaseError(
            f"'{target}' holds a student's own code in exercise cell(s) {', '.join(map(str, edited))}; "
            "releasing would overwrite it. Save that work elsewhere, or pass --force to overwrite it."
        )
