"""Frames engraved: a two-staff score of a chorale's frames, for `display.render_score`.

Lesson: 08_polyphony
"""

import numpy as np

from ..encoding import piano_roll_to_notes


def frames_to_score(frames):
    """A two-staff music21 score of frames: the lower half of each chord (tenor and bass) on the bass staff, the
    upper half (soprano and alto) on the treble staff.

    Lesson: 08_polyphony

    Splitting by place in the chord rather than at middle C keeps each voice on one staff wherever it lies. A key
    held over consecutive frames is engraved as one note (see `encoding.piano_roll_to_notes`).
    """
    import music21

    from ..display import notes_to_stream

    frames = np.asarray(frames)
    staves = np.zeros((2,) + frames.shape, np.uint8)  # [treble, bass]
    for t, frame in enumerate(frames):
        keys = np.flatnonzero(frame)
        staves[1, t, keys[: len(keys) // 2]] = 1
        staves[0, t, keys[len(keys) // 2 :]] = 1
    score = music21.stream.Score()
    for clef, staff in zip((music21.clef.TrebleClef(), music21.clef.BassClef()), staves):
        part = music21.stream.Part()
        part.insert(0, clef)
        notes = piano_roll_to_notes(staff, steps_per_quarter=1)
        if notes:
            for element in notes_to_stream(notes).notesAndRests:
                part.insert(element.offset, element)
        else:
            part.insert(0, music21.note.Rest(quarterLength=len(frames)))
        score.insert(0, part)
    return score
