"""Panels of ipywidgets: the composer, which writes, shows and plays a new melody with the kept model (lesson 06),
and the blind listening test (`BlindListening`), which plays pairs and asks which one is Bach (lesson 07).

Lesson: 06_generation; 07_evaluation
"""

import base64
import io

from .generate import compose, melody_to_midi, parse_melody, step_generator
from .melody import Melody
from .notation import key_names, midi_to_name


def composer(model=None, vocabulary=None):
    """Return a panel of controls (seed melody, key, tempo, length, temperature, top-k, random seed) and a
    Generate button; each press shows the score and piano roll, plays the melody and offers the MIDI file.

    The seed melody is typed in the chosen key, and the new melody starts with exactly those notes. Without a model,
    the kept LSTM of lesson 05; any melody model of the course serves, lesson 10's Transformer too
    (`composer(*load_melody_model(KEPT_MODELS["transformer"])[:2])`).

    Lesson: 06_generation
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    from .audio import play
    from .display import render_score, show_piano_roll
    from .errors import MuseGenError
    from .models import load_melody_model

    if model is None:
        model, vocabulary, _ = load_melody_model()
    generator = step_generator(model)
    style = {"description_width": "110px"}
    controls = {
        "seed_notes": w.Text(
            value="E4 D4 C4 D4 E4 E4 E4:2", description="seed melody", style=style, layout=w.Layout(width="420px")
        ),
        "key": w.Dropdown(options=key_names(), value="C major", description="key", style=style),
        "tempo": w.IntSlider(value=100, min=40, max=200, step=4, description="tempo (bpm)", style=style),
        "length": w.IntSlider(value=128, min=16, max=512, step=16, description="length (16ths)", style=style),
        "temperature": w.FloatSlider(value=0.9, min=0.05, max=2.0, step=0.05, description="temperature", style=style),
        "top_k": w.IntSlider(value=0, min=0, max=len(vocabulary), description="top-k (0: off)", style=style),
        "seed": w.IntText(value=0, description="random seed", style=style),
    }
    button = w.Button(description="Generate", button_style="primary", icon="music")
    output = w.Output()

    def on_generate(_):
        output.clear_output()
        with output:
            try:
                values = {name: control.value for name, control in controls.items()}
                opening = Melody(parse_melody(values["seed_notes"]), values["key"])
                melody = compose(
                    generator,
                    vocabulary,
                    opening,
                    values["length"],
                    temperature=values["temperature"],
                    top_k=values["top_k"] or None,
                    seed=values["seed"],
                )
                pm = melody_to_midi(melody, tempo_bpm=values["tempo"])
            except MuseGenError as error:
                print(f"Cannot compose: {error}")
                return
            notes = melody.notes()
            opening = " ".join(midi_to_name(pitch) for pitch, _, _ in notes[:8])
            print(f"{len(notes)} notes in {melody.key}, starting {opening} …")
            display(render_score(melody))
            show_piano_roll(notes, title=f"{values['key']}, temperature {values['temperature']}, seed {values['seed']}")
            plt.show()
            display(play(pm))
            display(HTML(midi_download_link(pm)))

    button.on_click(on_generate)
    return w.VBox(
        [
            w.HBox([controls["seed_notes"], controls["key"]]),
            w.HBox([controls["tempo"], controls["length"]]),
            w.HBox([controls["temperature"], controls["top_k"]]),
            w.HBox([controls["seed"], button]),
            output,
        ]
    )


def midi_download_link(pm, filename="melody.mid"):
    """An HTML link that downloads a PrettyMIDI as a .mid file, with the file inside it (no server needed).

    Lesson: 06_generation
    """
    midi = io.BytesIO()
    pm.write(midi)
    encoded = base64.b64encode(midi.getvalue()).decode()
    return f'<a download="{filename}" href="data:audio/midi;base64,{encoded}">⬇ download {filename}</a>'


class BlindListening:
    """A blind listening test: for each pair, Bach and another melody in a random order, "which one is Bach?".

    Lesson: 07_evaluation

    The answers are recorded as they are given, and the truth is revealed only after the last pair, with the
    number right and the binomial test of that score against guessing (`metrics.binomial_p_value`). Shown in a
    notebook, the object is the panel; `result()` gives the figures to a later cell.

    Args:
        pairs: [(Bach's tokens, the other melody's tokens)], each a whole melody, opening included.
        seed: the random seed that decides which pairs play Bach first (half of them, as near as can be).
    """

    def __init__(self, pairs, seed=0, tempo_bpm=96):
        import ipywidgets as w
        import numpy as np

        from .errors import MelodyError

        if not pairs:
            raise MelodyError("A listening test needs at least one pair of melodies.")
        self.pairs = [(list(bach), list(other)) for bach, other in pairs]
        # Bach first in half of the pairs, in a random order: always answering "A" scores no better than chance
        half = [True] * (len(self.pairs) // 2) + [False] * (len(self.pairs) - len(self.pairs) // 2)
        self.bach_first = [bool(b) for b in np.random.default_rng(seed).permutation(half)]
        self.answers = []  # True where the listener picked Bach
        self.tempo_bpm = tempo_bpm
        self.title = w.HTML()
        self.players = w.Output()
        self.buttons = [w.Button(description=f"{side} is Bach", button_style="info") for side in "AB"]
        for side, button in enumerate(self.buttons):
            button.on_click(lambda _, side=side: self.answer(side))
        self.panel = w.VBox([self.title, self.players, w.HBox(self.buttons)])
        self._show_pair()

    def answer(self, side):
        """Record that the listener says melody `side` (0 for A, 1 for B) of the current pair is Bach."""
        if len(self.answers) == len(self.pairs):
            return
        self.answers.append((side == 0) == self.bach_first[len(self.answers)])
        self._show_pair()

    def result(self):
        """(right, pairs answered, p-value) once every pair is answered; None before, so nothing is revealed."""
        from .metrics import binomial_p_value

        if len(self.answers) < len(self.pairs):
            return None
        right = sum(self.answers)
        return right, len(self.answers), binomial_p_value(right, len(self.answers))

    def _ipython_display_(self):
        from IPython.display import display

        display(self.panel)

    def _show_pair(self):
        from IPython.display import display

        from .audio import play
        from .encoding import tokens_to_notes

        self.players.clear_output()
        done = len(self.answers)
        if done == len(self.pairs):
            right, trials, p = self.result()
            for button in self.buttons:
                button.disabled = True
            truth = ", ".join(f"{i + 1}: {'A' if first else 'B'}" for i, first in enumerate(self.bach_first))
            self.title.value = (
                f"<b>{right} of {trials} right.</b> Bach was {truth}. Someone who only guessed would do as well or "
                f"better with probability p = {p:.3f}" + (": hard to put down to luck." if p < 0.05 else ".")
            )
            return
        self.title.value = f"<b>Pair {done + 1} of {len(self.pairs)}:</b> which one is Bach?"
        bach, other = self.pairs[done]
        with self.players:
            for side, tokens in zip("AB", (bach, other) if self.bach_first[done] else (other, bach)):
                print(side)
                display(play(tokens_to_notes(tokens), tempo_bpm=self.tempo_bpm))
