"""Checks of the exercises in lesson 09_wavenet: dilated causal convolutions, the residual block in Keras, μ-law,
and the queues of fast generation; each answer is compared with Keras or with the definition on real chorale data
and sound, the block is judged by what it does, and a prediction of where μ-law puts its levels by what the
package's decoder measures.

Lesson: 09_wavenet
"""

import warnings

import numpy as np

from musegen_lessons.corpora.bundled import load_chorale
from musegen_lessons.course.checks import NUMPY, Answered, CheckFailed, call, describe, exercise
from musegen_lessons.course.checks.behaviour import expect_causal, expect_model, outputs_of
from musegen_lessons.course.checks.lesson03 import compare, keras_layer, real_inputs
from musegen_lessons.music.audio import mu_law_decode, mu_law_encode, render_audio


@exercise(
    "09.1",
    "my_dilated_causal_conv",
    "a dilated causal convolution",
    setup=NUMPY,
    references=("musegen_lessons.layers.convolution.conv1d", "keras.layers.Conv1D"),
)
def check_dilated_causal_conv(fn):
    import keras

    rng = np.random.default_rng(9)
    largest = 0.0
    for what, x in real_inputs().items():
        for kernel_size, dilation in [(2, 1), (2, 4), (3, 2), (2, 16), (4, 8)]:
            kernel = rng.normal(size=(kernel_size, x.shape[1], 3)).astype(np.float32)
            bias = rng.normal(size=3).astype(np.float32)
            layer = keras.layers.Conv1D(3, kernel_size, dilation_rate=dilation, padding="causal")
            expected = keras_layer(layer, x, [kernel, bias])
            got = call(fn, x, kernel, bias, dilation)
            largest = max(largest, compare(f"{what}, kernel size {kernel_size}, dilation {dilation}", got, expected))
    return (
        "y[t] = b + Σ_k W[k] · x[t − d·(K − 1 − k)], zeros before the start: equal to "
        f"keras.layers.Conv1D(dilation_rate=d, padding='causal') (largest difference {largest:.1g})."
    )


def heard_offsets(kernel_size, dilations):
    """How far back (0 = the present) the last output of a stack of causal convolutions hears: every sum of one tap
    offset per layer, k·d_l with 0 ≤ k < kernel_size."""
    offsets = {0}
    for dilation in dilations:
        offsets = {o + k * dilation for o in offsets for k in range(kernel_size)}
    return offsets


@exercise(
    "09.2",
    "my_dilations",
    "design a dilated stack: hear every step of a span, in as few layers as possible",
    setup=NUMPY,
    references=(
        "musegen_lessons.families.wavenet.doubling_dilations",
        "musegen_lessons.layers.convolution.receptive_field",
    ),
)
def check_dilations(fn):
    for kernel_size, span in [(2, 64), (2, 16), (2, 100), (3, 27), (4, 64), (3, 10)]:
        dilations = call(fn, kernel_size, span)
        if not isinstance(dilations, (list, tuple)) or not all(
            isinstance(d, (int, np.integer)) and d >= 1 for d in dilations
        ):
            raise CheckFailed(f"Return a list of whole-number dilations, one per layer, at least 1; not {dilations!r}.")
        heard = heard_offsets(kernel_size, dilations)
        blind = [offset for offset in range(span) if offset not in heard]
        fewest = int(np.ceil(np.log(span) / np.log(kernel_size) - 1e-9))
        given = f"For kernel size {kernel_size} and a span of {span} steps your dilations {describe(list(dilations))}"
        if blind:
            shown = ", ".join(map(str, blind[:6])) + (", ..." if len(blind) > 6 else "")
            raise CheckFailed(
                f"{given} leave blind spots: the output never hears the steps {shown} back. Each layer can only add "
                "multiples of its dilation to what the layers below hear."
            )
        if len(dilations) > fewest:
            raise CheckFailed(
                f"{given} hear the whole span with {len(dilations)} layers; {fewest} suffice. Each layer can multiply "
                f"the number of steps the stack hears by the kernel size, {kernel_size}, if its dilation is what the "
                "layers below it already hear."
            )
    return (
        "the fewest layers, no blind spot: the dilations multiply by the kernel size at each layer (1, 2, 4, ... for "
        "kernel size 2), and the stack hears K^L steps."
    )


def _sound():
    """A second of a chorale's opening rendered by the numpy synthesiser at 8 kHz, and a few edge values."""

    waveform = render_audio(load_chorale(), sample_rate=8000, backend="numpy", max_seconds=1.0).waveform
    edges = np.array([-1.5, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.25, 1.0, 2.0])
    return {"a rendered chorale": waveform.astype(np.float64), "values from -1.5 to 2": edges}


@exercise(
    "09.5",
    "my_mu_law_encode",
    "μ-law encoding",
    setup=NUMPY,
    references=("musegen_lessons.music.audio.mu_law_encode",),
)
def check_mu_law_encode(fn):

    for what, waveform in _sound().items():
        for levels in (256, 16):
            expected = mu_law_encode(waveform, levels)
            got = np.asarray(call(fn, waveform, levels))
            if got.shape != expected.shape:
                raise CheckFailed(f"On {what}, {levels} levels: expected shape {expected.shape}, yours {got.shape}.")
            if not np.issubdtype(got.dtype, np.integer):
                raise CheckFailed(f"Levels are whole numbers 0 … {levels - 1}; yours have dtype {got.dtype}.")
            wrong = np.flatnonzero(got != expected)
            if wrong.size:
                i = wrong[0]
                raise CheckFailed(
                    f"On {what}, {levels} levels: sample {waveform[i]:.4f} is level {expected[i]}, yours gave "
                    f"{got[i]} ({wrong.size} of {len(expected)} samples differ). Clip to [-1, 1] first, and round "
                    "(F(x) + 1) / 2 · μ to the nearest whole number."
                )
    return "F(x) = sign(x) ln(1 + μ|x|) / ln(1 + μ), then (F + 1)/2 · μ rounded: 256 levels, most of them quiet."


# Exercise 09.6: a level serves quiet sound when the amplitude it decodes to lies within ±QUIET of silence (a tenth of
# full scale, 20 dB down); a prediction this close to the measured count is called close.
QUIET, CLOSE = 0.1, 10


def quiet_levels(amplitudes, quiet=QUIET):
    """How many of a quantiser's levels decode to an amplitude within ±quiet: the levels that serve quiet sound."""
    return int(np.count_nonzero(np.abs(np.asarray(amplitudes, np.float64)) <= quiet))


@exercise(
    "09.6",
    "my_quiet_levels_prediction",
    "predict, then measure: how many of μ-law's 256 levels serve quiet sound",
    setup=NUMPY,
    references=("musegen_lessons.music.audio.mu_law_decode",),
)
def check_quiet_levels_prediction(fn):
    predicted = call(fn)
    if isinstance(predicted, bool) or not isinstance(predicted, (int, np.integer)) or not 1 <= predicted <= 256:
        raise CheckFailed(f"Predict a whole number of levels from 1 to 256, not {predicted!r}.")
    codes = np.arange(256)
    measured = quiet_levels(mu_law_decode(codes, 256))
    plain = quiet_levels(2 * codes / 255 - 1)  # plain 8-bit quantisation: level l stands for 2l/255 − 1
    if predicted == measured:
        verdict = "right"
    elif abs(predicted - measured) <= CLOSE:
        verdict = f"close: {measured} were measured"
    else:
        verdict = f"not what was measured: {measured}"
    return Answered(
        f"you predicted {predicted}, {verdict}. Decoded with mu_law_decode, {measured} of μ-law's 256 levels lie "
        f"within ±{QUIET} of silence ({measured / 256:.0%} of them), against {plain} of plain 8-bit quantisation's: "
        f"{measured / plain:.1f} times as many for the quietest tenth of the range. The logarithm spends its levels "
        "where the ear hears them: an error that is lost in a loud note is loud beside a quiet one, so μ-law's steps "
        "are small near silence and large near ±1."
    )


@exercise(
    "09.4",
    "my_queue_step",
    "one step of a layer's queue",
    setup=NUMPY,
)
def check_queue_step(fn):
    x = real_inputs(40)["piano roll"].astype(np.float64)
    for dilation in (1, 2, 5):
        queue = np.zeros((dilation, x.shape[1]))
        for t in range(len(x)):
            result = call(fn, queue, x[t].copy())
            if not (isinstance(result, tuple) and len(result) == 2):
                raise CheckFailed("Return two things: (the input `dilation` steps ago, the new queue).")
            oldest, queue = np.asarray(result[0], np.float64), np.asarray(result[1], np.float64)
            expected = x[t - dilation] if t >= dilation else np.zeros(x.shape[1])
            if oldest.shape != expected.shape or not np.array_equal(oldest, expected):
                raise CheckFailed(
                    f"With dilation {dilation}, at step {t} the input {dilation} step(s) ago is "
                    f"{'step ' + str(t - dilation) if t >= dilation else 'zeros (before the start)'}; yours "
                    "differs. Take the oldest row before changing the queue, and push the new input at the end."
                )
            if queue.shape != (dilation, x.shape[1]):
                raise CheckFailed(f"The queue keeps {dilation} inputs of {x.shape[1]}; yours has shape {queue.shape}.")
    return "each layer remembers exactly its last d inputs: the tap d steps back costs a read, not a recomputation."


# Exercise 09.3: the block's size in the check, and the task it must learn: each step's output names the token
# `dilation` steps back, which a block whose dilated filter and gate reach that far learns within seconds.
BLOCK_CHANNELS, BLOCK_DILATION, COPY_ACCURACY = 8, 4, 0.9


@exercise(
    "09.3",
    "my_residual_block",
    "a WaveNet residual block in Keras, causal, that learns",
    setup="import keras\nimport numpy as np",
    references=("musegen_lessons.families.wavenet.build_wavenet_model",),
)
def check_residual_block(fn):
    channels, dilation = BLOCK_CHANNELS, BLOCK_DILATION
    block = expect_model(fn, channels, dilation)
    x = np.random.default_rng(12).normal(size=(2, 32, channels)).astype(np.float32)
    outputs = outputs_of(block, x)
    if len(outputs) != 2 or any(o.shape != x.shape for o in outputs):
        raise CheckFailed(
            f"For an input of shape {x.shape} return two outputs, [residual, skip], each of the input's shape; yours "
            f"gives {[o.shape for o in outputs]}."
        )
    expect_causal(block, x, 20, "the block")
    accuracy = delayed_copy_accuracy(block, channels, dilation)
    if accuracy < COPY_ACCURACY:
        raise CheckFailed(
            f"Trained to name, at each step, the token {dilation} steps back (from the skip output), the block "
            f"gets {accuracy:.0%} right; it should get at least {COPY_ACCURACY:.0%}. The filter and the gate are "
            f"each a Conv1D(channels, 2, dilation_rate={dilation}, padding='causal'), so that step t hears step "
            f"t − {dilation}; the skip is a 1×1 Conv1D of their product."
        )
    return (
        f"two outputs of the input's shape, nothing heard from the future, and, trained for a few seconds, it names "
        f"the token {dilation} steps back {accuracy:.0%} of the time."
    )


def delayed_copy_accuracy(block, channels, dilation, steps=32, examples=2048, seed=0):
    """Train `block` (with a softmax over its skip output) to output at each step the one-hot token it was given
    `dilation` steps before, and return its accuracy on fresh tokens. Only a block whose skip hears exactly that far
    back can learn it: a 1×1 or undilated block cannot, and a residual path alone carries only the present."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)

    def tokens(n):
        ids = rng.integers(0, channels, (n, steps))
        return np.eye(channels, dtype=np.float32)[ids], np.roll(ids, dilation, axis=1)

    inputs = keras.Input((None, channels))
    skip = block(inputs)[1]
    model = keras.Model(inputs, keras.layers.Dense(channels, activation="softmax")(skip))
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    x, y = tokens(examples)
    with warnings.catch_warnings():  # the residual output's 1×1 convolution gets no gradient here, rightly
        warnings.filterwarnings("ignore", message="Gradients do not exist")
        model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    x, y = tokens(256)
    predicted = np.asarray(model(x, training=False)).argmax(axis=-1)
    return float(np.mean(predicted[:, dilation:] == y[:, dilation:]))
