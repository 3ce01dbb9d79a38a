"""The composer panel of lesson 06: its controls, and what pressing Generate produces."""

import ipywidgets as widgets
import matplotlib
import pytest

from musegen_lessons.course.composer import composer
from musegen_lessons.families.saving import load_melody_model

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def panel():
    model, vocabulary, _ = load_melody_model()
    return composer(model, vocabulary)


def _all(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _all(child)


def test_the_panel_offers_every_control(panel):
    descriptions = {w.description for w in _all(panel) if hasattr(w, "description")}
    assert {
        "seed melody",
        "key",
        "tempo (bpm)",
        "length (16ths)",
        "temperature",
        "top-k (0: off)",
        "random seed",
        "Generate",
    } <= descriptions


def test_generate_plays_the_melody_and_offers_the_midi(panel, capsys):
    button = next(w for w in _all(panel) if isinstance(w, widgets.Button))
    button.click()
    shown = capsys.readouterr().out
    assert "Score object" in shown and "played with" in shown and "Audio object" in shown and "HTML object" in shown


def test_the_download_link_carries_the_midi_file():
    import base64
    import re

    from musegen_lessons.course.composer import midi_download_link
    from musegen_lessons.music.melody import Melody
    from musegen_lessons.music.midi import melody_to_midi, read_midi

    link = midi_download_link(melody_to_midi(Melody([60, "HOLD", 62, "HOLD"]), tempo_bpm=100))
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1))
    assert 'download="melody.mid"' in link
    assert [n.pitch for n in read_midi(data).instruments[0].notes] == [60, 62]


def test_the_panel_starts_the_melody_with_the_notes_typed_in_the_key_chosen(panel, capsys):
    controls = {getattr(w, "description", ""): w for w in _all(panel)}
    controls["seed melody"].value, controls["key"].value = "A4 D5 C#5 B4 A4", "D major"
    try:
        controls["Generate"].click()
        assert "in D major, starting A4 D5 C#5 B4 A4 " in capsys.readouterr().out
        controls["seed melody"].value = "D4 D1"
        controls["Generate"].click()
        assert "Cannot compose: The opening's D1 is a note this model never wrote in D major" in capsys.readouterr().out
    finally:
        controls["seed melody"].value, controls["key"].value = "E4 D4 C4", "C major"


def test_a_bad_seed_melody_is_reported_in_the_panel(panel, capsys):
    seed = next(w for w in _all(panel) if getattr(w, "description", "") == "seed melody")
    button = next(w for w in _all(panel) if isinstance(w, widgets.Button))
    seed.value = "C4 Q9"
    button.click()
    assert "Cannot compose" in capsys.readouterr().out
    seed.value = "E4 D4 C4"


# --- the blind listening test of lesson 07 ---------------------------------------------------------------------


def _pairs(count):
    bach = [60, "HOLD", 62, "HOLD", 64, "HOLD", "HOLD", "HOLD"]
    return [(bach, [67 - i, "HOLD", 65, "HOLD", 64, "HOLD", "HOLD", "HOLD"]) for i in range(count)]


def _bach_side(test, pair):
    return 0 if test.bach_first[pair] else 1


def test_the_listening_test_reveals_nothing_until_the_last_answer(capsys):
    from musegen_lessons.evaluation.listening import BlindListening

    test = BlindListening(_pairs(3), seed=1)
    assert "Pair 1 of 3" in test.title.value and test.result() is None
    test.answer(_bach_side(test, 0))
    test.answer(1 - _bach_side(test, 1))
    assert test.result() is None and "Bach was" not in test.title.value
    test.answer(_bach_side(test, 2))
    assert test.result() == (2, 3, 0.5)  # 2 or 3 right of 3 by guessing: 4 of 8 ways
    assert "2 of 3 right" in test.title.value and all(button.disabled for button in test.buttons)
    test.answer(0)  # after the last pair an answer changes nothing
    assert test.result() == (2, 3, 0.5)


def test_the_buttons_record_which_melody_the_listener_chose(capsys):
    from musegen_lessons.evaluation.listening import BlindListening

    test = BlindListening(_pairs(5), seed=4)
    for pair in range(5):
        test.buttons[_bach_side(test, pair)].click()
    right, trials, p = test.result()
    assert (right, trials) == (5, 5) and p == 1 / 32
    assert sum(test.bach_first) == 2  # Bach first in half the pairs (2 of 5): always answering "A" gains nothing


def test_a_listening_test_without_pairs_is_refused():
    from musegen_lessons.errors import MelodyError
    from musegen_lessons.evaluation.listening import BlindListening

    with pytest.raises(MelodyError, match="at least one pair"):
        BlindListening([])


def test_the_panel_composes_with_the_kept_transformer_too(capsys):
    from musegen_lessons.families.saving import KEPT_MODELS

    model, vocabulary, _ = load_melody_model(KEPT_MODELS["transformer"])
    panel = composer(model, vocabulary)
    controls = {getattr(w, "description", ""): w for w in _all(panel)}
    controls["seed melody"].value, controls["length (16ths)"].value = "G4 A4 B4", 32
    controls["Generate"].click()
    shown = capsys.readouterr().out
    assert "in C major, starting G4 A4 B4" in shown and "Audio object" in shown
