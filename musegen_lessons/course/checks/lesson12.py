"""Checks of the exercises in lesson 12_vae: the Gaussian KL, the reparameterisation trick and spherical
interpolation; each answer is compared with the package's on values known by hand and on codes of many dimensions.

Lesson: 12_vae
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise
from musegen_lessons.course.checks.lesson03 import compare
from musegen_lessons.families.vae import gaussian_kl, reparameterise, slerp

PACKAGE = "the package"


def _codes(fragments, latent, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.8, size=(fragments, latent)), rng.normal(scale=0.6, size=(fragments, latent))


@exercise(
    "12.1",
    "my_gaussian_kl",
    "the KL of a Gaussian code from the prior",
    setup=NUMPY,
    references=("musegen_lessons.families.vae.gaussian_kl",),
)
def check_gaussian_kl(fn):

    cases = [
        ("a code equal to the prior (mean 0, log-variance 0)", np.zeros((1, 4)), np.zeros((1, 4))),
        ("one dimension, mean 1 and log-variance 1", np.ones((1, 1)), np.ones((1, 1))),
        ("3 fragments' codes of 16 dimensions", *_codes(3, 16, 1)),
        ("5 fragments' codes of 2 dimensions", *_codes(5, 2, 2)),
    ]
    for what, mean, log_variance in cases:
        got = call(fn, mean.copy(), log_variance.copy())
        compare(what, np.reshape(got, np.shape(got)), gaussian_kl(mean, log_variance), PACKAGE)
    return "½ Σ (μ² + σ² − 1 − ln σ²): 0 for the prior itself, growing as a code moves away or narrows."


@exercise(
    "12.2",
    "my_reparameterise",
    "the reparameterisation trick",
    setup=NUMPY,
    references=("musegen_lessons.families.vae.reparameterise",),
)
def check_reparameterise(fn):

    rng = np.random.default_rng(3)
    for what, (mean, log_variance) in [
        ("a code with log-variance 0 (σ = 1)", (np.full((1, 3), 0.5), np.zeros((1, 3)))),
        ("a code with log-variance ln 4 (σ = 2)", (np.zeros((1, 2)), np.full((1, 2), np.log(4.0)))),
        ("4 fragments' codes of 16 dimensions", _codes(4, 16, 4)),
    ]:
        noise = rng.normal(size=mean.shape)
        compare(
            what,
            call(fn, mean.copy(), log_variance.copy(), noise.copy()),
            reparameterise(mean, log_variance, noise),
            PACKAGE,
        )
    return "μ + σ ⊙ ε: the draw is a function of μ and σ, and the gradient reaches both."


@exercise(
    "12.3",
    "my_slerp",
    "spherical interpolation",
    setup=NUMPY,
    references=("musegen_lessons.families.vae.slerp",),
)
def check_slerp(fn):

    rng = np.random.default_rng(5)
    cases = [
        ("a quarter circle of radius 2, [2, 0] to [0, 2]", np.array([2.0, 0.0]), np.array([0.0, 2.0])),
        ("two codes of 16 dimensions", rng.normal(size=16), rng.normal(size=16)),
        ("codes of different lengths", np.array([1.0, 0.0, 0.0]), np.array([0.0, 3.0, 1.0])),
    ]
    for what, z0, z1 in cases:
        for t in (0.0, 0.25, 0.5, 1.0):
            got = call(fn, z0.copy(), z1.copy(), t)
            if np.shape(got) != z0.shape:
                raise CheckFailed(f"For {what} at t = {t} the point has shape {z0.shape}; yours has {np.shape(got)}.")
            compare(f"{what}, t = {t}", got, slerp(z0, z1, t), PACKAGE)
    return "along the great circle: t = 0 is z0, t = 1 is z1, and between them the path keeps to the codes' sphere."
