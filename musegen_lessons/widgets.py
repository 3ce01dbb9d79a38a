"""The composer: an ipywidgets panel that writes, shows and plays a new melody with the kept model.

Lesson: 06_generation
"""

import base64
import io

from .generate import NumpyStepGenerator, compose, melody_to_midi, parse_melody
from .melody import Melody
from .notation import key_names, midi_to_name


def composer(model=None, vocabulary=None):
    """Return a panel of controls (seed melody, key, tempo, length, temperature, top-k, random seed) and a
    Generate button; each press shows the score and piano roll, plays the melody and offers the MIDI file.

    The seed melody is typed in the chosen key, and the new melody starts with exactly those notes.

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
    generator = NumpyStepGenerator(model)
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
