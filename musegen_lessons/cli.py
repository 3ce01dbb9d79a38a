"""The `musegen` command: release the student edition, grade submissions.

Lesson: 00_welcome (for instructors: see the README's instructor guide)
"""

import argparse
import sys
from pathlib import Path

from .errors import MuseGenError


def main(argv=None):
    parser = argparse.ArgumentParser(prog="musegen", description="MuseGen Lessons: tools for the course.")
    commands = parser.add_subparsers(dest="command", required=True)

    release_parser = commands.add_parser("release", help="write notebooks/ (student edition) from solutions/")
    release_parser.add_argument("--check", action="store_true", help="only compare; exit 1 if they differ")
    release_parser.add_argument("--force", action="store_true", help="overwrite notebooks that hold student work")
    release_parser.add_argument("--solutions", default="solutions", help="folder of the solution edition")
    release_parser.add_argument("--notebooks", default="notebooks", help="folder of the student edition")

    grade_parser = commands.add_parser("grade", help="grade submitted notebooks (runs a copy of each)")
    grade_parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    grade_parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    grade_parser.add_argument("--timeout", type=float, default=120, metavar="SECONDS", help="limit per cell")
    grade_parser.add_argument("--full", action="store_true", help="run in full mode instead of quick mode")

    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            return _release(args)
        return _grade(args)
    except MuseGenError as error:
        print(f"musegen {args.command}: {error}", file=sys.stderr)
        return 2


def _release(args):
    from .release import release

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


def _grade(args):
    from .grade import format_table, grade_notebook, results_to_json

    from .errors import GradeError

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


if __name__ == "__main__":
    sys.exit(main())
