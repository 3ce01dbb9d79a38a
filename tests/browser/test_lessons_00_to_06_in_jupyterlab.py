"""Lessons 00 to 06 as a student sees them: opened in JupyterLab, run with Run All, looked at in Chromium."""

import base64

import pytest
from notebook_page import audio_durations, check_lesson_page, error_outputs, png_figures, svg_images


@pytest.mark.runs_lesson("00_welcome")
def test_lesson_00_checks_the_environment_and_plays_sound(lesson_page):
    page = lesson_page
    assert error_outputs(page) == []
    assert page.get_by_text("Sound will be played with").count() >= 1
    assert page.get_by_text("MuseGen Lessons").count() >= 1
    durations = audio_durations(page)
    assert durations and all(d > 0 for d in durations)
    assert page.errors == []


@pytest.mark.runs_lesson("01_representation")
def test_lesson_01_shows_an_engraved_score_and_a_piano_roll(lesson_page):
    page = lesson_page
    assert error_outputs(page) == []
    scores = svg_images(page)
    assert scores and any('class="note"' in svg for svg in scores), "no engraved score with note heads"
    piano_rolls = png_figures(page)
    assert piano_rolls >= 3
    assert all(d > 0 for d in audio_durations(page))
    assert page.errors == []


@pytest.mark.runs_lesson("05_keras_model")
def test_lesson_05_draws_the_training_and_the_ppm_systems_on_the_published_protocol(lesson_page):
    page = lesson_page
    assert page.get_by_text("Pearce 2005, Table 6.7").count() >= 1, "the published table is missing"
    # figures: the learning curves, onsets by position in the bar, PPM's two models on one melody
    check_lesson_page(page, "05_keras_model", figures=3)


@pytest.mark.runs_lesson("06_generation")
def test_lesson_06_composer_generates_score_sound_and_midi(lesson_page):
    page = lesson_page
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


# What each lesson's page must show once run, beyond the checks of every lesson (notebook_page.check_lesson_page):
# at least so many engraved scores, figures and players.
LESSON_PAGES = {
    # scores: the chorale's soprano as found and moved to C major or A minor; figures: the corpus's statistics,
    # the windows; players: the chorale before and after cleaning
    "02_preprocessing": dict(scores=2, figures=2, players=2),
    # figures: gradient descent at three learning rates, padding, the onset and third detectors; player: the
    # one-token network's melody
    "03_cnn_equation": dict(figures=4, players=1),
    # figures: tanh and sigmoid, the vanishing gradient, the forget gate's memory
    "04_rnn_equation": dict(figures=3),
}


@pytest.mark.parametrize("lesson", [pytest.param(name, marks=pytest.mark.runs_lesson(name)) for name in LESSON_PAGES])
def test_a_lesson_runs_and_shows_its_scores_figures_and_players(lesson_page, lesson):
    check_lesson_page(lesson_page, lesson, **LESSON_PAGES[lesson])
