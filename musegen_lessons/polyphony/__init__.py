"""Four voices at once: chorales as 88-key frames, and models that predict a whole chord at every step.

A melody model chooses one token per step. A chorale sounds four notes at once, so here every quarter note is a
frame, a vector of 88 zeros and ones (piano keys A0 to C8, MIDI 21 to 108), and a model gives, at every step,
the probability of each key sounding in the next frame. One module per concept:

- `frames`: pitches to frames and back, transposition;
- `dataset`: the JSB benchmark's split, or one like it made from music21's chorales;
- `metric`: the benchmark's frame NLL and frame accuracy, the published table, chord statistics of samples;
- `baselines`: per-key frequency and per-key Markov models;
- `models`: an LSTM or a TCN (lesson 09) with independent or MADE output over the keys, saving and safe loading;
- `training`: padded batches of whole pieces, training through lesson 05's `training.fit`, scoring;
- `sampler`: the trained model in numpy, sampling and decoding key by key;
- `scores`: frames engraved on two staves.

Everything is importable from here, so that a lesson writes `from musegen_lessons import polyphony as P` and
`P.frame_nll(...)`.

Lesson: 08_polyphony
"""

from .baselines import FrequencyModel, MarkovModel
from .dataset import (
    FRAMES_CACHE_FORMAT,
    JSB_ENV,
    JSB_PUBLIC_COPY,
    QUICK_CHORALES,
    TUNE_PITCHES,
    FrameSplit,
    build_chorale_split,
    chorale_frames,
    find_jsb,
    load_frame_split,
    read_jsb,
    top_line,
)
from .frames import augment_pieces, frame_to_pitches, pitches_to_frame, transpose_frames
from .metric import EPSILON, PUBLISHED, chord_statistics, frame_accuracy, frame_nll, score_split
from .models import (
    BODIES,
    METRICS_FILE,
    MODEL_FILE,
    OUTPUTS,
    TCN_DILATIONS,
    build_frame_model,
    is_autoregressive,
    keras_objects,
    load_frame_model,
    made_masks,
    save_frame_model,
)
from .sampler import FrameSampler
from .scores import frames_to_score
from .training import keras_predict, model_inputs, pad_pieces, piece_batches, train_frame_model

__all__ = [
    "EPSILON",
    "FRAMES_CACHE_FORMAT",
    "JSB_ENV",
    "JSB_PUBLIC_COPY",
    "METRICS_FILE",
    "MODEL_FILE",
    "BODIES",
    "OUTPUTS",
    "TCN_DILATIONS",
    "PUBLISHED",
    "QUICK_CHORALES",
    "TUNE_PITCHES",
    "FrameSampler",
    "FrameSplit",
    "FrequencyModel",
    "MarkovModel",
    "augment_pieces",
    "build_chorale_split",
    "build_frame_model",
    "chorale_frames",
    "chord_statistics",
    "find_jsb",
    "frame_accuracy",
    "frame_nll",
    "frame_to_pitches",
    "frames_to_score",
    "is_autoregressive",
    "keras_objects",
    "keras_predict",
    "load_frame_model",
    "load_frame_split",
    "made_masks",
    "model_inputs",
    "pad_pieces",
    "piece_batches",
    "pitches_to_frame",
    "read_jsb",
    "save_frame_model",
    "score_split",
    "top_line",
    "train_frame_model",
    "transpose_frames",
]
