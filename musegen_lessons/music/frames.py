"""Chords as numbers: a frame of 88 piano keys per quarter note, and frames moved up or down.

A frame x_t ∈ {0, 1}^88 says which piano keys sound at the start of quarter note t: key k is MIDI pitch 21 + k
(A0 to C8), the columns of lesson 01's piano roll. A piece is a (frames, 88) array of 0/1.

Lesson: 08_polyphony
"""

import numpy as np

from musegen_lessons.music.encoding import PIANO_KEYS, PIANO_LOW, piano_key


def pitches_to_frame(pitches):
    """An 88-key frame (0/1, uint8) from the MIDI pitches sounding together.

    Lesson: 08_polyphony

    Raises:
        MelodyError: a pitch lies off the piano.

    Example:
        >>> np.flatnonzero(pitches_to_frame([60, 64, 67]))
        array([39, 43, 46])
    """
    frame = np.zeros(PIANO_KEYS, np.uint8)
    for pitch in pitches:
        frame[piano_key(pitch)] = 1
    return frame


def frame_to_pitches(frame):
    """The MIDI pitches sounding in a frame, lowest first.

    Lesson: 08_polyphony
    """
    return [int(k) + PIANO_LOW for k in np.flatnonzero(np.asarray(frame))]


def transpose_frames(frames, semitones, drop=False):
    """Frames moved by a number of semitones. A note that would fall off the piano makes the answer None, or with
    `drop` is left out (for listening to a model's samples, which may hold stray keys at the edges).

    Lesson: 08_polyphony
    """
    frames = np.asarray(frames)
    keys = np.flatnonzero(frames.any(axis=0))
    if len(keys) and not (0 <= keys.min() + semitones and keys.max() + semitones < PIANO_KEYS) and not drop:
        return None
    moved = np.zeros_like(frames)
    if semitones >= 0:
        moved[:, semitones:] = frames[:, : PIANO_KEYS - semitones]
    else:
        moved[:, :semitones] = frames[:, -semitones:]
    return moved


def augment_pieces(pieces, semitones):
    """Every piece transposed by each shift in `semitones` (0 keeps the original); shifts off the piano skipped.

    Lesson: 08_polyphony (lesson 02's augmentation, for frames)
    """
    moved = (transpose_frames(p, s) for p in pieces for s in semitones)
    return [p for p in moved if p is not None]
