"""The course map: the pipeline the course builds, each stage with the lessons that teach it.

Lesson: 00_welcome
"""

import numpy as np

COURSE_MAP = (  # (stage, what it does, the lessons that teach it): every lesson appears at least once
    ("data", "Bach chorales,\nfolk songs", "00, 01"),
    ("preprocessing", "clean, transpose,\ntokens, windows", "02"),
    ("learning", "neuron, loss,\ngradient descent", "03"),
    ("CNN features", "Conv1D over\nneighbouring steps", "03"),
    ("RNN over time", "LSTM carries\nthe past", "04, 05"),
    ("dilated CNN", "WaveNet, TCN:\nthe view doubles", "09"),
    ("attention", "Transformer: every\nstep looks back", "10"),
    ("GAN", "a generator\nagainst a critic", "11"),
    ("VAE", "a map of melodies\nto walk across", "12"),
    ("generation", "sample the next\ntoken, again", "06"),
    ("evaluation", "is it music?\nmeasured", "07"),
    ("four voices", "chords as frames,\nthe JSB benchmark", "08"),
    ("MIDI and audio", "score, piano roll,\nsound", "00, 01, 06"),
)


def show_course_map():
    """Draw the course as the pipeline it builds, each stage with the lessons that teach it. Returns the Axes.

    Lesson: 00_welcome
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    _, ax = plt.subplots(figsize=(1.8 * len(COURSE_MAP), 2.6), layout="constrained")  # room for every label
    width, gap = 1.7, 0.4
    colours = plt.get_cmap("Blues")(np.linspace(0.25, 0.6, len(COURSE_MAP)))
    for i, ((stage, what, lessons), colour) in enumerate(zip(COURSE_MAP, colours)):
        x = i * (width + gap)
        ax.add_patch(FancyBboxPatch((x, 0), width, 1, boxstyle="round,pad=0.05", facecolor=colour, edgecolor="0.3"))
        ax.text(x + width / 2, 0.72, stage, ha="center", va="center", fontsize=11, weight="bold")
        ax.text(x + width / 2, 0.34, what, ha="center", va="center", fontsize=9)
        ax.text(x + width / 2, -0.25, f"lesson {lessons}", ha="center", va="center", fontsize=9, color="0.35")
        if i + 1 < len(COURSE_MAP):
            ax.annotate(
                "",
                xy=(x + width + gap - 0.05, 0.5),
                xytext=(x + width + 0.08, 0.5),
                arrowprops={"arrowstyle": "->", "lw": 1.5},
            )
    ax.set_xlim(-0.2, len(COURSE_MAP) * (width + gap) - gap + 0.2)
    ax.set_ylim(-0.5, 1.2)
    ax.axis("off")
    return ax
