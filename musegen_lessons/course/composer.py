"""The composer: a new melody from a typed opening in any key, written by a kept model and given back as a score, a
piano roll, a player and a MIDI file, in a panel of ipywidgets (lesson 06) or as files (`compose_melody`, for
`musegen compose`).

Lesson: 06_generation
"""

import base64
import io

from musegen_lessons.errors import MuseGenError
from musegen_lessons.families.sampling import compose, step_generator
from musegen_lessons.families.saving import KEPT_MODELS, load_melody_model
from musegen_lessons.music.audio import play, render_audio, waveform_to_wav
from musegen_lessons.music.encoding import parse_melody
from musegen_lessons.music.melody import Melody
from musegen_lessons.music.midi import melody_to_midi, write_midi
from musegen_lessons.music.notation import key_names, midi_to_name
from musegen_lessons.music.plots import show_piano_roll
from musegen_lessons.music.score import render_score


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


def compose_melody(
    folder,
    seed_notes="C4 D4 E4",
    length=128,
    temperature=0.9,
    top_k=None,
    top_p=None,
    key="C major",
    tempo_bpm=100,
    seed=0,
    model_dir=None,
    name="melody",
):
    """Write a new melody as MIDI, WAV and an engraved SVG score into a folder; return the three paths.

    Lesson: 06_generation

    The seed notes are typed in `key` and the melody starts with exactly them (`compose`). Bad input (an unknown
    note, a note the model never saw, a key that does not exist) is refused before anything is written.
    `model_dir` is a kept model's name, 'lstm' (None) or 'transformer', or a folder that `musegen train` wrote.
    """
    from pathlib import Path

    opening = Melody(parse_melody(seed_notes), key)  # an unknown key is refused before the model is loaded
    model, vocabulary, _ = load_melody_model(KEPT_MODELS.get(str(model_dir or "lstm"), model_dir))
    melody = compose(step_generator(model), vocabulary, opening, length, temperature, top_k, top_p, seed)
    pm = melody_to_midi(melody, tempo_bpm=tempo_bpm)
    folder = Path(folder)
    midi_path = write_midi(pm, folder / f"{name}.mid")
    wav_path = folder / f"{name}.wav"
    rendering = render_audio(pm, max_seconds=None)
    wav_path.write_bytes(waveform_to_wav(rendering.waveform, rendering.sample_rate))
    svg_path = render_score(melody).save(folder / f"{name}.svg")
    return [midi_path, wav_path, svg_path]
