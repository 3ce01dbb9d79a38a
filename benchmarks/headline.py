"""The README's headline figures and benchmarks/README.md's table of lesson times, made from the benchmarks' saved
results (benchmarks/results/*.json).

    .venv/bin/python benchmarks/headline.py          # print the tables
    .venv/bin/python benchmarks/headline.py --write  # and write each into its file, between its two markers

Each row names the benchmark whose JSON it reads and how it reads it, so that the figures are the saved ones and
cannot drift: tests/test_readme.py fails when a file's table is not the one this script makes.
"""

import argparse
import functools
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
README = Path(__file__).resolve().parents[1] / "README.md"
BENCHMARKS_README = Path(__file__).with_name("README.md")
START, END = "<!-- headline figures: start -->", "<!-- headline figures: end -->"
TIMES_START, TIMES_END = "<!-- lesson times: start -->", "<!-- lesson times: end -->"


@functools.cache  # every row reads its benchmark's file: read each once
def _results(name):
    return json.loads((RESULTS / f"{name}.json").read_text())


def _row(rows, model):
    return next(row for row in rows if row["model"] == model)


def _published(name, model, figure):
    row = _row(_results(name)["published"], model)
    return f"{row[figure]:.{3 if name == 'literature' else 2}f} ({row['model']}; {row['source']})"


def _melody(model):
    return f"{_row(_results('melody')['rows'], model)['test']['nll']:.3f}"


def _melody_seeds(family):
    spread = _results("melody")["spread_over_seeds"][family]["nll"]
    return f"{spread['mean']:.3f} ± {spread['std']:.3f} ({spread['seeds']} seeds)"


def _long_context():
    return next(row for row in _results("melody")["rows"] if row["model"].startswith("long-context"))


def _against_lstm(model):
    paired = _results("melody")["paired_differences"][f"{model} − CNN + LSTM"]
    low, high = paired["interval95"]
    return (
        f"{_melody(model)} (one seed; {paired['difference']:+.3f} against the LSTM's seed 0, 95% interval over test "
        f"pieces {low:+.3f} to {high:+.3f})"
    )


def _jsb(model):
    return f"{_row(_results('jsb')['rows'], model)['test']['nll']:.2f}"


def _distinct(name, model):
    row = _results(name)["rows"][model]
    return f"{row['distinct']:,} of {row['count']:,}"


def _active(kl):
    results = _results("vae")
    return f"{results['rows'][kl]['active_dimensions']} of {results['latent_dim']}"


def _best_ppm_told_the_key():
    return next(row["model"] for row in _results("literature")["rows"] if "told the key" in row["model"])


def _best_ppm():
    row = _row(_results("literature")["rows"], "LTM+C*I — STMC*I")
    return f"{row['bits']:.3f}", f"{row['published']['bits']:.3f} ({row['published']['source']})"


def headline_rows():
    """(what, measured here, published, benchmark script) for every headline figure, read from the saved JSON."""
    best_ppm, best_ppm_published = _best_ppm()
    melody_split = "on the chorales' tune-disjoint test split, nats per token (lower is better)"
    return [
        ("Lesson 05's CNN + LSTM: test NLL " + melody_split, _melody_seeds("with the beat input"), "–", "melody"),
        (
            f"The strongest n-gram baseline on the same split ({_long_context()['model']})",
            f"{_long_context()['test']['nll']:.3f}",
            "–",
            "melody",
        ),
        ("Lesson 09's WaveNet on the same split", _melody_seeds("WaveNet"), "–", "melody"),
        (
            "Lesson 10's Transformer on the same split, pretrained on the folk songs, then fine-tuned",
            _against_lstm("Transformer, pretrained"),
            "–",
            "melody",
        ),
        (
            "Training speed of the WaveNet over the LSTM's (training tokens a second, same batches)",
            f"{_results('melody')['training_throughput']['wavenet_over_lstm']:.2f}×",
            "–",
            "melody",
        ),
        (
            "Best PPM system (LTM+C\\*I — STMC\\*I) on Pearce's protocol: chorale melodies, ten folds, bits per note",
            best_ppm,
            best_ppm_published,
            "literature",
        ),
        (
            "Lesson 10's Transformer with PPM's short-term model beside it, same protocol (published: the best "
            "system on it)",
            f"{_row(_results('literature')['rows'], 'Transformer')['bits_with_stm']:.3f}",
            _published("literature", "multiple viewpoints, System D", "bits"),
            "literature",
        ),
        (
            "The best PPM system told the key, as the networks are (each melody moved to C major or A minor): the "
            "like-for-like baseline for the row above",
            f"{_row(_results('literature')['rows'], _best_ppm_told_the_key())['bits']:.3f}",
            "–",
            "literature",
        ),
        (
            "JSB Chorales: lesson 08's LSTM, one sigmoid per key, trained on the chorales as the split gives them, "
            "as the published models were: test NLL in nats per frame",
            _jsb("LSTM, independent keys, no transposition"),
            _published("jsb", "LSTM, re-run by Bai et al.", "test_nll"),
            "jsb",
        ),
        (
            "JSB Chorales: the same LSTM trained on the chorales in all 12 keys (more data: not like for like)",
            _jsb("LSTM, independent keys"),
            "–",
            "jsb",
        ),
        (
            "JSB Chorales: lesson 08's LSTM with a MADE output over the keys, trained in all 12 keys (not like for "
            "like: RNN-NADE trained in the keys the split gives)",
            _jsb("LSTM + MADE over keys"),
            _published("jsb", "RNN-NADE", "test_nll"),
            "jsb",
        ),
        (
            "JSB Chorales: lesson 09's TCN, one sigmoid per key",
            _jsb("TCN, independent keys"),
            _published("jsb", "TCN", "test_nll"),
            "jsb",
        ),
        (
            "Lesson 07: the LSTM's melodies at temperature 1.0 against the held-out chorales, mean overlapping area "
            "(1 = the same)",
            f"{_results('quality')['rows']['CNN + LSTM, T = 1.0']['mean_overlap']:.3f}",
            "–",
            "quality",
        ),
        (
            "The same for real chorales of the training tunes: the reference level",
            f"{_results('quality')['rows']['training chorales']['mean_overlap']:.3f}",
            "–",
            "quality",
        ),
        (
            "Lesson 11's plain GAN (seed 0): distinct fragments among its samples (it collapses)",
            _distinct("gan", "GAN (non-saturating)"),
            "–",
            "gan",
        ),
        (
            "Lesson 11's WGAN-GP (seed 0): distinct fragments among its samples",
            _distinct("gan", "WGAN-GP"),
            "–",
            "gan",
        ),
        (
            "Lesson 12's VAE trained on the plain ELBO: latent dimensions in use (posterior collapse)",
            _active("plain"),
            "–",
            "vae",
        ),
        ("Lesson 12's VAE trained with free bits: latent dimensions in use", _active("free-bits"), "–", "vae"),
        (
            "Lesson 06's numpy step generator: melody steps written a second (median)",
            f"{_results('generation')['rows']['numpy step']['steps_per_second']:,.0f}",
            "–",
            "generation",
        ),
        (
            "Lesson 09's WaveNet with cached queues: steps a second (median)",
            f"{_results('generation')['rows']['WaveNet, cached queues (depth 6)']['steps_per_second']:,.0f}",
            "–",
            "generation",
        ),
        (
            "`musegen grade`: seconds to grade one submission of lesson 03, every check run",
            f"{_results('grading')['per_copy_s']:.1f} s",
            "–",
            "grading",
        ),
        (
            "Sound: midirenderer with the General MIDI soundfont, times faster than real time",
            f"{_results('audio')['backends']['midirenderer']['realtime_factor']:.0f}×",
            "–",
            "audio",
        ),
    ]


def headline_table():
    """The headline figures as the README's Markdown table, between its two markers."""
    lines = [START, "| what | measured here | published (paper, table) | benchmark |", "|---|---|---|---|"]
    for what, measured, published, script in headline_rows():
        link = f"[`benchmarks/{script}.py`](benchmarks/{script}.py)"
        lines.append(f"| {what} | {measured} | {published} | {link} |")
    return "\n".join([*lines, END])


def _figure(value, digits=3):
    """A saved figure as the tables show it: a mean ± standard deviation pair, a count, or a number."""
    if value is None:
        return "–"
    if isinstance(value, list):
        return f"{value[0]:.{digits}f} ± {value[1]:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _markdown(start, header, rows, end):
    lines = [start, "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join([*lines, end])


def melody_table():
    """Every row of melody.json, the seeds' spreads and the paired differences, as benchmarks/README.md shows them."""
    results = _results("melody")
    rows = []
    for row in results["rows"]:
        test, trained = row["test"], row.get("train_seconds")
        rows.append(
            [
                row["model"] + (f" ({row['smoothing']})" if "smoothing" in row else ""),
                f"{row['parameters']:,}",
                f"{test['nll']:.3f}",
                f"{test['accuracy']:.3f}",
                f"{test['onset_accuracy']:.3f}",
                "–" if trained is None else f"{trained:.0f}",
            ]
        )
    for family, spread in results["spread_over_seeds"].items():
        name = family if family == "WaveNet" else f"CNN + LSTM {family}"
        scores = [f"{spread[s]['mean']:.3f} ± {spread[s]['std']:.3f}" for s in ("nll", "accuracy", "onset_accuracy")]
        rows.append([f"{name}, {spread['nll']['seeds']} seeds (mean ± standard deviation)", "", *scores, ""])
    header = ["model", "parameters", "test NLL (nats/token)", "accuracy", "onset accuracy", "training s"]
    table = _markdown("<!-- melody table: start -->", header, rows, "")
    paired = [
        [name, f"{p['difference']:+.4f}", f"{p['interval95'][0]:+.4f} to {p['interval95'][1]:+.4f}"]
        for name, p in results["paired_differences"].items()
    ]
    header = ["difference (seed 0 each)", "nats/token", "95% interval over the test pieces"]
    return table.rstrip() + "\n\n" + _markdown("", header, paired, "<!-- melody table: end -->").lstrip()


def quality_table():
    """Lesson 07's sets against the held-out chorales, and which differences the bootstrap can rank."""
    results = _results("quality")
    rows = []
    for name, row in results["rows"].items():
        features = row["features"]
        rows.append(
            [
                name,
                f"{row['mean_overlap']:.3f}",
                f"{row['mean_overlap_95'][0]:.3f} to {row['mean_overlap_95'][1]:.3f}",
                f"{row['mean_kl']:.3f}",
                f"{features['scale consistency']['generated_mean']:.3f}",
                f"{features['mean |interval|']['generated_mean']:.3f}",
            ]
        )
    header = ["set", "mean OA", "95% interval", "mean KL", "scale consistency", "mean \\|interval\\| (semitones)"]
    table = _markdown("<!-- quality table: start -->", header, rows, "")
    differences = [["training chorales − CNN + LSTM, T = 1.0", *_interval(results["training_minus_model_t1_95"])]]
    differences += [[name, *_interval(interval)] for name, interval in results.get("differences_95", {}).items()]
    header = ["difference of mean OA", "95% interval", "ranked?"]
    return table.rstrip() + "\n\n" + _markdown("", header, differences, "<!-- quality table: end -->").lstrip()


def _interval(interval):
    low, high = interval
    return f"{low:+.3f} to {high:+.3f}", "no: the interval holds 0" if low <= 0 <= high else "yes"


def literature_table():
    """Every row of literature.json on Pearce's protocol, the networks with and without the short-term model, the
    published systems no row measures, then the paired comparisons over the ten folds."""
    results = _results("literature")
    rows = []
    for row in results["rows"]:
        published = row.get("published") or {}
        shown = [(row["model"], row["bits"], row["folds"], published)]
        if "bits_with_stm" in row:
            shown.append((row["model"] + " + STMC*I", row["bits_with_stm"], row["folds_with_stm"], {}))
        for name, bits, folds, published in shown:
            rows.append(
                [
                    name.replace("*", "\\*"),
                    f"{bits:.3f}",
                    f"{published['bits']:.3f}" if published else "–",
                    published.get("source", "–"),
                    f"{min(folds):.2f}–{max(folds):.2f}",
                    f"{row['seconds_per_fold']:g}",
                ]
            )
    measured = {row["published"]["source"] for row in results["rows"] if row.get("published")}
    rows += [
        [e["model"].replace("*", "\\*"), "–", f"{e['bits']:.3f}", e["source"], "", ""]
        for e in results["published"]
        if e["source"] not in measured and "system" not in e
    ]
    header = ["model", "bits per note, measured here", "published", "where", "folds (lowest–highest)", "s a fold"]
    table = _markdown("<!-- literature table: start -->", header, rows, "")
    paired = [
        [
            name.replace("*", "\\*"),
            f"{p['difference']:+.3f}",
            f"{p['interval95'][0]:+.3f} to {p['interval95'][1]:+.3f}",
            f"{p['lower_on']} of {p['folds']}",
        ]
        for name, p in results.get("paired_with_ppm", {}).items()
    ]
    header = ["difference, fold by fold", "bits per note", "95% interval (t, over the folds)", "folds lower"]
    return table.rstrip() + "\n\n" + _markdown("", header, paired, "<!-- literature table: end -->").lstrip()


def jsb_table():
    """Every JSB row, with how long it trained and in how many keys, then the published rows."""
    results = _results("jsb")
    rows = []
    for row in results["rows"]:
        settings = row.get("settings")
        trained = f"{row['train_seconds']:,.0f} ({row['epochs_run']} epochs)" if settings else "–"
        keys = len(settings["augment"]) if settings else "–"
        rows.append(
            [
                row["model"],
                f"{row['parameters']:,}",
                f"{row['valid']['nll']:.2f}",
                f"{row['test']['nll']:.2f}",
                f"{row['test']['accuracy']:.3f}",
                keys,
                trained,
            ]
        )
    rows += [
        [f"*published:* {e['model']} ({e['source']})", "", "", f"{e['test_nll']:.2f}", "", "", ""]
        for e in results["published"]
    ]
    header = [
        "model",
        "parameters",
        "valid NLL",
        "test NLL (nats/frame)",
        "frame accuracy",
        "keys trained in",
        "training s",
    ]
    return _markdown("<!-- jsb table: start -->", header, rows, "<!-- jsb table: end -->")


SAMPLE_COLUMNS = {
    "distinct": ("distinct", 0),
    "mean_nearest_distance": ("nearest (steps)", 2),
    "copy_rate": ("copies", 3),
    "verbatim_rate": ("found whole", 3),
    "mean_overlap": ("mean OA", 3),
    "mean_kl": ("mean KL", 3),
}


def _sample_rows(rows):
    return [
        [name, *(_figure(row.get(key), digits) for key, (_, digits) in SAMPLE_COLUMNS.items())]
        for name, row in rows.items()
    ]


def gan_table():
    """Lesson 11's sets of samples: collapse, copying and closeness, the GANs' seeds as mean ± standard deviation."""
    header = ["samples", *(label for label, _ in SAMPLE_COLUMNS.values())]
    rows = _sample_rows(_results("gan")["rows"])
    return _markdown("<!-- gan table: start -->", header, rows, "<!-- gan table: end -->")


def vae_table():
    """Lesson 12's KL terms, then the families side by side."""
    results = _results("vae")
    header = ["KL term", "held-out accuracy", "held-out KL (nats)", "active dimensions", "training s"]
    rows = [
        [
            kl,
            f"{row['held_out_accuracy']:.3f}",
            f"{row['held_out_kl']:.2f}",
            row["active_dimensions"],
            f"{row['train_seconds']:.0f}",
        ]
        for kl, row in results["rows"].items()
    ]
    table = _markdown("<!-- vae table: start -->", header, rows, "")
    families = {f"{name} ({row['source']})": row for name, row in results["families"].items()}
    header = ["samples", *(label for label, _ in SAMPLE_COLUMNS.values())]
    return table.rstrip() + "\n\n" + _markdown("", header, _sample_rows(families), "<!-- vae table: end -->").lstrip()


def lesson_times_table():
    """Every lesson's time in full mode, from benchmarks/lessons.py's last run of it, as a Markdown table."""
    results = _results("lessons")
    lines = [TIMES_START, "| lesson | full mode on 2 cores | within the limit |", "|---|---|---|"]
    for name, run in results["lessons"].items():
        within = "yes" if run["within_limit"] else f"**no** (limit {results['limit_seconds'] / 60:.0f} min)"
        status = "" if run["status"] == "ok" else f" ({run['status'][:60]})"
        lines.append(f"| {name} | {run['seconds'] / 60:.1f} min{status} | {within} |")
    return "\n".join([*lines, TIMES_END])


def write_between(path, start, end, table):
    """Replace what lies between a file's two markers with `table` (which carries the markers)."""
    text = path.read_text()
    if start not in text or end not in text:
        print(f"{path} has no '{start}' … '{end}' markers to write between.", file=sys.stderr)
        return False
    before, rest = text.split(start, 1)
    path.write_text(before + table + rest.split(end, 1)[1])
    print(f"Written into {path}")
    return True


def all_tables():
    """(file, start marker, end marker, table) for every table this script writes."""
    tables = [(README, START, END, headline_table()), (BENCHMARKS_README, TIMES_START, TIMES_END, lesson_times_table())]
    makers = (
        ("melody", melody_table),
        ("quality", quality_table),
        ("jsb", jsb_table),
        ("gan", gan_table),
        ("vae", vae_table),
    )
    for name, make in makers:
        tables.append((BENCHMARKS_README, f"<!-- {name} table: start -->", f"<!-- {name} table: end -->", make()))
    return tables


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write each table into its file")
    tables = all_tables()
    for *_, table in tables:
        print(table)
    if parser.parse_args().write:
        return 0 if all([write_between(*target) for target in tables]) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
