"""The lessons as a student sees them: opened in JupyterLab, run with Run All, looked at in Chromium."""

import base64
import urllib.parse

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


def test_lesson_00_checks_the_environment_and_plays_sound(page, lab):
    open_and_run(page, lab, "00_welcome.ipynb")
    assert error_outputs(page) == []
    assert page.get_by_text("Sound will be played with").count() >= 1
    assert page.get_by_text("MuseGen Lessons").count() >= 1
    durations = audio_durations(page)
    assert durations and all(d > 0 for d in durations)
    assert page.errors == []


def test_lesson_01_shows_an_engraved_score_and_a_piano_roll(page, lab):
    open_and_run(page, lab, "01_representation.ipynb")
    assert error_outputs(page) == []
    scores = svg_images(page)
    assert scores and any('class="note"' in svg for svg in scores), "no engraved score with note heads"
    piano_rolls = png_figures(page)
    assert piano_rolls >= 3
    assert all(d > 0 for d in audio_durations(page))
    assert page.errors == []


def test_lesson_06_composer_generates_score_sound_and_midi(page, lab):
    open_and_run(page, lab, "06_generation.ipynb")
    assert error_outputs(page) == []
    generate = page.get_by_role("button", name="Generate")
    generate.wait_for(timeout=30_000)
    for label in ("seed melody", "key", "tempo (bpm)", "temperature", "random seed"):
        assert page.get_by_text(label, exact=True).count() >= 1, f"the composer has no '{label}' control"
    audio_before, svg_before = len(audio_durations(page)), len(svg_images(page))
    generate.scroll_into_view_if_needed()
    generate.click()
    page.wait_for_selector("a[download='melody.mid']", timeout=60_000)
    link = page.locator("a[download='melody.mid']").first.get_attribute("href")
    assert link.startswith("data:audio/midi;base64,") and base64.b64decode(link.split(",", 1)[1])[:4] == b"MThd"
    page.wait_for_function(f"() => document.querySelectorAll('audio').length > {audio_before}", timeout=30_000)
    assert len(svg_images(page)) > svg_before
    assert error_outputs(page) == []
    assert page.errors == []


def test_lesson_07_blind_listening_plays_pairs_and_reveals_the_score_at_the_end(page, lab):
    open_and_run(page, lab, "07_evaluation.ipynb")
    assert error_outputs(page) == []
    assert page.get_by_text("Pair 1 of 6:").count() == 1
    for pair in range(6):
        players = page.evaluate("() => document.querySelectorAll('audio').length")
        assert page.get_by_text("Bach was").count() == 0, "the truth is shown before the last answer"
        page.get_by_role("button", name="A is Bach").click()
        if pair < 5:
            page.get_by_text(f"Pair {pair + 2} of 6:").wait_for(timeout=30_000)
            page.wait_for_function(f"() => document.querySelectorAll('audio').length >= {players}", timeout=30_000)
    page.get_by_text("of 6 right.").wait_for(timeout=30_000)
    assert page.get_by_text("Bach was").count() == 1
    assert page.get_by_role("button", name="A is Bach").is_disabled()
    assert all(d > 0 for d in audio_durations(page))
    assert page.errors == []


def test_lesson_09_shows_its_figures_score_and_plays_notes_and_sound(page, lab):
    open_and_run(page, lab, "09_wavenet.ipynb")
    assert error_outputs(page) == []
    # the student edition: each of the five checks says its exercise is waiting, and nothing after it breaks
    assert page.get_by_text("not attempted yet").count() == 5
    scores = svg_images(page)
    assert any('class="note"' in svg for svg in scores), "no engraved score of the WaveNet's melody"
    figures = png_figures(page)
    assert figures >= 4  # the gradients, the learning curve, time per step, the sound's waveform and spectrogram
    durations = audio_durations(page)
    # the melody, the quiet chorale quantised two ways, and the second of sound the WaveNet wrote
    assert len(durations) >= 4 and all(d > 0 for d in durations)
    assert page.errors == []


def test_lesson_10_shows_its_figures_and_score_and_plays_the_transformers_melody(page, lab):
    open_and_run(page, lab, "10_transformer.ipynb")
    assert error_outputs(page) == []
    assert page.get_by_text("not attempted yet").count() == 4  # the student edition's four exercises, waiting
    scores = svg_images(page)
    assert any('class="note"' in svg for svg in scores), "no engraved score of the Transformer's melody"
    figures = png_figures(page)
    # √d, the sinusoids, memory, the learning curves, the attention maps, the time per step
    assert figures >= 6
    durations = audio_durations(page)
    assert len(durations) >= 1 and all(d > 0 for d in durations)
    assert page.errors == []


def test_lesson_11_shows_the_game_and_plays_the_gans_fragments_as_they_learn(page, lab):
    open_and_run(page, lab, "11_gan.ipynb")
    assert error_outputs(page) == []
    assert page.get_by_text("not attempted yet").count() == 4  # the student edition's four exercises, waiting
    scores = svg_images(page)
    # the training fragments, and the two kept generators' fragments
    assert sum('class="note"' in svg for svg in scores) >= 3, "the engraved fragments are missing"
    figures = png_figures(page)
    # D* on the toy, the two losses' slopes, the losses and snapshots of both GANs, the benchmark's curves
    assert figures >= 7
    durations = audio_durations(page)
    # real fragments; the plain GAN at three points; WGAN-GP live; the two kept generators
    assert len(durations) >= 7 and all(d > 0 for d in durations)
    assert page.errors == []


def test_lesson_12_engraves_and_plays_the_walk_across_the_map(page, lab):
    open_and_run(page, lab, "12_vae.ipynb")
    assert error_outputs(page) == []
    assert page.get_by_text("not attempted yet").count() == 3  # the student edition's three exercises, waiting
    scores = svg_images(page)
    # the walk through the map, the walk through note space, the samples from the prior
    assert sum('class="note"' in svg for svg in scores) >= 3, "the engraved walks and samples are missing"
    assert png_figures(page) >= 2  # the learning curves, the attribute vector
    durations = audio_durations(page)
    # both walks, the prior's samples, the attribute vector's three versions
    assert len(durations) >= 4 and all(d > 0 for d in durations)
    assert page.errors == []
