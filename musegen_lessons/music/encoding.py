"""Music as numbers a network can read: melody tokens, the vocabulary, one-hot vectors and the piano roll.

A melody becomes one token per 16th-note step: the MIDI pitch where a note starts, HOLD while it sounds on,
REST in silence. The vocabulary numbers the tokens (REST, HOLD, then pitches from low to high), and a
one-hot vector marks one token out of the vocabulary. The piano roll is the polyphonic picture: one row per
step, one column per piano key (MIDI 21 = A0 to 108 = C8), 1 where the key sounds.

Lesson: 01_representation
"""

import json
from pathlib import Path

import numpy as np

from musegen_lessons.errors import MelodyError, NotationError
from musegen_lessons.music.notation import STEPS_PER_QUARTER, midi_to_name, name_to_midi, quarters_to_steps

HOLD = "HOLD"
REST = "REST"
SPECIAL_TOKENS = (REST, HOLD)
PIANO_LOW = 21  # A0, the lowest key of an 88-key piano
PIANO_KEYS = 88  # A0 (21) to C8 (108)


def notes_to_tokens(notes, steps_per_quarter=STEPS_PER_QUARTER):
    """Quantise a monophonic melody to the grid and return one token per step.

    Lesson: 01_representation

    Args:
        notes: sequence of (pitch, start, end[, velocity]) in quarter notes, one note at a time.
        steps_per_quarter: grid resolution; 4 means 16th notes.

    Returns:
        list of tokens: an int MIDI pitch at each onset, HOLD while it sounds, REST in silence. A silence
        before the first note becomes leading RESTs.

    Raises:
        MelodyError: if there are no notes, or two notes overlap (the melody is not monophonic).
        NotationError: if a start or end falls between grid steps (a tuplet, a grace note).

    Example:
        >>> notes_to_tokens([(60, 0, 1), (62, 1, 1.5)])
        [60, 'HOLD', 'HOLD', 'HOLD', 62, 'HOLD']
    """
    notes = sorted(notes, key=lambda n: (n[1], n[0]))
    if not notes:
        raise MelodyError("The melody has no notes, so there is nothing to encode. Check where the notes came from.")
    tokens = []
    for note in notes:
        pitch, start, end = (
            int(note[0]),
            quarters_to_steps(note[1], steps_per_quarter),
            quarters_to_steps(note[2], steps_per_quarter),
        )
        if end <= start:
            raise MelodyError(
                f"The note {midi_to_name(pitch)} at {note[1]} has no length on the grid (ends at {note[2]})."
            )
        if start < len(tokens):
            raise MelodyError(
                f"The note {midi_to_name(pitch)} at quarter {note[1]} starts before the previous note ends: the melody "
                "is not monophonic. Take one voice (a part of the score) before encoding it."
            )
        tokens.extend([REST] * (start - len(tokens)))
        tokens.append(pitch)
        tokens.extend([HOLD] * (end - start - 1))
    return tokens


def tokens_to_notes(tokens, steps_per_quarter=STEPS_PER_QUARTER):
    """Turn melody tokens back into notes (pitch, start, end) timed in quarter notes.

    Lesson: 01_representation

    Raises:
        MelodyError: if the tokens break the encoding's rules (see `validate_tokens`).

    Example:
        >>> tokens_to_notes([60, 'HOLD', 'REST', 62])
        [(60, 0.0, 0.5), (62, 0.75, 1.0)]
    """
    validate_tokens(tokens)
    notes = []
    pitch = onset = None
    for step, token in enumerate(list(tokens) + [REST]):
        if token == HOLD:
            continue
        if pitch is not None:
            notes.append((pitch, onset / steps_per_quarter, step / steps_per_quarter))
        pitch, onset = (None, None) if token == REST else (int(token), step)
    return notes


def rest_orphan_holds(tokens):
    """The tokens with every HOLD that has no note sounding (at the start, or after a REST) made a REST: what a
    model that writes tokens one by one may write, made a valid melody.

    Lesson: 11_gan (a generator's fragments); 12_vae (a decoder's)

    Example:
        >>> rest_orphan_holds(['HOLD', 60, 'HOLD', 'REST', 'HOLD', 62])
        ['REST', 60, 'HOLD', 'REST', 'REST', 62]
    """
    valid, sounding = [], False
    for token in tokens:
        if token == HOLD and not sounding:
            token = REST
        sounding = token != REST
        valid.append(token)
    return valid


def excerpt(tokens, start, steps=None):
    """Tokens from `start` on (`steps` of them, or to the end), as a valid melody of its own.

    Lesson: 07_evaluation

    An excerpt may begin inside a note; its leading HOLDs become RESTs, since the note's onset lies before the cut.
    """
    return rest_orphan_holds(list(tokens)[start : None if steps is None else start + steps])


def tokens_of(music):
    """The tokens of a piece or a `melody.Melody` (anything with `.tokens`), or of a token list itself, as a list.

    Lesson: 02_preprocessing
    """
    return list(music.tokens if hasattr(music, "tokens") else music)


def validate_tokens(tokens):
    """Raise `MelodyError` unless every token is a MIDI pitch, HOLD or REST, and no HOLD follows a REST or starts.

    Lesson: 01_representation
    """
    previous = REST
    for step, token in enumerate(tokens):
        if token == HOLD:
            if previous == REST:
                where = "at the start" if step == 0 else "after a REST"
                raise MelodyError(
                    f"Token {step} is HOLD {where}: HOLD continues a sounding note, and none is sounding. "
                    "Use REST for silence."
                )
        elif token != REST and not _is_pitch(token):
            raise MelodyError(f"Token {step} is {token!r}: a token is a MIDI pitch 0-127, '{HOLD}' or '{REST}'.")
        if token != HOLD:
            previous = token


class Vocabulary:
    """The numbered list of tokens a model reads and writes: REST = 0, HOLD = 1, then pitches low to high.

    Lesson: 01_representation

    The order is fixed by sorting, so the same pitches always give the same numbers, and the vocabulary is saved
    as JSON beside a model so that its outputs can be read back into music.
    """

    def __init__(self, pitches):
        pitches = sorted({int(p) for p in pitches})
        if any(not 0 <= p <= 127 for p in pitches):
            raise MelodyError(f"Vocabulary pitches must be MIDI numbers 0-127, got {pitches[0]}..{pitches[-1]}.")
        self.tokens = list(SPECIAL_TOKENS) + pitches
        self._index = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def from_melodies(cls, melodies):
        """Build the vocabulary of every pitch that occurs in some token sequences."""
        return cls({t for tokens in melodies for t in tokens if t not in SPECIAL_TOKENS})

    @property
    def pitches(self):
        return self.tokens[len(SPECIAL_TOKENS) :]

    def __len__(self):
        return len(self.tokens)

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self):
        if not self.pitches:
            return "Vocabulary(REST, HOLD; no pitches)"
        low, high = midi_to_name(self.pitches[0]), midi_to_name(self.pitches[-1])
        return f"Vocabulary({len(self)} tokens: REST, HOLD, {len(self.pitches)} pitches {low}..{high})"

    def encode(self, tokens):
        """Return the token numbers as an int32 array."""
        ids = []
        for token in tokens:
            index = self._index.get(token if token in SPECIAL_TOKENS or not _is_pitch(token) else int(token))
            if index is None:
                raise MelodyError(
                    f"Token {token!r} is not in this {self!r}: a token is REST, HOLD or a MIDI pitch number; "
                    "transpose the melody into the vocabulary's range, or build it from data that includes it."
                )
            ids.append(index)
        return np.array(ids, dtype=np.int32)

    def decode(self, ids):
        """Return the tokens for an array of token numbers."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise MelodyError(f"Token numbers must lie in 0..{len(self) - 1} for this {self!r}.")
        return [self.tokens[int(i)] for i in ids]

    def to_json(self):
        return json.dumps({"tokens": self.tokens}, indent=1)

    @classmethod
    def from_json(cls, text):
        try:
            tokens = json.loads(text)["tokens"]
        except (ValueError, KeyError, TypeError, IndexError):
            tokens = None
        if (
            not isinstance(tokens, list)
            or tokens[: len(SPECIAL_TOKENS)] != list(SPECIAL_TOKENS)
            or not all(_is_pitch(t) for t in tokens[len(SPECIAL_TOKENS) :])
        ):
            raise MelodyError(
                "This is not a saved Vocabulary: that is JSON with a list 'tokens' of REST, HOLD and then MIDI "
                "pitch numbers. Save vocabularies with Vocabulary.save."
            )
        vocabulary = cls(tokens[len(SPECIAL_TOKENS) :])
        if vocabulary.tokens != tokens:
            raise MelodyError("This saved Vocabulary is not in sorted order; it was not written by Vocabulary.save.")
        return vocabulary

    def save(self, path):
        Path(path).write_text(self.to_json())
        return Path(path)

    @classmethod
    def load(cls, path):
        return cls.from_json(Path(path).read_text())


def one_hot(ids, size):
    """Return a (steps, size) float32 array with a single 1 per row, at each token number.

    Lesson: 01_representation
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise MelodyError(f"Token numbers must lie in 0..{size - 1} to be one-hot encoded in {size} columns.")
    return np.eye(size, dtype=np.float32)[ids]


def notes_to_piano_roll(notes, steps_per_quarter=STEPS_PER_QUARTER, steps=None):
    """Return the piano roll of notes timed in quarter notes: a (steps, 88) uint8 array, 1 where a key sounds.

    Lesson: 01_representation

    Column k is MIDI pitch 21 + k (A0 to C8). Polyphony is fine: a chord lights several columns in one row.
    Starts and ends are rounded to the nearest step, as a piano roll's grid does.

    Raises:
        MelodyError: if a pitch lies off the piano (below 21 or above 108).
    """
    notes = list(notes)
    spans = [(piano_key(n[0]), round(n[1] * steps_per_quarter), round(n[2] * steps_per_quarter)) for n in notes]
    total = steps if steps is not None else max((end for _, _, end in spans), default=0)
    roll = np.zeros((total, PIANO_KEYS), dtype=np.uint8)
    for key, start, end in spans:
        roll[start:end, key] = 1
    return roll


def piano_key(pitch):
    """The piano key of a MIDI pitch: its column k = pitch − 21 in a piano roll or a frame (A0 is key 0, C8 key 87).

    Lesson: 01_representation

    Raises:
        MelodyError: the pitch lies off the 88-key piano (below 21 or above 108).

    Example:
        >>> piano_key(60)
        39
    """
    key = int(pitch) - PIANO_LOW
    if not 0 <= key < PIANO_KEYS:
        raise MelodyError(f"MIDI pitch {pitch} is off the 88-key piano (A0 = 21 to C8 = 108).")
    return key


def piano_roll_to_notes(roll, steps_per_quarter=STEPS_PER_QUARTER):
    """Turn a (steps, 88) piano roll back into notes (pitch, start, end) in quarter notes, sorted by start.

    Lesson: 01_representation

    A key that stays on is one long note: the roll cannot tell a held note from the same note struck again,
    which is one reason the melody tokens have a separate HOLD.
    """
    roll = np.asarray(roll) > 0
    if roll.ndim != 2 or roll.shape[1] != PIANO_KEYS:
        raise MelodyError(f"A piano roll has shape (steps, {PIANO_KEYS}); this one has shape {roll.shape}.")
    padded = np.pad(roll.astype(np.int8), ((1, 1), (0, 0)))
    change = np.diff(padded, axis=0)
    notes = []
    for key in range(PIANO_KEYS):
        onsets = np.flatnonzero(change[:, key] == 1)
        offsets = np.flatnonzero(change[:, key] == -1)
        for start, end in zip(onsets, offsets):
            notes.append((PIANO_LOW + key, float(start) / steps_per_quarter, float(end) / steps_per_quarter))
    return sorted(notes, key=lambda n: (n[1], n[0]))


def transpose_tokens(tokens, semitones):
    """Move every pitch token by a number of semitones; HOLD and REST stay as they are.

    Lesson: 02_preprocessing

    Example:
        >>> transpose_tokens([60, 'HOLD', 'REST', 64], 2)
        [62, 'HOLD', 'REST', 66]
    """
    moved = [t if t in SPECIAL_TOKENS else int(t) + int(semitones) for t in tokens]
    off = [t for t in moved if t not in SPECIAL_TOKENS and not 0 <= t <= 127]
    if off:
        raise MelodyError(f"Transposing by {semitones} semitones takes pitch {off[0]} outside MIDI's range 0-127.")
    return moved


def tokens_to_text(tokens, steps_per_line=16, pickup_steps=0):
    """Return tokens as readable text, one bar a line: pitch names, '-' for HOLD, '.' for REST.

    Lesson: 01_representation

    Args:
        steps_per_line: steps in a bar (16 for 4/4, 12 for 3/4 in 16th notes).
        pickup_steps: where in its bar the first token falls, so that an upbeat starts part-way along the first
            line and every later line starts on a downbeat.

    Example:
        >>> print(tokens_to_text([60, 'HOLD', 'REST', 62]))
        C4  -   .   D4
    """
    shown = [""] * pickup_steps + ["-" if t == HOLD else "." if t == REST else midi_to_name(t) for t in tokens]
    lines = [shown[i : i + steps_per_line] for i in range(0, len(shown), steps_per_line)]
    return "\n".join(" ".join(f"{s:<3}" for s in line).rstrip() for line in lines)


def _is_pitch(token):
    return isinstance(token, (int, np.integer)) and not isinstance(token, bool) and 0 <= token <= 127


def parse_melody(text, steps_per_quarter=4):
    """Turn typed notes into tokens: 'C4 D4 E4:2 r:0.5 G4' (a name, or r for a rest, and ':quarters', default 1).

    Lesson: 06_generation

    Raises:
        NotationError: an unknown note name or a duration that is not a positive number on the grid.
        MelodyError: no notes at all.
    """
    tokens = []
    for word in str(text).split():
        name, _, length = word.partition(":")
        try:
            quarters = float(length) if length else 1.0
        except ValueError:
            raise NotationError(
                f"{word!r}: the part after ':' must be a length in quarter notes, like 'C4:0.5'."
            ) from None
        if not quarters > 0:
            raise NotationError(f"{word!r}: a length must be above 0 quarter notes.")
        steps = quarters_to_steps(quarters, steps_per_quarter)
        if name.lower() in ("r", "rest"):
            tokens += [REST] * steps
        else:
            tokens += [name_to_midi(name)] + [HOLD] * (steps - 1)
    if not any(t not in (HOLD, REST) for t in tokens):
        raise MelodyError(f"{text!r} has no notes: type note names such as 'C4 D4 E4'.")
    return tokens
