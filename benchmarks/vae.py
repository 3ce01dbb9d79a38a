"""Lesson 12's melody VAE: posterior collapse and its remedies, and the model families side by side.

Trains the VAE of `families.vae` on the two-bar fragments of lesson 11 (the chorales' tune-disjoint split,
4/4, 32 steps from each bar line) for `vae.TRAINING_STEPS` batches three ways: the plain ELBO, KL annealing (β from 0
to 1 over the first half) and free bits (`vae.FREE_NATS` a dimension). For each: the held-out fragments'
reconstruction accuracy (greedy decoding of each fragment's mean code), their mean KL, the number of latent
dimensions in use, and 1,000 fragments decoded greedily from codes drawn from the prior N(0, I), measured as lesson
11 measures samples (`copying.measure_samples`). The families table sets these beside lesson 11's figures for the LSTM,
the GANs and the chorales (read from benchmarks/results/gan.json, which `benchmarks/gan.py` writes). The free-bits
VAE is kept in data/models/vae/. Writes benchmarks/results/vae.json.

    .venv/bin/python benchmarks/vae.py      # about 10 minutes on 2 cores
"""

import json

import numpy as np
from _results import RESULTS, save_results

from musegen_lessons.corpora import fragments
from musegen_lessons.evaluation import copying
from musegen_lessons.families import vae
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()  # before anything imports TensorFlow

SAMPLES = 1000
FAMILIES = ("training fragments", "CNN + LSTM (lesson 05), temperature 1.0", "GAN (non-saturating)", "WGAN-GP")


def main():
    vocabulary, training, held_out, melodies = fragments.chorale_fragments()
    train_ids = np.array([vocabulary.encode(f) for f in training])
    held_out_ids = np.array([vocabulary.encode(f) for f in held_out])
    prior = np.random.default_rng(0).normal(size=(SAMPLES, vae.LATENT_DIM))

    rows = {}
    for kl in vae.KL_MODES:
        model = vae.VAE(train_ids, len(vocabulary), kl=kl, warmup_steps=vae.TRAINING_STEPS // 2)
        history = model.train(vae.TRAINING_STEPS)
        means, log_variances = model.encode(held_out_ids)
        samples = vae.decode_to_tokens(model.decoder, prior, vocabulary)
        rows[kl] = {
            "held_out_accuracy": round(model.reconstruction_accuracy(held_out_ids), 4),
            "held_out_kl": round(float(vae.gaussian_kl(means, log_variances).mean()), 3),
            "active_dimensions": vae.active_dimensions(means),
            "train_reconstruction": round(float(np.mean(history["reconstruction"][-100:])), 3),
            "train_seconds": round(history["seconds"], 1),
            "history_every_10_steps": {
                key: np.round(np.asarray(history[key]).reshape(-1, 10).mean(axis=1), 3).tolist()
                for key in ("reconstruction", "kl")
            },
            "prior_samples": copying.measure_samples(samples, training, melodies, held_out),
        }
        print(f"{kl}: " + ", ".join(f"{k} {v}" for k, v in rows[kl].items() if k != "history_every_10_steps"))
        if kl == "free-bits":
            vae.save_vae(model, vocabulary, vae.KEPT_VAE)

    families = families_table(rows)
    print_tables(rows, families)
    save_results(
        "vae",
        {
            "fragments": {"training": len(training), "held_out": len(held_out), "steps": len(training[0])},
            "training_steps": vae.TRAINING_STEPS,
            "free_nats": vae.FREE_NATS,
            "latent_dim": vae.LATENT_DIM,
            "rows": rows,
            "families": families,
        },
    )


def families_table(rows):
    """The VAEs' prior samples beside lesson 11's rows, each marked with the benchmark that measured it. A GAN's row is
    the mean over its seeds (its standard deviations under "spread"), not one seed's: a single seed of a GAN can lie
    well off its mean."""
    families = {}
    path = RESULTS / "gan.json"
    if path.is_file():
        gan_rows = json.loads(path.read_text())["rows"]
        for name in FAMILIES:
            seeded = next((row for key, row in gan_rows.items() if key.startswith(name + ", seeds")), None)
            if seeded is not None:
                families[name] = {
                    **{key: value[0] for key, value in seeded.items()},
                    "spread": {key: value[1] for key, value in seeded.items()},
                    "source": "benchmarks/gan.py, mean over seeds",
                }
            elif name in gan_rows:
                families[name] = {**gan_rows[name], "source": "benchmarks/gan.py"}
    else:
        print("benchmarks/results/gan.json is missing (run benchmarks/gan.py): the table shows the VAEs alone.")
    for kl, row in rows.items():
        families[f"VAE ({kl}), from the prior"] = {**row["prior_samples"], "source": "benchmarks/vae.py"}
    return families


def print_tables(rows, families):
    print(f"\n{'KL term':<12}{'held-out accuracy':>19}{'held-out KL (nats)':>20}{'active dims':>13}{'train s':>9}")
    for kl, row in rows.items():
        print(
            f"{kl:<12}{row['held_out_accuracy']:>19.3f}{row['held_out_kl']:>20.2f}{row['active_dimensions']:>13}"
            f"{row['train_seconds']:>9.0f}"
        )
    print(f"\n{'set':<42}{'distinct':>9}{'nearest':>9}{'copies':>8}{'whole':>8}{'mean OA':>9}{'mean KL':>9}   source")
    for name, row in families.items():
        closeness = "".join(
            f"{'-':>9}" if row[key] is None else f"{row[key]:>9.3f}" for key in ("mean_overlap", "mean_kl")
        )
        print(
            f"{name:<42}{row['distinct']:>9.0f}{row['mean_nearest_distance']:>9.2f}{row['copy_rate']:>8.3f}"
            f"{row['verbatim_rate']:>8.3f}{closeness}   {row['source']}"
        )


if __name__ == "__main__":
    main()
