"""The `musegen` command: release the student edition, grade submissions.

Lesson: 00_welcome (for instructors: see INSTRUCTORS.md)
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.course.book import build_site
from musegen_lessons.course.checks.environment import installed_version
from musegen_lessons.course.composer import compose_melody
from musegen_lessons.course.grade import exercise_table, format_table, grade_notebook, results_to_json
from musegen_lessons.course.release import release
from musegen_lessons.errors import GradeError, MuseGenError
from musegen_lessons.evaluation.likelihood import evaluate_model
from musegen_lessons.families.lstm import EPOCHS, build_melody_model
from musegen_lessons.families.saving import save_melody_model
from musegen_lessons.families.training import train_melody_model
from musegen_lessons.families.transformer import TRANSFORMER_TRAINING, pretraining_pieces, train_transformer
from musegen_lessons.lesson import quiet_tensorflow


def at_least_one(text):
    """An argparse type: a whole number of at least 1 (epochs, steps, units)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def above_zero(text):
    """An argparse type: a number above 0 (a temperature, a tempo, a learning rate)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


def share(text):
    """An argparse type: a share in (0, 1] (nucleus sampling's top-p)."""
    value = above_zero(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1], not {text!r}")
    return value


def main(argv=None):
    """Run a `musegen` command; return its exit status (2 for a bad argument or input, with a message)."""
    parser = argparse.ArgumentParser(prog="musegen", description="MuseGen Lessons: tools for the course.")
    commands = parser.add_subparsers(dest="command", required=True)

    release_parser = commands.add_parser("release", help="write notebooks/ (student edition) from solutions/")
    release_parser.add_argument("--check", action="store_true", help="only compare; exit 1 if they differ")
    release_parser.add_argument("--force", action="store_true", help="overwrite notebooks that hold student work")
    release_parser.add_argument("--solutions", default="solutions", help="folder of the solution edition")
    release_parser.add_argument("--notebooks", default="notebooks", help="folder of the student edition")

    grade_parser = commands.add_parser("grade", help="grade submitted notebooks, each exercise in a process of its own")
    grade_parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    grade_parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    grade_parser.add_argument("--timeout", type=float, default=120, metavar="SECONDS", help="limit per exercise")
    grade_parser.add_argument("--full", action="store_true", help="run in full mode instead of quick mode")
    book_parser = commands.add_parser("book", help="build the course's website in build/book/ (Sphinx, MyST-NB)")
    book_parser.add_argument("--quick", action="store_true", help="execute the lessons in quick mode (for tests)")
    commands.add_parser("exercises", help="list the exercises: what each answer may rely on, and its references")

    train_parser = commands.add_parser("train", help="train the melody model and save it with its metrics")
    train_parser.add_argument(
        "--architecture",
        choices=sorted(RECIPES),
        default="lstm",
        help="lesson 05's CNN + LSTM (the default), or lesson 10's Transformer, trained for its own budget "
        "(transformer.TRANSFORMER_TRAINING): pretrained on the folk songs, then fine-tuned on --corpus; "
        "--epochs, --window, --batch-size, --learning-rate and the sizes of layers are the LSTM's",
    )
    train_parser.add_argument(
        "--no-pretrain", action="store_true", help="the Transformer only: train on --corpus alone, the same budget"
    )
    train_parser.add_argument(
        "--steps",
        type=at_least_one,
        default=None,
        help="the Transformer only: its budget of training steps (default: transformer.TRANSFORMER_TRAINING's)",
    )
    train_parser.add_argument("--corpus", choices=("chorales", "folk"), default="chorales")
    train_parser.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="only the first N chorales (or folk-song books); default all",
    )
    train_parser.add_argument(
        "--epochs",
        type=at_least_one,
        default=EPOCHS,
        help=f"most epochs (early stopping may end sooner); default {EPOCHS}, which fits 5 minutes on 2 cores",
    )
    train_parser.add_argument(
        "--window", type=at_least_one, default=64, metavar="STEPS", help="window length in 16th notes"
    )
    train_parser.add_argument(
        "--stride", type=at_least_one, default=4, metavar="STEPS", help="steps between training windows"
    )
    train_parser.add_argument("--batch-size", type=at_least_one, default=64)
    train_parser.add_argument("--learning-rate", type=above_zero, default=2e-3)
    train_parser.add_argument("--lstm-units", type=at_least_one, default=128)
    train_parser.add_argument("--lstm-layers", type=at_least_one, default=2)
    train_parser.add_argument("--conv-filters", type=at_least_one, default=64)
    train_parser.add_argument(
        "--augment",
        type=int,
        default=0,
        metavar="SEMITONES",
        help="add training copies transposed by up to ± this many semitones (0: none)",
    )
    train_parser.add_argument("--seed", type=int, default=0)
    train_parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the model files")

    compose_parser = commands.add_parser("compose", help="write a new melody as .mid, .wav and .svg")
    compose_parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the files")
    compose_parser.add_argument(
        "--seed-notes",
        default="C4 D4 E4",
        metavar="NOTES",
        help="the opening, e.g. 'C4 D4 E4:2' (name[:quarters]; r for a rest)",
    )
    compose_parser.add_argument(
        "--temperature", type=above_zero, default=0.9, help="above 0; use a small value such as 0.1 for nearly greedy"
    )
    compose_parser.add_argument("--top-k", type=at_least_one, default=None)
    compose_parser.add_argument("--top-p", type=share, default=None)
    compose_parser.add_argument("--length", type=at_least_one, default=128, metavar="STEPS", help="new 16th-note steps")
    compose_parser.add_argument("--key", default="C major", help="e.g. 'D major', 'F# minor'")
    compose_parser.add_argument("--tempo", type=above_zero, default=100, metavar="BPM")
    compose_parser.add_argument("--seed", type=int, default=0, help="random seed: the same seed, the same melody")
    compose_parser.add_argument(
        "--model",
        default="lstm",
        metavar="NAME_OR_DIR",
        help="a kept model, 'lstm' (lesson 05, the default) or 'transformer' (lesson 10), or a folder that "
        "`musegen train` wrote",
    )

    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage and what was wrong (status 2), or the help (0)
        return stop.code
    quiet_tensorflow()
    try:
        if args.command == "release":
            return _release(args)
        if args.command == "train":
            return _train(args, argv)
        if args.command == "compose":
            return _compose(args)
        if args.command == "book":
            return _book(args)
        if args.command == "exercises":
            print(exercise_table())
            return 0
        return _grade(args)
    except MuseGenError as error:
        print(f"musegen {args.command}: {error}", file=sys.stderr)
        return 2


def _release(args):

    changed = release(args.solutions, args.notebooks, check=args.check, force=args.force)
    if args.check:
        if changed:
            print("The student edition is out of sync with solutions/; run `make release`:")
            print("\n".join(f"  {path}" for path in changed))
            return 1
        print(f"The student edition in {args.notebooks}/ matches {args.solutions}/.")
        return 0
    print(f"Wrote {len(changed)} notebook(s)" + "".join(f"\n  {path}" for path in changed))
    return 0


def _book(args):

    html = build_site(quick=args.quick)
    print(f"The site is in {html}/; to read it, serve it: python -m http.server --directory {html}")
    return 0


def _grade(args):

    graded, unreadable = {}, 0
    for path in args.notebooks:
        try:
            graded[path] = grade_notebook(path, timeout=args.timeout, quick=not args.full)
        except GradeError as error:  # one bad submission must not stop the grading of the others
            print(f"musegen grade: {error}", file=sys.stderr)
            unreadable += 1
            continue
        print(format_table(path, graded[path]))
    if args.json:
        args.json.write_text(results_to_json(graded) + "\n")
        print(f"Results written to {args.json}")
    return 2 if unreadable else 0


def _train(args, argv):
    """Train a melody model by its architecture's recipe (`RECIPES`), measure it, and save it with its metrics."""
    corpus = load_melodies(args.corpus, limit=args.limit, quick=False)
    print(corpus.report())
    dataset, model, history, seconds = RECIPES[args.architecture](corpus, args)
    metrics = {
        "command": "musegen " + " ".join(argv if argv is not None else sys.argv[1:]),
        "corpus": args.corpus,
        "pieces": {split: len(pieces) for split, pieces in dataset.pieces.items()},
        "parameters": int(model.count_params()),
        "epochs_run": len(history["loss"]),
        "train_seconds": round(seconds, 1),
        "history": {
            key: [v if isinstance(v, str) else round(float(v), 4) for v in values] for key, values in history.items()
        },
        "valid": evaluate_model(model, dataset.pieces["valid"], dataset.vocabulary),
        "test": evaluate_model(model, dataset.pieces["test"], dataset.vocabulary),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "tensorflow": installed_version("tensorflow"),
            "keras": installed_version("keras"),
        },
    }
    save_melody_model(model, dataset.vocabulary, metrics, args.out)
    print(f"trained {metrics['epochs_run']} epochs in {seconds:.0f} s; {metrics['parameters']:,} parameters")
    for split in ("valid", "test"):
        scores = metrics[split]
        print(
            f"{split:<6} NLL {scores['nll']:.4f} nats/token   accuracy {scores['accuracy']:.3f}   "
            f"onset accuracy {scores['onset_accuracy']:.3f}   ({scores['tokens']:,} tokens)"
        )
    print(f"saved to {args.out}/")
    return 0


def _train_lstm(corpus, args):
    """Lesson 05's recipe: windows of --window steps, the sizes and budget the arguments give."""
    augment = range(-args.augment, args.augment + 1) if args.augment else ()
    dataset = build_dataset(
        corpus.pieces, window_steps=args.window, stride=args.stride, augment=augment, seed=args.seed
    )
    print(dataset.summary())
    model, history, seconds = train_melody_model(
        dataset,
        build_melody_model,
        args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        lstm_units=args.lstm_units,
        lstm_layers=args.lstm_layers,
        conv_filters=args.conv_filters,
    )
    return dataset, model, history, seconds


def _train_transformer(corpus, args):
    """Lesson 10's recipe: windows of its own length, the folk songs for pretraining (unless --no-pretrain)."""
    window = TRANSFORMER_TRAINING["window_steps"]
    dataset = build_dataset(corpus.pieces, window_steps=window, stride=args.stride, seed=args.seed)
    print(dataset.summary())
    folk = None
    if not args.no_pretrain:
        songs = pretraining_pieces(load_melodies("folk", quick=False).pieces, dataset.vocabulary)
        folk = build_dataset(
            songs, window_steps=window, stride=window // 4, seed=args.seed, vocabulary=dataset.vocabulary
        )
        print(f"pretraining on {len(songs):,} folk songs in the same vocabulary")
    budget = {"steps": args.steps} if args.steps else {}
    model, history, seconds = train_transformer(dataset, folk, seed=args.seed, **budget)
    return dataset, model, history, seconds


# `musegen train --architecture NAME`: each recipe reads the corpus's pieces and the arguments, and returns
# (dataset, model, history, seconds), which `_train` measures and saves the same way for every architecture.
RECIPES = {"lstm": _train_lstm, "transformer": _train_transformer}


def _compose(args):
    with tempfile.TemporaryDirectory(prefix="musegen-compose-") as scratch:
        # everything is written to a scratch folder first, so a failure leaves nothing half-written in --out
        written = compose_melody(
            Path(scratch),
            seed_notes=args.seed_notes,
            length=args.length,
            temperature=args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            key=args.key,
            tempo_bpm=args.tempo,
            seed=args.seed,
            model_dir=args.model,
        )
        args.out.mkdir(parents=True, exist_ok=True)
        for path in written:
            shutil.move(str(path), args.out / path.name)
    for path in written:
        print(args.out / path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
