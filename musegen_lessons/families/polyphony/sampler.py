"""A trained frame model run in numpy, frame by frame and (for the MADE output) key by key: sampling new
chorales, and decoding the frame a model believes in.

Lesson: 08_polyphony
"""

import numpy as np

from musegen_lessons.errors import MelodyError
from musegen_lessons.families.polyphony.models import is_autoregressive, made_masks
from musegen_lessons.layers import activations, convolution, dense, recurrent
from musegen_lessons.music.encoding import PIANO_KEYS


class FrameSampler:
    """A trained frame model run in numpy, frame by frame and (for the MADE output) key by key.

    Lesson: 08_polyphony

    The LSTM is lesson 04's `recurrent.lstm_step` with the model's own weights, a TCN body lesson 03's
    `convolution.conv1d` (dilated, causal); the output layers are the equations of `build_frame_model`. Dropout does
    nothing once a model is trained, so it is left out.
    """

    def __init__(self, model):
        def weights(name):
            return [np.asarray(w, np.float64) for w in model.get_layer(name).get_weights()]

        self.lstms = [weights(layer.name) for layer in model.layers if layer.name.startswith("lstm_")]
        names = {layer.name for layer in model.layers}
        self.tcn = []  # per TCN block: (conv 1, conv 2, the 1×1 convolution of its input or None, dilation)
        block = 1
        while f"tcn_{block}_conv_1" in names:
            convs = [weights(f"tcn_{block}_conv_{n}") for n in (1, 2)]
            downsample = weights(f"tcn_{block}_downsample") if f"tcn_{block}_downsample" in names else None
            self.tcn.append((*convs, downsample, int(model.get_layer(f"tcn_{block}_conv_1").dilation_rate[0])))
            block += 1
        self.past_kernel, self.past_bias = weights("from_past")
        self.skip = type(model.get_layer("summary")).__name__ == "Concatenate"
        self.autoregressive = is_autoregressive(model)
        if self.autoregressive:
            hidden = model.get_layer("made_in").units
            to_hidden, to_output, direct = made_masks(PIANO_KEYS, hidden)
            kernel, bias = weights("made_in")
            self.in_kernel, self.in_bias = kernel * to_hidden, bias
            (self.hidden_from_past,) = weights("made_from_past")
            self.out_kernel = weights("made_out")[0] * to_output
            self.direct_kernel = weights("made_direct")[0] * direct

    def hidden_states(self, frames):
        """h_t after each of the given frames, (T, units): the network's summary of the music so far."""
        frames = np.asarray(frames, np.float64)
        h = frames
        for first, second, downsample, dilation in self.tcn:
            inner = activations.relu(convolution.conv1d(h, *first, padding="causal", dilation=dilation))
            inner = activations.relu(convolution.conv1d(inner, *second, padding="causal", dilation=dilation))
            h = activations.relu((h if downsample is None else convolution.conv1d(h, *downsample)) + inner)
        for kernel, recurrent_kernel, bias in self.lstms:
            h = recurrent.lstm(h, kernel, recurrent_kernel, bias)
        return np.concatenate([h, frames], axis=-1) if self.skip else h

    def probabilities(self, h, frame):
        """p(key sounds) for every key given h and, for the MADE output, the frame's lower keys (teacher forcing)."""
        logits = dense.dense(h, self.past_kernel, self.past_bias)
        if self.autoregressive:
            frame = np.asarray(frame, np.float64)
            hidden = activations.relu(frame @ self.in_kernel + self.in_bias + h @ self.hidden_from_past)
            logits = logits + hidden @ self.out_kernel + frame @ self.direct_kernel
        return activations.sigmoid(logits)

    def decode(self, h, greedy=False, rng=None):
        """Frames chosen from hidden states h (..., units): keys sampled (or, greedy, on when p > 0.5).

        For the MADE output the keys are chosen lowest first, each from p(x_k | x_<k, h), which is what makes a
        sample a chord the model believes in rather than a mixture of several.
        """
        h = np.asarray(h, np.float64)
        context = dense.dense(h, self.past_kernel, self.past_bias)

        def draw(p):
            return p > 0.5 if greedy else rng.random(p.shape) < p

        if not self.autoregressive:
            return draw(activations.sigmoid(context)).astype(np.uint8)
        frame = np.zeros(h.shape[:-1] + (PIANO_KEYS,))
        pre_hidden = self.in_bias + h @ self.hidden_from_past
        for k in range(PIANO_KEYS):
            hidden = activations.relu(pre_hidden)
            logit = context[..., k] + hidden @ self.out_kernel[:, k] + frame @ self.direct_kernel[:, k]
            frame[..., k] = draw(activations.sigmoid(logit))
            pre_hidden = pre_hidden + frame[..., k : k + 1] * self.in_kernel[k]
        return frame.astype(np.uint8)

    def sample(self, seed_frames, steps, seed=0, greedy=False):
        """Continue `seed_frames` (T, 88) by `steps` frames; return the seed and the continuation, (T + steps, 88).

        Raises:
            MelodyError: there is no seed frame to start from.
        """
        rng = np.random.default_rng(seed)
        frames = [np.asarray(f, np.uint8) for f in seed_frames]
        if not frames:
            raise MelodyError("A continuation needs at least one seed frame to start from.")
        states = [(np.zeros(k[1].shape[0]), np.zeros(k[1].shape[0])) for k in self.lstms]
        for t in range(len(frames) + steps - 1):
            h = frames[t].astype(np.float64)
            for index, (kernel, recurrent_kernel, bias) in enumerate(self.lstms):
                h, c = recurrent.lstm_step(h, *states[index], kernel, recurrent_kernel, bias)
                states[index] = (h, c)
            if t + 1 >= len(frames):
                if self.tcn:  # a convolution carries no state: run it over the frames so far
                    summary = self.hidden_states(frames[: t + 1])[-1]
                else:
                    summary = np.concatenate([h, frames[t]]) if self.skip else h
                frames.append(self.decode(summary, greedy=greedy, rng=rng))
        return np.array(frames, np.uint8)
