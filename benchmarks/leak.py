"""What the old split's leak was worth: the kept LSTM's recipe trained on the split by exact fingerprint (lesson 02,
the course's split up to version 0.2), scored on that split's test pieces whose tune is also in its training split
(by `splits.group_by_tune`, which survives a passing note) and on the clean rest.

The model is trained as `musegen train` trains the kept LSTM (lesson 05's recipe, seed 0), on the old split; or,
with --model, a model that was trained on the old split is scored instead: the kept LSTM of version 0.2, for example,
which git keeps (`git show af9b882:data/models/melody/melody.keras`, with its vocabulary.json and metrics.json, into
one folder). The figures say how much lower the test NLL looked because the model had learned some test pieces'
tunes. Each run is kept in benchmarks/results/leak.json under its label.

    .venv/bin/python benchmarks/leak.py                                  # about 5 minutes on 2 cores
    .venv/bin/python benchmarks/leak.py --model DIR --label "kept LSTM of version 0.2"
"""

import argparse
import json
import time
from pathlib import Path

from _results import RESULTS, save_results

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.corpora.splits import SPLITS, group_by_tune, split_by_fingerprint, split_by_tune
from musegen_lessons.evaluation.likelihood import evaluate_model
from musegen_lessons.families.lstm import EPOCHS, build_melody_model
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.families.training import train_melody_model
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()  # before anything imports TensorFlow


def leaked_ids(pieces, by_split):
    """The ids of the test pieces whose tune (`group_by_tune`) has a piece in the training split."""
    tune_of = {pieces[i].id: tune for tune, members in group_by_tune(pieces).items() for i in members}
    training_tunes = {tune_of[p.id] for p in by_split["train"]}
    return [p.id for p in by_split["test"] if tune_of[p.id] in training_tunes]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, metavar="DIR", help="score this model instead of training one")
    parser.add_argument("--label", default="lesson 05's recipe, seed 0, trained here on the old split")
    args = parser.parse_args()
    pieces = load_melodies("chorales", quick=False).pieces
    dataset = build_dataset(pieces, window_steps=64, stride=4, split=split_by_fingerprint)
    print(dataset.summary())
    run = {}
    if args.model:
        model, vocabulary, _ = load_melody_model(args.model)
    else:
        start = time.perf_counter()
        model, history, _ = train_melody_model(dataset, build_melody_model, EPOCHS, seed=0)
        run = {"epochs_run": len(history["loss"]), "train_seconds": round(time.perf_counter() - start, 1)}
        vocabulary = dataset.vocabulary
    leaked = leaked_ids(pieces, dataset.pieces)
    test = dataset.pieces["test"]
    sets = {
        "old test": test,
        "leaked": [p for p in test if p.id in leaked],
        "clean": [p for p in test if p.id not in leaked],
    }
    run["scores"] = {name: evaluate_model(model, members, vocabulary) for name, members in sets.items()}
    for name, score in run["scores"].items():
        print(f"{name:<9} {len(sets[name]):>3} pieces {score['tokens']:>6,} tokens   NLL {score['nll']:.4f}")
    print(f"leaked: {', '.join(leaked)}")
    path = RESULTS / "leak.json"
    runs = json.loads(path.read_text())["runs"] if path.is_file() else {}
    new = split_by_tune(pieces)
    save_results(
        "leak",
        {
            "old_split_pieces": {name: len(dataset.pieces[name]) for name in SPLITS},
            "new_split_pieces": {name: len(new[name]) for name in SPLITS},
            "leaked_ids": leaked,
            "runs": {**runs, args.label: run},
        },
    )


if __name__ == "__main__":
    main()
