"""A melody as the course carries it: its tokens together with the key, the metre and the upbeat they are in.

Tokens alone say which pitch sounds at each 16th-note step, but not where the bar lines fall or which key
signature a musician would write. A `Melody` keeps the three together, from the corpus (`cleaning.Piece.melody`)
through generation (`sampling.compose`) to the engraved score (`score.render_score`) and the MIDI file.

Lesson: 02_preprocessing (a piece's melody, moved to C major or A minor); 06_generation (a new one, moved back)
"""

from dataclasses import dataclass, field, replace

from musegen_lessons.errors import NotationError
from musegen_lessons.music.encoding import HOLD, REST, tokens_to_notes
from musegen_lessons.music.notation import STEPS_PER_QUARTER, parse_key


@dataclass(frozen=True)
class Melody:
    """Tokens on the 16th-note grid, in a key and a time signature, starting `pickup_steps` into the first bar.

    Lesson: 02_preprocessing; 06_generation

    `pickup_steps` is where in its bar the first step falls, as in `cleaning.Piece`: 0 for a melody that starts
    on the downbeat, 12 for a 4/4 melody that starts with a one-beat upbeat (the anacrusis).
    """

    tokens: tuple = field(repr=False)
    key: str = "C major"
    time_signature: str = "4/4"
    pickup_steps: int = 0

    def __post_init__(self):
        parse_key(self.key)  # an unknown key is refused here, not when the score is drawn
        object.__setattr__(self, "tokens", tuple(self.tokens))
        if not 0 <= self.pickup_steps < self.bar_steps:
            raise NotationError(
                f"pickup_steps={self.pickup_steps} is not a place in a {self.time_signature} bar "
                f"(0 to {self.bar_steps - 1} steps)."
            )

    @property
    def bar_steps(self):
        """Steps in one bar: 16 for 4/4, 12 for 3/4 and 6/8."""
        beats, _, unit = self.time_signature.partition("/")
        try:
            steps = int(beats) * 4 * STEPS_PER_QUARTER / int(unit)
        except ValueError:
            raise NotationError(
                f"Unknown time signature {self.time_signature!r}: write it like '4/4' or '6/8'."
            ) from None
        if steps != int(steps) or steps < 1:
            raise NotationError(f"A {self.time_signature} bar is not a whole number of 16th notes.")
        return int(steps)

    def notes(self):
        """The notes (pitch, start, end) in quarter notes from the first step (`encoding.tokens_to_notes`)."""
        return tokens_to_notes(list(self.tokens))

    def transposed(self, key):
        """The same melody moved into another key: its tokens shifted, its key signature changed.

        The melody goes by way of C major / A minor, as lesson 02 and lesson 06 move it: to the key's tonic of
        the same mode, the shorter way round, so that it stays in its register.
        """
        shift = transposition_to_c(*parse_key(self.key)) - transposition_to_c(*parse_key(key))
        tokens = [t if t in (HOLD, REST) else int(t) + shift for t in self.tokens]
        return replace(self, tokens=tokens, key=key)


def home_key(key):
    """The key a melody in `key` is moved to for the models: C major for a major key, A minor for a minor one.

    Lesson: 02_preprocessing
    """
    return "C major" if parse_key(key)[1] == "major" else "A minor"


def transposition_to_c(tonic_pitch_class, mode):
    """Semitones that move a key to C major (major) or A minor (minor), the smaller way round: -6 to +5.

    Lesson: 02_preprocessing

    Example: F# minor (tonic 6) -> +3 (F# up to A); G major (7) -> +5; D major (2) -> -2.
    """
    target = 0 if mode == "major" else 9
    shift = (target - int(tonic_pitch_class)) % 12
    return shift - 12 if shift > 5 else shift
