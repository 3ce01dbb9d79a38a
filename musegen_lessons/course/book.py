"""The course as a website: `make book` (`musegen book`) builds a static HTML site with Sphinx and MyST-NB.

Lesson: none; maintained by instructors (INSTRUCTORS.md, "The course as a website")

The site is the solution edition executed in full mode: every lesson's text, equations, figures, engraved scores
and players, each exercise's answer folded behind a toggle, in course order, with search, the README's lesson map
on its home page, and the instructor guide (INSTRUCTORS.md) as a page of its own. `stage_site` writes the pages
Sphinx reads (only those whose text changed, so that Sphinx rereads, and MyST-NB re-executes, only what changed);
`build_site` runs Sphinx with the settings in book/conf.py. The site is built in build/book/, which is not
committed.
"""

import copy
import os
import re
from pathlib import Path

import nbformat

from musegen_lessons.course.release import solution_source
from musegen_lessons.errors import BookError
from musegen_lessons.lesson import PROJECT_ROOT, QUICK_ENV

ROOT = PROJECT_ROOT
CONF_DIR = ROOT / "book"
BUILD_DIR = ROOT / "build" / "book"
# MyST-NB's tag for a cell whose code is folded behind a toggle, its output shown.
FOLDED = "hide-input"
# A lesson's tag for a cell that builds a panel whose buttons run Python (lesson 06's composer, lesson 07's blind
# listening test). A static page cannot run it, so the site shows its code and does not execute it (MyST-NB's tag
# below): executing it would show nothing, and nbclient can wait forever on a panel that plays audio
# (jupyter/nbclient#312).
INTERACTIVE = "interactive"
NOT_EXECUTED = "skip-execution"
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_LESSON_LINK = re.compile(r"^(?:\.\./)?(?:notebooks|solutions)/(\d\d_\w+)\.ipynb(#.*)?$")
# What a page loads, as against what it links to (<a href>): scripts, style sheets, icons, images, sound, frames.
_LOADED = re.compile(
    r"<(?:script|link|img|audio|video|source|iframe|embed|object)\b[^>]*?\s(?:src|href|data|srcset)\s*=\s*[\"']([^\"']+)",
    re.I,
)
_CSS_URL = re.compile(r"(?:url\(\s*|@import\s+)[\"']?([^\"')\s]+)", re.I)
_OUTSIDE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)


def mode_dir(quick=False):
    """The folder of one mode's build: the full mode's site is what is published, the quick mode's is tested."""
    return BUILD_DIR / ("quick" if quick else "full")


def cache_dir(quick=False):
    """Where MyST-NB keeps each lesson's executed outputs, keyed by its code, for one mode."""
    return mode_dir(quick) / "cache"


def site_notebook(nb, lesson):
    """Return a solution notebook as the site shows it (a new notebook): each answer's markers dropped and the
    cell folded, hidden tests removed, interactive panels left unexecuted, outputs cleared (the site executes every
    lesson itself).
    """
    site = copy.deepcopy(nb)
    for index, cell in enumerate(site.cells):
        source, solved = solution_source(cell.source, where=f"{lesson}, cell {index + 1}")
        cell.source = source
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            tags = set(cell.metadata.get("tags", []))
            if solved:
                tags.add(FOLDED)
            if INTERACTIVE in tags:
                tags.add(NOT_EXECUTED)
            if tags:
                cell.metadata["tags"] = sorted(tags)
    site.metadata.pop("widgets", None)
    # A lesson's first cell sets it up and its second holds the title: on a page, the title comes first.
    if len(site.cells) >= 2:
        first, second = site.cells[:2]
        if first.cell_type == "code" and second.cell_type == "markdown" and second.source.startswith("# "):
            site.cells[:2] = [second, first]
    return site


def readme_section(readme, heading):
    """The text of the README's section `## heading`, without its heading, up to the next `## `."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    if match is None:
        raise BookError(f"README.md has no section '## {heading}'; the site's pages are made from it.")
    return match.group(1).strip() + "\n"


def site_links(markdown):
    """Rewrite the README's links for the site: a lesson's notebook becomes its page; a file of the repository,
    which the site does not hold, becomes its name in code; web addresses stay.
    """

    def rewrite(match):
        text, target = match.groups()
        lesson = _LESSON_LINK.match(target)
        if lesson:
            return f"[{text}]({lesson.group(1)}.ipynb{lesson.group(2) or ''})"
        if re.match(r"^[a-z]+:|^#", target):
            return match.group(0)
        return text if text.startswith("`") else f"{text} (`{target}`)"

    return _LINK.sub(rewrite, markdown)


def site_pages(readme, lessons, guide):
    """The site's own pages (name → MyST Markdown): the home page, made from the README's opening and its lesson
    map, with the table of contents in course order; and the instructor guide, made from `guide`, the text of
    INSTRUCTORS.md (its own title, `# Instructor guide`, heads the page).
    """
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    lesson_map = readme_section(readme, "The lessons").split("\n\n", 1)[0]
    toctree = "\n".join(["```{toctree}", ":hidden:", ":maxdepth: 1", "", *lessons, "instructors", "```"])
    home = "\n\n".join(
        [
            "# MuseGen Lessons",
            site_links(intro),
            "To run the lessons yourself, clone the course and type `make lab` (the README's quickstart): "
            "this site shows each lesson as it runs in full mode, every exercise's answer folded behind a toggle.",
            "## The lessons",
            site_links(lesson_map),
            toctree,
        ]
    )
    return {"index.md": home + "\n", "instructors.md": site_links(guide.strip()) + "\n"}


def _write_if_changed(path, text):
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def stage_site(source_dir, solutions_dir=ROOT / "solutions", readme=ROOT / "README.md", guide=ROOT / "INSTRUCTORS.md"):
    """Write the pages Sphinx reads into `source_dir`; return the names of those whose text changed.

    Raises:
        BookError: no lessons in `solutions_dir`, the instructor guide is missing, or a README section the site is
            made from is missing.
    """
    source_dir, solutions_dir = Path(source_dir), Path(solutions_dir)
    lessons = sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb"))
    if not lessons:
        raise BookError(f"No lessons (NN_name.ipynb) in '{solutions_dir}': the site is built from them.")
    guide = Path(guide)
    if not guide.is_file():
        raise BookError(f"No instructor guide at '{guide}': the site's instructor page is made from it.")
    source_dir.mkdir(parents=True, exist_ok=True)
    readme_text, guide_text = (Path(path).read_text(encoding="utf-8") for path in (readme, guide))
    pages = site_pages(readme_text, [p.stem for p in lessons], guide_text)
    for path in lessons:
        pages[path.name] = nbformat.writes(site_notebook(nbformat.read(path, as_version=4), path.stem)) + "\n"
    wanted = set(pages)
    for stale in source_dir.glob("*"):
        if stale.is_file() and stale.name not in wanted:
            stale.unlink()
    return [name for name, text in pages.items() if _write_if_changed(source_dir / name, text)]


def external_resources(html_dir):
    """Every address outside the site that a page or a style sheet of the site would load, as (file, address).

    Links a reader may follow (<a href>) do not count; data: addresses are part of the page.
    """
    html_dir = Path(html_dir)
    found = []
    for path in sorted([*html_dir.rglob("*.html"), *html_dir.rglob("*.css")]):
        text = path.read_text(encoding="utf-8", errors="replace")
        pattern = _CSS_URL if path.suffix == ".css" else _LOADED
        addresses = pattern.findall(text)
        if path.suffix == ".html":
            # Inline <style> blocks and style="" attributes load through url() too.
            addresses += _CSS_URL.findall(text)
        found += [(str(path.relative_to(html_dir)), a) for a in addresses if _OUTSIDE.match(a)]
    return found


def build_site(quick=False):
    """Stage the pages and build the site with Sphinx; return the folder of its index.html.

    Raises:
        BookError: Sphinx failed (a lesson raised an error, a link is broken); its messages say where.
    """
    from sphinx.cmd.build import build_main

    out = mode_dir(quick)
    # The kernels MyST-NB starts inherit this process's environment, and with it the lessons' mode.
    if quick:
        os.environ[QUICK_ENV] = "1"
    else:
        os.environ.pop(QUICK_ENV, None)
    changed = stage_site(out / "source")
    print(f"Pages changed since the last build: {', '.join(changed) or 'none'}")
    # -W: a warning (a broken link between lessons, a lesson that fails) fails the build.
    arguments = ["-b", "html", "-c", str(CONF_DIR), "-d", str(out / "doctrees"), "-W", "--keep-going"]
    status = build_main([*arguments, str(out / "source"), str(out / "html")])
    if status != 0:
        raise BookError(f"Sphinx could not build the site (exit status {status}); its messages above say why.")
    outside = external_resources(out / "html")
    if outside:
        listed = "\n".join(f"  {page}: {address}" for page, address in outside[:20])
        raise BookError(f"The site would load {len(outside)} address(es) from outside itself:\n{listed}")
    return out / "html"
