"""The errors a student can cause, each with a message that says what was wrong and what to do.

Every error the package raises on purpose derives from `MuseGenError`, so a notebook can catch them all
with one `except`, and each also derives from the built-in error it refines (a `NotationError` is a
`ValueError`), so code written against the standard types keeps working.

Lesson: 00_welcome
"""


class MuseGenError(Exception):
    """Base class of every error this package raises on purpose."""


class NotationError(MuseGenError, ValueError):
    """A pitch name, MIDI number or duration that music notation cannot express."""


class MidiReadError(MuseGenError, ValueError):
    """A MIDI file that is missing, empty, truncated, corrupt, not MIDI at all, or holds no notes."""


class MelodyError(MuseGenError, ValueError):
    """Music that breaks the encoding's rules: no notes, overlaps, HOLD after REST, a pitch off the piano, an
    empty seed to continue."""


class ShapeError(MuseGenError, ValueError):
    """Arrays whose shapes or sizes do not fit an equation (a kernel for 10 channels given an input with 88)."""


class ChoiceError(MuseGenError, ValueError):
    """An argument outside the choices a function offers: an unknown collection, padding, activation, output
    layer or smoothing, or a setting outside its range (a negative temperature, fractions that do not sum to 1)."""


class AudioError(MuseGenError, RuntimeError):
    """No way to turn the music into sound: a forced backend that is unavailable, or a missing soundfont."""


class ModelFileError(MuseGenError, OSError):
    """A saved model that is missing, damaged, or does not match its vocabulary."""


class DataFileError(MuseGenError, OSError):
    """A data file the course reads (the JSB benchmark split) that is missing, damaged or of the wrong format."""


class VersionMismatchError(MuseGenError, RuntimeError):
    """The notebook was written for a different version of the musegen_lessons package."""


class ReleaseError(MuseGenError, RuntimeError):
    """The student edition cannot be written without losing a student's work, or is out of sync."""


class GradeError(MuseGenError, RuntimeError):
    """A submitted notebook that cannot be graded at all (unreadable, or not one of the course's lessons)."""


class BookError(MuseGenError, RuntimeError):
    """The course's website cannot be staged or built: a lesson or a README section is missing, or Sphinx failed."""
