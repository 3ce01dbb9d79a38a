"""The course's website in Chromium: every page built in quick mode, opened and checked as a reader would see it.

Run by `make test-book`, not by `make test`: building the site executes every lesson once more (the cache makes a
rebuild fast). Three pages are kept as screenshots in tests/browser/screenshots/site-*.png.
"""

import functools
import http.server
import re
import threading
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

from musegen_lessons.course import book

SCREENSHOTS = Path(__file__).with_name("screenshots")
SITE = book.mode_dir(quick=True) / "html"
LESSONS = [p.stem for p in sorted((book.ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))]
PAGES = ["index", *LESSONS, "instructors", "search"]
# Lessons whose pages must show an engraved score (verovio's SVG, note heads and all).
SCORED = {"01_representation", "06_generation"}


@pytest.fixture(scope="session")
def site():
    """The site built in quick mode, served on a free localhost port; yields its base URL."""
    html = book.build_site(quick=True)
    handler = functools.partial(QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def reader(browser, site):
    """A page that records console errors, uncaught exceptions and every request that leaves the site."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.problems, page.outside = [], []
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda r: page.problems.append(f"failed to load {r.url}: {r.failure}"))
    page.on("response", lambda r: page.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: None if r.url.startswith((site, "data:", "blob:")) else page.outside.append(r.url))
    yield page
    context.close()


def executed_outputs(name):
    """What the lesson's cells printed and drew when the site executed it: (players, images), from MyST-NB's cache."""
    staged = nbformat.read(SITE.parent / "source" / f"{name}.ipynb", as_version=4)
    _, nb = get_cache(book.cache_dir(quick=True)).merge_match_into_notebook(staged)
    data = [output.get("data", {}) for cell in nb.cells for output in cell.get("outputs", [])]
    players = sum(str(d.get("text/html", "")).count("<audio") for d in data)
    images = sum("image/png" in d or "image/svg+xml" in d for d in data)
    return players, images


def open_page(page, site, name):
    page.goto(f"{site}/{name}.html")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("name", PAGES)
def test_a_page_loads_everything_from_the_site_without_errors(reader, site, name):
    open_page(reader, site, name)
    assert reader.title()
    assert reader.outside == [], "requests that leave the site"
    assert reader.problems == []


@pytest.mark.parametrize("name", LESSONS)
def test_every_player_of_a_lesson_loads_and_plays(reader, site, name):
    open_page(reader, site, name)
    count = reader.locator("audio").count()
    assert count == executed_outputs(name)[0], "the page shows another number of players than the lesson made"
    if count == 0:
        return
    reader.wait_for_function("() => [...document.querySelectorAll('audio')].every(a => a.readyState >= 1)")
    durations = reader.evaluate("() => [...document.querySelectorAll('audio')].map(a => a.duration)")
    assert len(durations) == count and all(d > 0 for d in durations), durations
    played = reader.evaluate(
        """() => Promise.all([...document.querySelectorAll('audio')].map(a => {
            a.muted = true;
            return a.play().then(() => { a.pause(); return true; }, e => String(e));
        }))"""
    )
    assert played == [True] * count
    assert reader.problems == []


@pytest.mark.parametrize("name", LESSONS)
def test_every_figure_and_score_of_a_lesson_is_shown(reader, site, name):
    open_page(reader, site, name)
    images = reader.locator("article img")
    assert images.count() == executed_outputs(name)[1] > 0, "the page shows another number of images than were drawn"
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert image.is_visible(), f"image {index} of {name} is hidden"
        assert image.evaluate("i => i.complete && i.naturalWidth > 0"), f"image {index} of {name} did not load"
    if name in SCORED:
        sources = reader.evaluate("() => [...document.querySelectorAll('article img')].map(i => i.src)")
        svgs = [src for src in sources if src.endswith(".svg")]
        assert any('class="note"' in reader.request.get(src).text() for src in svgs), "no engraved score"


@pytest.mark.parametrize("name", LESSONS)
def test_every_table_of_a_lesson_fits_the_page_s_column(reader, site, name):
    """A lesson's tables (musegen_lessons.course.tables) are as wide as the column at most: a wider one scrolls
    sideways inside its own box instead of pushing the page wider, and none of its text is cut off."""
    open_page(reader, site, name)
    boxes = reader.evaluate(
        """() => [...document.querySelectorAll('article table.musegen-table')].map(t => ({
            right: t.getBoundingClientRect().right, scroll: t.scrollWidth, width: t.clientWidth,
            column: t.closest('article').getBoundingClientRect().right, overflow: getComputedStyle(t).overflowX}))"""
    )
    assert all(box["right"] <= box["column"] + 1 for box in boxes), f"a table of {name} is wider than its column"
    assert all(box["scroll"] <= box["width"] or box["overflow"] == "auto" for box in boxes)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def parse(path):
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_link_between_pages_resolves(site):
    html = Path(SITE)
    checked = 0
    for page in sorted(html.glob("*.html")):
        for link in parse(page).links:
            target = urllib.parse.urlsplit(link)
            if target.scheme or target.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            path = (page.parent / urllib.parse.unquote(target.path)).resolve() if target.path else page
            assert path.is_file(), f"{page.name} links to {link}, which the site does not hold"
            if target.fragment and path.suffix == ".html":
                assert target.fragment in parse(path).ids, f"{page.name} links to {link}: no such anchor"
            checked += 1
    assert checked > 100


def test_the_lessons_link_to_each_other_in_course_order(reader, site):
    open_page(reader, site, LESSONS[0])
    for current, following in zip(LESSONS, LESSONS[1:]):
        assert re.search(rf"/{current}\.html$", reader.url)
        reader.locator("a.right-next").click()
        reader.wait_for_load_state("networkidle")
        assert re.search(rf"/{following}\.html$", reader.url), f"after {current} comes {reader.url}"


def test_search_finds_a_lesson(reader, site):
    reader.goto(f"{site}/search.html?q=softmax")
    reader.wait_for_selector("#search-results li", timeout=30_000)
    results = reader.locator("#search-results li a").evaluate_all("links => links.map(a => a.href)")
    assert any("03_cnn_equation" in r for r in results), results


def test_an_answer_is_folded_until_its_toggle_is_pressed(reader, site):
    open_page(reader, site, "06_generation")
    answer = reader.locator("details.hide").first
    code = answer.locator("pre").first
    assert not code.is_visible()
    answer.locator("summary").click()
    assert code.is_visible() and "def my_" in code.inner_text()


def test_three_pages_are_kept_as_screenshots(reader, site):
    SCREENSHOTS.mkdir(exist_ok=True)
    for name in ("index", "01_representation", "06_generation"):
        open_page(reader, site, name)
        reader.screenshot(path=str(SCREENSHOTS / f"site-{name}.png"))
        assert (SCREENSHOTS / f"site-{name}.png").stat().st_size > 10_000
