"""Frames engraved: a two-staff score of a chorale's frames, for `display.render_score`.

Lesson: 08_polyphony
"""

import numpy as np

from ..encoding import piano_roll_to_notes


def frames_to_score(frames, key=None):
    """A two-staff music21 score of frames: the lower half of each chord (tenor and bass) on the bass staff, the
    upper half (soprano and alto) on the treble staff, both in the key signature of `key`.

    Lesson: 08_polyphony

    Splitting by place in the chord rather than at middle C keeps each voice on one staff wherever it lies. A key
    held over consecutive frames is engraved as one note (see `encoding.piano_roll_to_notes`).

    Args:
        key: the key the chorale is in, e.g. 'C minor'; by default the key `corpus.analyze_key` finds in the frames.
    """
    import music21

    from ..corpus import analyze_key
    from ..display import music21_key, notes_to_stream

    frames = np.asarray(frames)
    staves = np.zeros((2,) + frames.shape, np.uint8)  # [treble, bass]
    for t, frame in enumerate(frames):
        keys = np.flatnonzero(frame)
        staves[1, t, keys[: len(keys) // 2]] = 1
        staves[0, t, keys[len(keys) // 2 :]] = 1
    everything = piano_roll_to_notes(frames, steps_per_quarter=1)
    if key is None and everything:
        key = analyze_key(everything)
    signature = music21_key(key) if key else None
    score = music21.stream.Score()
    for clef, staff in zip((music21.clef.TrebleClef(), music21.clef.BassClef()), staves):
        part = music21.stream.Part()
        part.insert(0, clef)
        if signature is not None:
            part.insert(0, music21.key.KeySignature(signature.sharps))
        notes = piano_roll_to_notes(staff, steps_per_quarter=1)
        if notes:
            for element in notes_to_stream(notes, signature).notesAndRests:
                part.insert(element.offset, element)
        else:
            part.insert(0, music21.note.Rest(quarterLength=len(frames)))
        score.insert(0, part)
    return score
