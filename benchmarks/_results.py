"""What every benchmark does last: save its figures as JSON in benchmarks/results/, with the machine that made them.

Times differ from one machine to another, figures should not: the record says on what the times were measured.
"""

import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).with_name("results")


def save_results(name, figures):
    """Write `figures` (a dict) and the machine to benchmarks/results/NAME.json; print where; return the path."""
    machine = {"python": platform.python_version(), "cores": os.cpu_count(), "processor": _processor()}
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({**figures, "machine": machine}, indent=1) + "\n")
    print(f"Written to {path}")
    return path


def _processor():
    """The processor's model name where the system says it (Linux), else its architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()
