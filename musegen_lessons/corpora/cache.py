"""The corpus cache and the work behind it: reading many pieces on every core, then keeping what was read as JSON
(never pickle) in the user's cache folder, whole or not at all, built once however many lessons ask at the same
time.

Lesson: 02_preprocessing
"""

import contextlib
import json
import os
import sys
from pathlib import Path

CACHE_ENV = "MUSEGEN_CACHE"


def cache_dir():
    """The folder of the corpus cache: `MUSEGEN_CACHE` if set, else the user's cache folder (platformdirs).

    Lesson: 02_preprocessing
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("musegen-lessons"))


def parallel_map(function, items, progress, desc):
    """function over items, in order, on every core when there are many (parsing is slow and independent).

    Lesson: 02_preprocessing
    """
    import multiprocessing

    from tqdm.auto import tqdm

    # leave=False: the bar goes when the work is done, so a saved notebook keeps no widget that can no longer show
    workers = min(os.cpu_count() or 1, 4)
    # fork starts workers in milliseconds and needs no `if __name__ == "__main__"` guard in the caller's script;
    # where it does not exist (Windows, macOS defaults) the pieces are simply read one after another. So they are
    # once TensorFlow runs in this process: a fork copies none of its threads, and a copy can crash without them.
    forkable = "fork" in multiprocessing.get_all_start_methods() and "tensorflow" not in sys.modules
    if len(items) < 20 or workers == 1 or not forkable:
        return [function(item) for item in tqdm(items, desc=desc, disable=not progress, leave=False)]
    from concurrent.futures import ProcessPoolExecutor

    # a few large items (27 folk-song books): one at a time, so both cores finish together
    chunk = 1 if len(items) < 100 else 4
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        mapped = pool.map(function, items, chunksize=chunk)
        return list(tqdm(mapped, total=len(items), desc=desc, disable=not progress, leave=False))


@contextlib.contextmanager
def cache_lock(path):
    """Hold a lock on a cache file while it is read or built, so that two lessons (or two test workers) that need
    the same cache at once build it once: the second waits, then reads what the first wrote.

    Lesson: 02_preprocessing

    Where the system has no file locks (Windows), there is no lock: each builds its own, and `write_json` keeps the
    file whole either way.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_json(path, data):
    """Write data as JSON to a cache file, whole or not at all: into a temporary file first, then moved.

    Lesson: 02_preprocessing

    Two lessons building the same cache at once, or a kernel stopped half-way, never leave half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)
