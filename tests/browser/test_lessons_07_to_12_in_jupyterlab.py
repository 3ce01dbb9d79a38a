"""Lessons 07 to 12 as a student sees them: opened in JupyterLab, run with Run All, looked at in Chromium."""

import pytest
from notebook_page import audio_durations, check_lesson_page, error_outputs


@pytest.mark.runs_lesson("07_evaluation")
def test_lesson_07_blind_listening_plays_pairs_and_reveals_the_score_at_the_end(lesson_page):
    page = lesson_page
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


# What each lesson's page must show once run, beyond the checks of every lesson (notebook_page.check_lesson_page):
# at least so many engraved scores, figures and players.
LESSON_PAGES = {
    # figures: a chorale's frames, MADE's masks, the learning curves, the two models' samples; players: a chorale
    # as sung, the two models' samples, the chorale finished from a held-out opening
    "08_polyphony": dict(scores=1, figures=4, players=4),
    # figures: the gradients, the learning curve, time per step, the sound's waveform and spectrogram; players: the
    # melody, the quiet chorale quantised two ways, and the second of sound the WaveNet wrote
    "09_wavenet": dict(scores=1, figures=4, players=4),
    # figures: √d, the sinusoids, memory, the learning curves, the attention maps, the time per step
    "10_transformer": dict(scores=1, figures=6, players=1),
    # scores: the training fragments and the two kept generators' fragments; figures: D* on the toy, the two
    # losses' slopes, the losses and snapshots of both GANs, the benchmark's curves; players: real fragments, the
    # plain GAN at three points, WGAN-GP live, the two kept generators
    "11_gan": dict(scores=3, figures=7, players=7),
    # scores: the walk through the map, the walk through note space, the samples from the prior; figures: the
    # learning curves, the attribute vector; players: both walks, the prior's samples, the attribute vector's
    # three versions
    "12_vae": dict(scores=3, figures=2, players=4),
}


@pytest.mark.parametrize("lesson", [pytest.param(name, marks=pytest.mark.runs_lesson(name)) for name in LESSON_PAGES])
def test_a_lesson_runs_and_shows_its_scores_figures_and_players(lesson_page, lesson):
    check_lesson_page(lesson_page, lesson, **LESSON_PAGES[lesson])
