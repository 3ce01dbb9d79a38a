"""WaveNet on sound: a sample-level WaveNet over μ-law levels (`music.audio.mu_law_encode`), trained on one long
sound and continued one sample at a time. It is the WaveNet family's model (`wavenet.build_wavenet_model`) with 256
levels for tokens and no beat input, named "sound_wavenet", so that `sampling.step_generator` runs it with the
cached generator.

Lesson: 09_wavenet
"""

import numpy as np

from musegen_lessons.corpora.dataset import make_tf_dataset, make_windows
from musegen_lessons.errors import ShapeError
from musegen_lessons.families.sampling import sample_next
from musegen_lessons.families.training import compile_melody_model, fit
from musegen_lessons.families.wavenet import build_wavenet_model, doubling_dilations

SOUND_LEVELS = 256  # μ-law levels: 8 bits a sample, as the WaveNet paper
SOUND_DILATIONS = doubling_dilations(9)  # 512 samples, 64 ms at 8 kHz: eight periods of the lesson's lowest note, C3
SOUND_WINDOW = 1024  # samples in a training window


def build_sound_model(channels=32, skip_channels=64, dilations=SOUND_DILATIONS):
    """A small sample-level WaveNet: μ-law levels in, the distribution of the next level out, no beat input.

    Lesson: 09_wavenet
    """
    return build_wavenet_model(
        SOUND_LEVELS,
        embedding_dim=16,
        position_dim=0,
        channels=channels,
        skip_channels=skip_channels,
        dilations=dilations,
        dropout=0.0,
        name="sound_wavenet",
    )


def sound_windows(levels, window=SOUND_WINDOW, stride=None, batch_size=4, shuffle=True, seed=0):
    """A tf.data pipeline of windows of a μ-law sound with next-level targets (positions all 0, the beat unused).

    Lesson: 09_wavenet
    """

    inputs, targets = make_windows(levels, window, stride or window // 4)
    return make_tf_dataset(inputs, targets, batch_size, shuffle, seed, positions=np.zeros_like(inputs))


def train_sound_model(train_levels, valid_levels, epochs=8, learning_rate=3e-3, verbose=2, seed=0, **architecture):
    """Train `build_sound_model` on one long μ-law sound, keeping the weights that do best on another.

    Lesson: 09_wavenet

    Returns:
        (model, history {'loss', 'val_loss', …} per epoch, training seconds); losses are nats per sample.
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = compile_melody_model(build_sound_model(**architecture), learning_rate)
    train = sound_windows(train_levels, seed=seed)
    valid = sound_windows(valid_levels, stride=SOUND_WINDOW, batch_size=64, shuffle=False)
    return fit(model, train, epochs, patience=epochs, validation_data=valid, verbose=verbose)


def generate_levels(generator, seed_levels, samples, seed=0, temperature=1.0):
    """Continue a sound, one μ-law level at a time: feed the seed, then sample each next level from the model.

    Lesson: 09_wavenet

    A sound WaveNet has no beat input, so every step is at position 0. Returns seed and continuation as an int32
    array of len(seed_levels) + samples levels.
    """
    seed_levels = [int(level) for level in seed_levels]
    if not seed_levels:
        raise ShapeError("The seed sound is empty: give at least one level to start from.")
    rng = np.random.default_rng(seed)
    generator.reset()
    levels = list(seed_levels)
    for step in range(len(seed_levels) + int(samples) - 1):
        probabilities = generator.step(levels[step], 0)
        if step + 1 >= len(levels):
            levels.append(sample_next(probabilities, rng, temperature, hold_id=None))
    return np.array(levels, np.int32)
