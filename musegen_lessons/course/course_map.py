"""The course map: the pipeline the course builds, in lesson order, and the families of model that can stand in for
its network.

Lesson: 00_welcome
"""

import numpy as np

# (stage, what it does, the lessons that teach it), in the order the lessons teach them: every lesson appears once
PIPELINE = (
    ("data", "Bach chorales, folk songs;\nscore, MIDI, sound", "00, 01"),
    ("preprocessing", "clean, transpose,\ntokens, windows", "02"),
    ("learning", "neuron, loss, gradient\ndescent, Conv1D", "03"),
    ("memory", "the RNN and the LSTM\ncarry the past", "04"),
    ("a melody model", "Conv1D + LSTM trained,\nbeside n-grams", "05"),
    ("generation", "sample the next token,\nagain; MIDI out", "06"),
    ("evaluation", "is it music?\nmeasured and heard", "07"),
    ("four voices", "chords as frames,\nthe JSB benchmark", "08"),
)
# Each of these replaces the network of lesson 05 (or 08); they are alternatives, not stages one after another.
FAMILIES = (
    ("WaveNet, TCN", "dilated convolutions:\nthe view doubles", "09"),
    ("Transformer", "attention: every\nstep looks back", "10"),
    ("GAN", "a generator against\na discriminator", "11"),
    ("VAE", "a map of melodies\nto walk across", "12"),
)
COURSE_MAP = PIPELINE + FAMILIES
PER_ROW = 4  # boxes in a row: the map fits a notebook's width


def show_course_map():
    """Draw the course: its pipeline in lesson order, in rows joined by arrows, and below it the four families of
    model, side by side without arrows, since each is another way to make the pipeline's model. Returns the Axes.

    Lesson: 00_welcome
    """
    import matplotlib.pyplot as plt

    width, height, gap, row_gap = 2.2, 1.05, 0.45, 0.6
    pipeline_rows = -(-len(PIPELINE) // PER_ROW)
    _, ax = plt.subplots(figsize=(9.5, 1.45 * (pipeline_rows + 1) + 0.2), layout="constrained")
    blues = plt.get_cmap("Blues")(np.linspace(0.2, 0.5, len(PIPELINE)))
    for i, (box, colour) in enumerate(zip(PIPELINE, blues)):
        row, column = divmod(i, PER_ROW)
        x, y = column * (width + gap), -row * (height + row_gap)
        _draw_box(ax, x, y, width, height, box, colour)
        if column + 1 < PER_ROW and i + 1 < len(PIPELINE):
            _arrow(ax, (x + width + 0.05, y + height / 2), (x + width + gap - 0.05, y + height / 2))
        elif i + 1 < len(PIPELINE):  # the row's last stage leads down to the next row's first, as text wraps
            middle = y - row_gap / 2
            ax.plot([x + width / 2, x + width / 2, width / 2], [y - 0.05, middle, middle], color="black", lw=1.4)
            _arrow(ax, (width / 2, middle), (width / 2, y - row_gap + 0.05))
    top = -pipeline_rows * (height + row_gap) + 0.25
    ax.text(
        -0.1,
        top + 0.35,
        "Families of model: each can take the place of lesson 05's network (or lesson 08's)",
        fontsize=10,
        style="italic",
        color="0.3",
    )
    oranges = plt.get_cmap("Oranges")(np.linspace(0.2, 0.4, len(FAMILIES)))
    for column, (box, colour) in enumerate(zip(FAMILIES, oranges)):
        _draw_box(ax, column * (width + gap), top - height, width, height, box, colour)
    ax.set_xlim(-0.2, PER_ROW * (width + gap) - gap + 0.2)
    ax.set_ylim(top - height - 0.15, height + 0.1)
    ax.axis("off")
    return ax


def _draw_box(ax, x, y, width, height, box, colour):
    from matplotlib.patches import FancyBboxPatch

    stage, what, lessons = box
    ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.04", facecolor=colour, edgecolor="0.3"))
    ax.text(x + width / 2, y + 0.8, stage, ha="center", va="center", fontsize=10.5, weight="bold")
    ax.text(x + width / 2, y + 0.47, what, ha="center", va="center", fontsize=8.5)
    ax.text(x + width / 2, y + 0.13, f"lesson {lessons}", ha="center", va="center", fontsize=8, color="0.35")


def _arrow(ax, start, end, connection="arc3"):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "lw": 1.4, "connectionstyle": connection})
