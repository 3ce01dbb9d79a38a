"""The README's headline figures, made from the benchmarks' saved results (benchmarks/results/*.json).

    .venv/bin/python benchmarks/headline.py          # print the table
    .venv/bin/python benchmarks/headline.py --write  # and write it into README.md, between its two markers

Each row names the benchmark whose JSON it reads and how it reads it, so that the README's figures are the saved
ones and cannot drift: tests/test_readme.py fails when the README's table is not the one this script makes.
"""

import argparse
import functools
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- headline figures: start -->", "<!-- headline figures: end -->"


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


def _jsb(model):
    return f"{_row(_results('jsb')['rows'], model)['test']['nll']:.2f}"


def _distinct(name, model):
    row = _results(name)["rows"][model]
    return f"{row['distinct']:,} of {row['count']:,}"


def _active(kl):
    results = _results("vae")
    return f"{results['rows'][kl]['active_dimensions']} of {results['latent_dim']}"


def _best_ppm():
    row = _row(_results("literature")["rows"], "LTM+C*I — STMC*I")
    return f"{row['bits']:.3f}", f"{row['published']['bits']:.3f} ({row['published']['source']})"


def headline_rows():
    """(what, measured here, published, benchmark script) for every headline figure, read from the saved JSON."""
    best_ppm, best_ppm_published = _best_ppm()
    melody_split = "on the chorales' tune-disjoint test split, nats per token (lower is better)"
    return [
        ("Lesson 05's CNN + LSTM: test NLL " + melody_split, _melody("CNN + LSTM"), "–", "melody"),
        (
            "The strongest n-gram baseline on the same split (long-context, Kneser–Ney)",
            _melody("long-context 12-gram"),
            "–",
            "melody",
        ),
        ("Lesson 09's WaveNet on the same split", _melody("WaveNet"), "–", "melody"),
        (
            "Lesson 10's Transformer on the same split, pretrained on the folk songs, then fine-tuned",
            _melody("Transformer, pretrained"),
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
            "JSB Chorales: lesson 08's LSTM, one sigmoid per key, test NLL in nats per frame (see below)",
            _jsb("LSTM, independent keys"),
            _published("jsb", "LSTM, re-run by Bai et al.", "test_nll"),
            "jsb",
        ),
        (
            "JSB Chorales: lesson 08's LSTM with a MADE output over the keys (see below)",
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the table into README.md")
    table = headline_table()
    print(table)
    if parser.parse_args().write:
        text = README.read_text()
        if START not in text or END not in text:
            print(f"README.md has no '{START}' … '{END}' markers to write between.", file=sys.stderr)
            return 1
        before, rest = text.split(START, 1)
        README.write_text(before + table + rest.split(END, 1)[1])
        print(f"Written into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
