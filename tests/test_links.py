"""Links nobody would otherwise check: every `Lesson:` tag of the package names a lesson that exists, every
module is in ARCHITECTURE.md's table, no docstring says a lesson is still to be written, every backticked
`module.name` in a docstring names something real, and every docstring example (`>>>`) runs as it says."""

import ast
import doctest
import importlib
import re

import pytest

from musegen_lessons.lesson import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "musegen_lessons"
LESSONS = {path.stem for path in (PROJECT_ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}
NUMBERS = {stem[:2] for stem in LESSONS}
MODULES = sorted(PACKAGE.rglob("*.py"))


def _dotted(path):
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _docstrings(path):
    """(where, docstring) for the module and every class and function in it."""
    tree = ast.parse(path.read_text())
    found = [(_dotted(path), ast.get_docstring(tree) or "")]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and ast.get_docstring(node):
            found.append((f"{_dotted(path)}.{node.name}", ast.get_docstring(node)))
    return found


DOCSTRINGS = [entry for path in MODULES for entry in _docstrings(path)]


def _tags(docstring):
    return [
        line.split("Lesson:", 1)[1].strip() for line in docstring.splitlines() if line.strip().startswith("Lesson:")
    ]


def test_every_module_says_which_lesson_teaches_it():
    untagged = [_dotted(path) for path in MODULES if not _tags(_docstrings(path)[0][1])]
    assert untagged == []


@pytest.mark.parametrize("path", MODULES, ids=_dotted)
def test_every_lesson_tag_names_a_lesson_that_exists(path):
    wrong = []
    for where, doc in _docstrings(path):
        for tag in _tags(doc):
            named = re.findall(r"\b\d\d_[a-z_]+[a-z]", tag)
            numbers = re.findall(r"\b(?:lessons?|and|,)\s+(\d\d)\b", tag)
            if tag.split()[0].rstrip(";,") != "none" and not named:
                wrong.append(f"{where}: 'Lesson: {tag}' names no lesson")
            wrong += [f"{where}: no lesson {n}" for n in named if n not in LESSONS]
            wrong += [f"{where}: no lesson {n}" for n in numbers if n not in NUMBERS]
    assert wrong == []


def test_no_docstring_says_a_lesson_is_still_to_be_written():
    unwritten = re.compile(r"(not|yet to be|still to be) (yet )?written|unwritten|until .* (is|are) written", re.I)
    said = [where for where, doc in DOCSTRINGS if re.search(r"\blessons?\b", doc, re.I) and unwritten.search(doc)]
    assert said == []


def test_architecture_lists_every_module_of_the_package():
    table = (PROJECT_ROOT / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"`([a-z_]+(?:\.[a-z_0-9]+)*)`", table))
    missing = [
        name
        for path in MODULES
        if path.name != "__init__.py" or path.parent == PACKAGE
        for name in [_dotted(path).removeprefix("musegen_lessons.")]
        if name != "musegen_lessons" and name not in listed
    ]
    assert missing == []


def _mentions(doc):
    """Backticked `wing.module.name`, `module.name` or `musegen_lessons....` mentions in a docstring."""
    return re.findall(r"`((?:musegen_lessons\.)?[a-z_]+(?:\.[A-Za-z_][A-Za-z_0-9]*)+)(?:\(\))?`", doc)


MODULE_NAMES = {_dotted(p).removeprefix("musegen_lessons."): _dotted(p) for p in MODULES}
SHORT_NAMES = {}
for _name, _full in MODULE_NAMES.items():
    SHORT_NAMES.setdefault(_name.rsplit(".", 1)[-1], []).append(_full)


# What else a docstring may name in backticks: other libraries, and the variables of its own examples. A name
# outside the package and this list (an old module name, say `metrics.kl_divergence`) is a broken link.
NOT_THE_PACKAGE = {"keras", "tf", "pretty_midi", "importlib", "sys", "ex", "model", "self", "layer"}


def _resolves(mention):
    """Whether `mention` names a module of the package and an attribute of it (by its full, wing-relative or last
    dotted name), or is one of `NOT_THE_PACKAGE`'s (another library's name, such as `keras.layers.Dense`)."""
    text = mention.removeprefix("musegen_lessons.")
    parts = text.split(".")
    for cut in range(len(parts), 0, -1):
        head, rest = ".".join(parts[:cut]), parts[cut:]
        candidates = [MODULE_NAMES[head]] if head in MODULE_NAMES else SHORT_NAMES.get(head, []) if cut == 1 else []
        for full in candidates:
            target = importlib.import_module(full)
            for attribute in rest:
                fields = getattr(target, "__dataclass_fields__", {})  # a dataclass's fields without defaults
                if attribute not in fields and not hasattr(target, attribute):
                    break
                target = getattr(target, attribute, None)
            else:
                return True
        if candidates:
            return False
    return not mention.startswith("musegen_lessons.") and parts[0] in NOT_THE_PACKAGE


def test_every_backticked_module_name_in_a_docstring_resolves():
    broken = [f"{where}: `{m}`" for where, doc in DOCSTRINGS for m in _mentions(doc) if not _resolves(m)]
    assert broken == []


def test_no_private_name_crosses_a_module_boundary():
    """A name with a leading underscore belongs to its module: neither another module nor a test imports it or
    reaches for it through the module; what two places need is public, with a docstring."""
    crossing = []
    short = "|".join(sorted(SHORT_NAMES))
    reach = re.compile(rf"\b(?:{short})\._(?!repr_)[a-z]\w*")  # IPython's _repr_*_ methods are its protocol
    for path in [*MODULES, *sorted((PROJECT_ROOT / "tests").rglob("*.py"))]:
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("musegen_lessons"):
                crossing += [
                    f"{path.name}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name[:1] == "_" != a.name[1:2]
                ]
        crossing += [f"{path.name}: {m}" for m in reach.findall(source)]
    assert crossing == []


def test_every_docstring_example_runs_as_it_says():
    failed, attempted = [], 0
    for path in MODULES:
        module = importlib.import_module(_dotted(path))
        result = doctest.testmod(module, report=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        attempted += result.attempted
        if result.failed:
            failed.append(f"{_dotted(path)}: {result.failed} of {result.attempted}")
    assert failed == [] and attempted >= 28  # 28 examples when this test was written
