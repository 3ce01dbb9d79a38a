"""Event tokens: REMI (Huang and Yang 2020), the tokenization most music Transformers read, made with MidiTok, beside
the course's 16th-note grid.

The grid spends one token on every 16th note, most of them HOLD. An event tokenization spends tokens on what
happens: REMI writes a Bar token at each bar line, and for each note a Position in the bar, its Pitch and its
Duration. The two give sequences of different lengths over different vocabularies, so their likelihoods per token
cannot be compared: a model of shorter sequences of harder tokens has a higher loss per token for the same music.
Compare the total over a piece, or per note, never per token (`nats_per_note`).

Lesson: 10_transformer
"""

import io

from musegen_lessons.music.encoding import SPECIAL_TOKENS
from musegen_lessons.music.midi import melody_to_midi

# REMI for these melodies: 16th-note positions within a bar of up to 4 beats (8th notes up to 12 beats, for the
# longest notes), no velocities (the melodies have none), time signatures so that a 3/4 bar is three beats long.
REMI_SETTINGS = {
    "pitch_range": (21, 109),
    "beat_res": {(0, 4): 4, (4, 12): 2},
    "use_velocities": False,
    "use_time_signatures": True,
    "use_tempos": False,
    "use_chords": False,
    "use_programs": False,
}


def remi_tokenizer():
    """A MidiTok REMI tokenizer with `REMI_SETTINGS`; made offline (nothing is downloaded).

    Lesson: 10_transformer
    """
    from miditok import REMI, TokenizerConfig

    return REMI(TokenizerConfig(**REMI_SETTINGS))


def piece_to_remi(piece, tokenizer):
    """A piece's melody as REMI tokens: (token names such as 'Pitch_60', their ids in the tokenizer's vocabulary).

    Lesson: 10_transformer

    The melody is written as MIDI (lesson 06's `melody_to_midi`, with its time signature) and read by symusic, the
    MIDI library MidiTok works with; an upbeat is moved to its place in the first bar, so that REMI's bar lines
    fall where the score's do.
    """
    import symusic

    data = io.BytesIO()
    melody_to_midi(piece.melody).write(data)
    score = symusic.Score.from_midi(data.getvalue())
    for track in score.tracks:  # the notes only: the time signature stays at the start
        track.shift_time(piece.pickup_steps * score.ticks_per_quarter // 4, inplace=True)
    sequence = tokenizer(score)
    sequence = sequence[0] if isinstance(sequence, list) else sequence  # one sequence per track: the melody's
    return list(sequence.tokens), list(sequence.ids)


def count_notes(piece):
    """How many notes a piece's melody has: its pitch tokens on the grid (each note starts with one).

    Lesson: 10_transformer
    """
    return sum(token not in SPECIAL_TOKENS for token in piece.tokens)


def nats_per_note(token_log_probs, notes):
    """A piece's negative log-likelihood per note: −Σ ln p over all its tokens, divided by its notes.

    Lesson: 10_transformer

    Every token of the piece counts, its first too: the total is the log-probability of the whole piece, which any
    two tokenizations of the same music can be compared by.
    """
    return -float(sum(token_log_probs)) / notes
