"""The course's melody models against the published table, on its own protocol (lesson 05).

Pearce (2005) measures models of melody on the 185 chorale melodies BWV 253–438: ten folds, each model trained on
nine and predicting the pitch of every note of the tenth, in bits per note. This script reads music21's chorales
BWV 253–438 (`protocol.load_protocol_melodies`), takes the course's saved folds (data/literature/), and measures:

- the PPM systems of Pearce's Table 6.7, from Conklin & Witten's (LTM+B3 — STMB2) to LTM+C*I — STMC*I, one change
  at a time; the first again with escape B read as IDyOM's code reads it (a symbol seen once stays excluded in
  the shorter contexts); the parts of the last one alone (Table 6.6); then PPM with IDyOM's settings of today
  (LTM+C*I — STMX*UI, geometric combination with bias 7);
- the course's melody networks (lesson 05's CNN + LSTM, lesson 09's WaveNet, lesson 10's Transformer on the chorales
  alone), each trained on eight folds with the ninth watched for early stopping, and tested on the tenth, ten
  times, with the training recipe of `benchmarks/melody.py` (the Transformer for 550 steps, half its budget there:
  eight folds hold about half as many windows). A network predicts a token every 16th note; at each step where a
  note starts, its distribution over the pitches, renormalised, is p(pitch | everything before, and that a note
  starts here) (`literature.network_pitch_distributions`). The networks read each melody moved to C major or A
  minor by its key (`protocol.key_normalise`), as Pearce's viewpoints are told the tonic by the key signature;
  the pitches they predict are moved back. Each is scored alone and with PPM's short-term model beside it
  (`literature.add_short_term_model`, C*I, weighted arithmetic mean with bias 2), as PPM's long-term model is.

The best PPM system runs a second time on the melodies moved to C major or A minor, as the networks read them, so
that the difference of protocol (told the key or not) is measured apart from the difference of model; and every
network is compared with both, fold by fold (`literature.paired_folds`: the mean difference over the ten folds with a
95% t-interval).

Each row prints beside the published figure for the same system where there is one. Writes
benchmarks/results/literature.json, after every fold of every network, so that a stopped run can go on:

    .venv/bin/python benchmarks/literature.py              # about an hour on 2 cores (the PPM rows: 1 minute)
    .venv/bin/python benchmarks/literature.py --reuse      # keep the folds already measured in literature.json
    .venv/bin/python benchmarks/literature.py --networks none  # the PPM rows only
"""

import argparse
import dataclasses
import json
import time

import numpy as np
from _results import RESULTS, save_results

from musegen_lessons.corpora.protocol import (
    fold_dataset,
    key_normalise,
    load_folds,
    load_protocol_melodies,
    sounding_pitches,
    split_fold,
    tunes_across_folds,
)
from musegen_lessons.evaluation.literature import (
    PPM_SYSTEMS,
    PUBLISHED,
    add_short_term_model,
    bits_per_note,
    first_note_distribution,
    network_pitch_distributions,
    note_probabilities,
    paired_folds,
    published_for,
    score_ppm,
)
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()  # before anything imports TensorFlow

B_AS_IDYOM_CODE = "LTM+B3 — STMB2, escape B as IDyOM's code reads it"
# Our second reading of Conklin & Witten's system stands beside the same published figure.
PUBLISHED_AS = {B_AS_IDYOM_CODE: "LTM+B3 — STMB2"}
C_STAR_I = {"order": None, "escape": "c", "interpolated": True}
PPM_PARTS = {
    B_AS_IDYOM_CODE: {  # a symbol seen once in a context stays excluded below it (see `ppm.PPM`)
        "ltm": {"order": 3, "escape": "b", "interpolated": False, "exclude": "seen"},
        "stm": {"order": 2, "escape": "b", "interpolated": False, "exclude": "seen"},
    },
    "STMC*I alone": {"ltm": None, "stm": C_STAR_I},
    "LTMC*I alone": {"ltm": C_STAR_I, "stm": None, "learn": False},
    "LTM+C*I alone": {"ltm": C_STAR_I, "stm": None},
    "LTM+C*I — STMX*UI, geometric, bias 7 (IDyOM's defaults today)": {
        "ltm": C_STAR_I,
        "stm": {"order": None, "escape": "x", "interpolated": True, "update_exclusion": True},
        "bias": 7,
        "combination": "geometric",
    },
}
BEST_PPM = "LTM+C*I — STMC*I"
BEST_PPM_IN_C = f"{BEST_PPM}, told the key (melodies in C major or A minor, as the networks read them)"
NETWORKS = ("WaveNet", "CNN + LSTM", "Transformer")
IN_C = True  # the networks read each melody in C major or A minor, told its key as Pearce's viewpoints are
TRANSFORMER_STEPS = 550  # half of lesson 10's budget: the training folds hold about half as many windows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="keep the network folds already measured")
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated, or 'none'")
    arguments = parser.parse_args()
    networks = [] if arguments.networks == "none" else [n.strip() for n in arguments.networks.split(",")]
    unknown = set(networks) - set(NETWORKS)
    if unknown:
        parser.error(f"unknown networks {sorted(unknown)}; choose from {NETWORKS}")

    corpus = load_protocol_melodies()
    folds = load_folds(corpus.pieces)
    print(corpus.report())
    print(f"{len(folds)} folds of {', '.join(str(len(f)) for f in folds)} melodies (data/literature/)")

    rows = []
    for name, (ltm, stm) in PPM_SYSTEMS.items():
        rows.append(ppm_row(name, corpus, folds, ltm=ltm, stm=stm))
    for name, settings in PPM_PARTS.items():
        rows.append(ppm_row(name, corpus, folds, **settings))
    in_c = dataclasses.replace(corpus, pieces=[key_normalise(p) for p in corpus.pieces])
    ltm, stm = PPM_SYSTEMS[BEST_PPM]
    rows.append(ppm_row(BEST_PPM_IN_C, in_c, folds, ltm=ltm, stm=stm, pitches=sounding_pitches))

    kept = {}
    if arguments.reuse and (RESULTS / "literature.json").is_file():
        kept = {r["model"]: r for r in json.loads((RESULTS / "literature.json").read_text())["rows"] if "network" in r}
    network_rows = {name: kept.get(name) for name in NETWORKS if kept.get(name)}
    for name in networks:
        row = network_rows.get(name) or {"model": name, "network": True, "fold_results": []}
        network_rows[name] = row
        for fold in range(len(folds)):
            if any(result["fold"] == fold for result in row["fold_results"]):
                continue
            row["fold_results"].append(network_fold(name, corpus, folds, fold))
            summarise_network(row)
            save(corpus, folds, rows + list(network_rows.values()))  # after every fold: a stopped run can go on
    for row in network_rows.values():
        summarise_network(row)
    rows += list(network_rows.values())
    print_table(rows)
    save(corpus, folds, rows, paired_comparisons(rows))


def paired_comparisons(rows):
    """Every network, alone and with the short-term model, against the best PPM system on absolute pitch and told the
    key, fold by fold."""
    by_name = {row["model"]: row for row in rows}
    comparisons = {}
    for row in rows:
        if not row.get("network") or row.get("folds_measured") != len(row["folds"]) or len(row["folds"]) < 2:
            continue
        for label, folds in ((row["model"], row["folds"]), (f"{row['model']} + STMC*I", row["folds_with_stm"])):
            for baseline in (BEST_PPM, BEST_PPM_IN_C):
                paired = paired_folds(folds, by_name[baseline]["folds"])
                comparisons[f"{label} − {baseline}"] = paired
                low, high = paired["interval95"]
                print(
                    f"{label} − {baseline}: {paired['difference']:+.3f} bits/note, 95% interval {low:+.3f} to "
                    f"{high:+.3f}, lower on {paired['lower_on']} of {paired['folds']} folds"
                )
    return comparisons


def ppm_row(name, corpus, folds, **settings):
    scored = score_ppm(corpus, folds, **settings)
    published = published_for(PUBLISHED_AS.get(name, name))
    row = {
        "model": name,
        "bits": round(scored["bits"], 4),
        "folds": [round(b, 4) for b in scored["folds"]],
        "mean_of_folds": round(float(np.mean(scored["folds"])), 4),
        "notes": scored["notes"],
        "seconds_per_fold": round(scored["seconds"] / len(folds), 2),
        "published": None if published is None else {"bits": published["bits"], "source": published["source"]},
    }
    print(f"{name}: {row['bits']:.3f} bits per note ({row['seconds_per_fold']:.1f} s a fold)")
    return row


def network_fold(name, corpus, folds, fold):
    """Train one network on the folds other than `fold` (one of them watched for early stopping), and score `fold`
    alone and with a short-term model beside it."""
    from musegen_lessons.families.lstm import EPOCHS, build_melody_model
    from musegen_lessons.families.training import train_melody_model
    from musegen_lessons.families.transformer import TRANSFORMER_TRAINING, train_transformer
    from musegen_lessons.families.wavenet import MELODY_TRAINING, build_wavenet_model

    if name == "Transformer":
        window = TRANSFORMER_TRAINING["window_steps"]
        dataset = fold_dataset(corpus, folds, fold, window_steps=window, in_c=IN_C)
        model, history, seconds = train_transformer(dataset, steps=TRANSFORMER_STEPS, verbose=0)
    else:
        dataset = fold_dataset(corpus, folds, fold, in_c=IN_C)
        settings = (
            {"build": build_melody_model, "epochs": EPOCHS}
            if name == "CNN + LSTM"
            else {"build": build_wavenet_model, **MELODY_TRAINING}
        )
        model, history, seconds = train_melody_model(dataset, verbose=0, **settings)
    train, _ = split_fold(corpus.pieces, folds, fold)
    test = dataset.pieces["test"]
    first_notes = first_note_distribution(train, corpus.alphabet)
    distributions = network_pitch_distributions(model, test, dataset.vocabulary, corpus.alphabet, first_notes)
    alone = note_probabilities(distributions, test, corpus.alphabet)
    with_stm = note_probabilities(add_short_term_model(distributions, test, corpus.alphabet), test, corpus.alphabet)
    result = {
        "fold": fold,
        "bits": round(bits_per_note(alone), 4),
        "bits_with_stm": round(bits_per_note(with_stm), 4),
        "notes": int(len(alone)),
        "train_seconds": round(seconds, 1),
        "rounds_or_epochs": len(history["loss"]),
        "parameters": int(model.count_params()),
        "training_pieces": len(dataset.pieces["train"]),
        "log2_sum": float(np.log2(alone).sum()),
        "log2_sum_with_stm": float(np.log2(with_stm).sum()),
    }
    print(
        f"{name}, fold {fold}: {result['bits']:.3f} bits per note, {result['bits_with_stm']:.3f} with the STM, "
        f"trained {seconds:.0f} s"
    )
    return result


def summarise_network(row):
    """The figures of a network's row (and of its row with the STM) from its folds measured so far."""
    results = sorted(row["fold_results"], key=lambda r: r["fold"])
    notes = sum(r["notes"] for r in results)
    row.update(
        {
            "fold_results": results,
            "bits": round(-sum(r["log2_sum"] for r in results) / notes, 4),
            "folds": [r["bits"] for r in results],
            "bits_with_stm": round(-sum(r["log2_sum_with_stm"] for r in results) / notes, 4),
            "folds_with_stm": [r["bits_with_stm"] for r in results],
            "mean_of_folds": round(float(np.mean([r["bits"] for r in results])), 4),
            "notes": notes,
            "folds_measured": len(results),
            "seconds_per_fold": round(float(np.mean([r["train_seconds"] for r in results])), 1),
            "parameters": results[0]["parameters"],
            "published": None,
        }
    )


def print_table(rows):
    print(f"\n{'model':<66}{'bits/note':>10}{'published':>11}  {'where':<20}{'s/fold':>8}")
    shown = []
    for row in rows:
        shown.append(row)
        if "bits_with_stm" in row:
            shown.append({**row, "model": f"{row['model']} + STMC*I", "bits": row["bits_with_stm"]})
    for row in shown:
        published = row.get("published")
        figure = f"{published['bits']:.3f}" if published else "-"
        partial = "" if row.get("folds_measured", 10) == 10 else f" ({row['folds_measured']} folds)"
        print(
            f"{row['model'] + partial:<66}{row['bits']:>10.3f}{figure:>11}  "
            f"{published['source'] if published else '':<20}{row['seconds_per_fold']:>8.1f}"
        )
    print("\npublished only:")
    for entry in (e for e in PUBLISHED if "system" not in e):  # the others stand beside their rows above
        print(f"  {entry['model']:<64}{entry['bits']:>10.3f}  {entry['source']}")


def save(corpus, folds, rows, paired=None):
    save_results(
        "literature",
        {
            "benchmark": "pitch prediction, chorale melodies BWV 253-438, 10-fold cross-validation, bits per note",
            "melodies": len(corpus.pieces),
            "notes": corpus.notes,
            "alphabet": corpus.alphabet,
            "dropped_notes": corpus.dropped_notes,
            "fold_sizes": [len(f) for f in folds],
            # the folds deal out melodies, not tunes, as Pearce's do: these share their tune across folds
            "melodies_sharing_a_tune_across_folds": len(tunes_across_folds(corpus, folds)),
            "rows": rows,
            "paired_with_ppm": paired or {},
            "published": PUBLISHED,
            "written": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )


if __name__ == "__main__":
    main()
