"""A lesson as a student sees it: opened in JupyterLab, run with Run All, and what its page shows, read in Chromium.

The helpers of tests/browser/test_lessons_*_in_jupyterlab.py.
"""

import base64
import urllib.parse

from musegen_lessons.course.checks import exercises

RUN_TIMEOUT_MS = 240_000


def open_and_run(page, lab, notebook):
    """Open a lesson, run all its cells, and wait until every code cell has finished."""
    url, token = lab
    # A workspace of its own, reset, so that no tab from an earlier test is restored beside this lesson.
    workspace = notebook.split(".")[0]
    page.goto(f"{url}/lab/workspaces/{workspace}/tree/notebooks/{notebook}?token={token}&reset")
    page.wait_for_function(
        f"() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        f" && window.jupyterapp.shell.currentWidget.context"
        f" && window.jupyterapp.shell.currentWidget.context.path.endsWith('{notebook}')"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=60_000,
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'", timeout=60_000
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
            const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
            const code = [];
            for (let i = 0; i < cells.length; i++) {
                const cell = cells.get(i);
                if (cell.type === 'code') code.push(cell);
            }
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            return code.every(c => c.executionCount !== null) && kernel.status === 'idle';
        }""",
        timeout=RUN_TIMEOUT_MS,
    )


def error_outputs(page):
    """Every error output in the open notebook, as 'ename: evalue'."""
    return page.evaluate(
        """() => {
            const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
            const errors = [];
            for (let i = 0; i < cells.length; i++) {
                const json = cells.get(i).toJSON();
                for (const output of (json.outputs || [])) {
                    if (output.output_type === 'error') errors.push(`cell ${i}: ${output.ename}: ${output.evalue}`);
                }
            }
            return errors;
        }"""
    )


def audio_durations(page):
    page.wait_for_function("() => [...document.querySelectorAll('audio')].some(a => a.readyState >= 1)", timeout=30_000)
    return page.evaluate("() => [...document.querySelectorAll('audio')].map(a => a.duration)")


def png_figures(page):
    """How many PNG figures (matplotlib's) the page shows, each loaded."""
    return page.evaluate(
        "() => [...document.querySelectorAll('img')].filter(i => i.src.startsWith('data:image/png')"
        " && i.naturalWidth > 0).length"
    )


def svg_images(page):
    """The SVG outputs (JupyterLab shows them as <img> data URLs), decoded."""
    sources = page.evaluate(
        "() => [...document.querySelectorAll('img')].map(i => i.src).filter(s => s.startsWith('data:image/svg+xml'))"
    )
    decoded = []
    for source in sources:
        header, data = source.split(",", 1)
        decoded.append(base64.b64decode(data).decode() if ";base64" in header else urllib.parse.unquote(data))
    return decoded


def check_lesson_page(page, lesson, scores=0, figures=0, players=0):
    """The checks every lesson's page passes once run: no cell shows an error, each of the student edition's
    exercises of `lesson` (as the registry counts them) says it is not attempted yet (and nothing after it breaks),
    at least `scores` engraved
    scores with note heads, `figures` matplotlib figures and `players` players, each player with a length above
    zero, and no uncaught exception in the browser.
    """
    assert error_outputs(page) == []
    assert page.get_by_text("not attempted yet").count() == len(exercises(lesson[:2]))
    assert sum('class="note"' in svg for svg in svg_images(page)) >= scores, "engraved scores are missing"
    assert png_figures(page) >= figures
    if players:
        durations = audio_durations(page)
        assert len(durations) >= players and all(d > 0 for d in durations)
    assert page.errors == []
