"""A student's function in a process of its own, called from the grader: `IsolatedFunction`.

`musegen grade` never runs a student's code in its own process. For each exercise it starts a fresh Python
process that runs only the exercise's set-up (the lines its check declares), refuses the exercise's references,
and then runs the student's exercise cell. The check itself runs in the grader, which calls the student's
function through `IsolatedFunction`: the arguments go over a pipe, the answer comes back, and the grader judges
it. Whatever the student's code does to its own process (replacing `check`, patching numpy or the package,
printing a forged result) cannot reach the grader, because the only thing that comes back is data: numbers,
strings, lists, tuples, dicts, numpy arrays, and the two objects exercises return (a PrettyMIDI, by its notes; a
Keras model, as a `.keras` file loaded in safe mode from an allow-list of Keras layers). Nothing is unpickled.

This is isolation of the grade, not a sandbox: the student's process may still read and write files, and it runs
in an empty temporary folder so that what it writes stays there.

Lesson: 00_welcome (how exercises are checked); used by instructors through `musegen grade`
"""

import base64
import importlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping

import numpy as np

from musegen_lessons.course.checks import CheckFailed, UsesReference, refuse, resolve
from musegen_lessons.lesson import PROJECT_ROOT

SETUP_SECONDS = 300  # for the process to start and run the set-up, which is the course's code, not the student's
LARGEST_MESSAGE = 64 * 2**20
MESSAGE_LIMIT = 500  # characters of a student's error message passed on
SLOW_TO_IMPORT = ("keras", "tensorflow")  # refused only once the student's code imports them


class Stopped(BaseException):
    """The student's code could not be graded to the end: it ran out of time, ended its process, or sent what
    the grader cannot read. A BaseException, so that no check mistakes it for the student's own error."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class CellError(Exception):
    """The exercise cell itself raised an error when it ran (before its function was called)."""


class IsolatedFunction:
    """The student's function `ex.function`, defined by `cell` in a fresh process after `ex.setup`, callable from
    here. Use it as a context manager: leaving it ends the process.

    Args:
        ex: the `checks.Exercise`.
        cell: the source of the student's exercise cell.
        timeout: seconds the student's code may run in all, the cell and every call together.
        workdir: the folder the process runs in.
        quick: run in quick mode (MUSEGEN_QUICK=1).

    Raises (on entering):
        UsesReference: the cell itself called a reference.
        CellError: the cell raised an error, or did not define the function.
        Stopped: the cell ran out of time, or the process ended.
    """

    def __init__(self, ex, cell, timeout, workdir, quick=True):
        self.__name__ = ex.function
        self._job = {
            "setup": ex.setup,
            "references": list(ex.references),
            "cell": cell,
            "function": ex.function,
        }
        self._workdir, self._quick = str(workdir), quick
        self._left = float(timeout)
        self._timeout = timeout
        self._process = None

    def __enter__(self):
        env = dict(os.environ, MUSEGEN_QUICK="1" if self._quick else "0", TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
        # The process imports this very package, wherever it is, and runs in the empty folder `workdir`.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from musegen_lessons.course.isolation import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._workdir,
            env=env,
        )
        try:
            self._send(json.dumps(self._job).encode())
            reply = self._receive(SETUP_SECONDS, counts=False)
            if reply.get("kind") != "set up":
                self._answer(reply)
            self._answer(self._receive(self._left))  # the cell has run
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def __call__(self, *args, **kwargs):
        try:
            request = encode([list(args), kwargs])
        except Unsendable as error:  # the course's own arguments are always sendable: this is a bug in a check
            raise RuntimeError(f"a check passed an argument the grader cannot send: {error}") from None
        self._send(request)
        return self._answer(self._receive(self._left))

    def close(self):
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process.stdin.close()
            self._process.stdout.close()

    def _send(self, data):
        try:
            write_message(self._process.stdin, data)
        except OSError:  # the process has ended; reading its reply says how
            pass

    def _receive(self, seconds, counts=True):
        # A watchdog ends the process when time is up: a reply that never comes, or only half of one, cannot
        # keep the grader waiting.
        expired = threading.Event()
        watchdog = threading.Timer(max(seconds, 0), lambda: (expired.set(), self._process.kill()))
        started = time.monotonic()
        watchdog.start()
        try:
            data = read_message(self._process.stdout)
        except EOFError:
            self._process.wait()
            if expired.is_set():
                raise Stopped(
                    f"timed out: the exercise's code ran longer than {self._timeout:g} s (an endless loop?)"
                ) from None
            raise Stopped(
                f"the process running the exercise ended (exit code {self._process.returncode}): did the code exit, "
                "or run out of memory?"
            ) from None
        except ValueError as error:
            raise Stopped(str(error)) from None
        finally:
            watchdog.cancel()
            if counts:
                self._left -= time.monotonic() - started
        try:
            reply = json.loads(data)
        except Exception:
            reply = None
        if not isinstance(reply, dict):
            raise Stopped("the exercise's process sent something the grader cannot read")
        return reply

    def _answer(self, reply):
        """The value in a reply, or the student's error raised here as the check expects it."""
        kind = reply.get("kind")
        if kind == "ready":
            return None
        if kind == "returned":
            try:
                return decode(reply["value"])
            except Exception as error:
                raise CheckFailed(f"{self.__name__} returned something the grader cannot read: {error}") from None
        if kind == "unsendable":
            raise CheckFailed(_text(reply.get("message")))
        if kind == "uses":
            raise UsesReference(_text(reply.get("name")))
        if kind == "cell":
            raise CellError(_text(reply.get("message")))
        if kind == "raised":
            raise raised(_text(reply.get("name")), _text(reply.get("message")))
        if kind == "setup":
            raise RuntimeError(f"the exercise's set-up failed in the grader: {_text(reply.get('message'))}")
        raise Stopped("the exercise's process sent something the grader cannot read")


def raised(name, message):
    """An exception of the class the student's code raised, by name (a class made here, never theirs)."""
    if name == "NotImplementedError":
        return NotImplementedError(message)
    name = name if name.isidentifier() else "Exception"
    return _RAISED.setdefault(name, type(name, (Exception,), {}))(message)


_RAISED = {}


def _text(value):
    text = str(value)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def write_message(stream, data):
    """One message on a byte stream: its length in 8 bytes, then the bytes."""
    stream.write(len(data).to_bytes(8, "big") + data)
    stream.flush()


def read_message(stream, limit=LARGEST_MESSAGE):
    """The next message `write_message` wrote.

    Raises:
        EOFError: the stream ended, at or inside the message.
        ValueError: the message is longer than `limit` bytes.
    """
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    size = int.from_bytes(header, "big")
    if size > limit:
        raise ValueError(f"the answer was larger than {limit // 2**20} MB")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


def serve():
    """The student's side, on its stdin and stdout: run the set-up, refuse the references, run the cell, then answer
    calls until the grader ends it."""
    requests, replies = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    # The student's code gets an empty stdin and a stdout that goes nowhere: only these two streams talk.
    os.dup2(os.open(os.devnull, os.O_RDWR), 0)
    os.dup2(os.open(os.devnull, os.O_RDWR), 1)
    sys.stdout = sys.stderr = open(os.devnull, "w")

    def send(**reply):
        write_message(replies, json.dumps(reply).encode())

    job = json.loads(read_message(requests))
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(job["setup"], "<set-up>", "exec"), namespace)
        _refuse_for_good(job["references"])
    except BaseException as error:
        send(kind="setup", message=f"{type(error).__name__}: {error}")
        return
    send(kind="set up")
    try:
        exec(compile(job["cell"], "<exercise cell>", "exec"), namespace)
    except UsesReference as used:
        send(kind="uses", name=used.name)
        return
    except BaseException as error:
        send(kind="cell", message=f"{type(error).__name__}: {error}")
        return
    fn = namespace.get(job["function"])
    if not callable(fn):
        send(kind="cell", message=f"the cell ran but did not define a function {job['function']}")
        return
    send(kind="ready")
    while True:
        args, kwargs = decode(read_message(requests))
        try:
            value = fn(*args, **kwargs)
        except UsesReference as used:
            send(kind="uses", name=used.name)
            continue
        except BaseException as error:
            send(kind="raised", name=type(error).__name__, message=str(error))
            continue
        try:
            send(kind="returned", value=encode(value).decode())
        except Unsendable as error:
            send(kind="unsendable", message=f"{job['function']} returned {error}")
        except Exception as error:
            send(kind="unsendable", message=f"{job['function']} returned something that cannot be sent: {error}")


def _refuse_for_good(references):
    """Refuse the references for the rest of this process: now, or, for Keras and TensorFlow (seconds to import,
    and an answer in numpy never needs them), the moment the student's code imports them. A second run of a module
    that defines a reference (`importlib.reload`, or a fresh import after deleting it from `sys.modules`) would
    make unrefused copies, so it counts as calling the reference."""
    waiting, guarded = {}, {}

    def refuse_now(names):
        for dotted in names:
            module = sys.modules[resolve(dotted).__module__]
            if getattr(module, "__file__", None):
                guarded[module.__file__] = module.__name__
        refuse(names)

    for dotted in references:
        top = dotted.split(".")[0]
        if top in sys.modules or top not in SLOW_TO_IMPORT:
            refuse_now([dotted])
        else:
            waiting.setdefault(top, []).append(dotted)

    def on_event(event, args):
        # An audit hook cannot be removed, so the student's code cannot switch this off.
        if event == "import" and str(args[0]).split(".")[0] in waiting:
            names = waiting.pop(str(args[0]).split(".")[0])
            importlib.import_module(names[0].split(".")[0])
            refuse_now(names)
        elif event == "exec" and getattr(args[0], "co_filename", None) in guarded:
            raise UsesReference(f"a second copy of {guarded[args[0].co_filename]}")

    sys.addaudithook(on_event)


class Unsendable(TypeError):
    """A value of a type the grader does not take back."""


SENDABLE = "numbers, strings, lists, tuples, dicts, sets, numpy arrays, a PrettyMIDI or a Keras model"
_KERAS_MODULES = {
    "keras",
    "keras.layers",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.src.models.functional",
    "keras.src.models.sequential",
    # a compiled model's file names its optimiser and loss too; it is loaded with compile=False, so they stay unbuilt
    "keras.optimizers",
    "keras.losses",
    "keras.metrics",
}
_KERAS_REFUSED = {"Lambda", "TFSMLayer", "__lambda__", "function"}
# A layer called on a tensor as a keyword argument (attention's query and value) names it so: a reference to a
# tensor of the same model, not a class.
_TENSOR_REFERENCE = "__keras_tensor__"


def encode(value):
    """JSON bytes for a value, every container and array tagged so that `decode` rebuilds the same types."""
    return json.dumps(_tagged(value, 0)).encode()


def decode(data):
    """The value `encode` made, built from plain data only: no pickle, no class named by the sender."""
    return _untagged(json.loads(data))


def _tagged(value, depth):
    if depth > 50:
        raise Unsendable("a value nested more than 50 deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        return {"scalar": _npy(np.asarray(value))}
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.ndarray):
        return {"array": _npy(value)}
    if isinstance(value, tuple):
        return {"tuple": [_tagged(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return {"list": [_tagged(v, depth + 1) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"set": [_tagged(v, depth + 1) for v in value]}
    if isinstance(value, Mapping):
        return {"dict": [[_tagged(k, depth + 1), _tagged(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, (Iterator, range)):
        return {"list": [_tagged(v, depth + 1) for v in value]}
    if "pretty_midi" in sys.modules and isinstance(value, sys.modules["pretty_midi"].PrettyMIDI):
        return {"midi": _midi_notes(value)}
    if "keras" in sys.modules and isinstance(value, sys.modules["keras"].Model):
        return {"keras": _keras_bytes(value)}
    raise Unsendable(f"a value of type {type(value).__name__}, which the grader does not take back: return {SENDABLE}")


def _untagged(node):
    if not isinstance(node, dict):
        if isinstance(node, list):
            raise ValueError("an untagged list")
        return node
    [(tag, content)] = node.items()
    if tag == "scalar":
        return _from_npy(content)[()]
    if tag == "array":
        return _from_npy(content)
    if tag in ("tuple", "list", "set"):
        items = [_untagged(v) for v in content]
        return {"tuple": tuple, "list": list, "set": set}[tag](items)
    if tag == "dict":
        return {_untagged(k): _untagged(v) for k, v in content}
    if tag == "midi":
        return _midi_from_notes(content)
    if tag == "keras":
        return _keras_from_bytes(content)
    raise ValueError(f"an unknown tag {tag!r}")


def _npy(array):
    if array.dtype.kind not in "biufcUS":
        raise Unsendable(f"an array of dtype {array.dtype}: return numbers or strings in it")
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()


def _from_npy(text):
    return np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)


def _midi_notes(pm):
    return [
        {
            "program": int(i.program),
            "is_drum": bool(i.is_drum),
            "name": str(i.name),
            "notes": [[int(n.pitch), int(n.velocity), float(n.start), float(n.end)] for n in i.notes],
        }
        for i in pm.instruments
    ]


def _midi_from_notes(instruments):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    for instrument in instruments:
        track = pretty_midi.Instrument(
            program=int(instrument["program"]), is_drum=bool(instrument["is_drum"]), name=str(instrument["name"])
        )
        for pitch, velocity, start, end in instrument["notes"]:
            track.notes.append(pretty_midi.Note(int(velocity), int(pitch), float(start), float(end)))
        pm.instruments.append(track)
    return pm


def _keras_bytes(model):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as file:
            return base64.b64encode(file.read()).decode()


def _keras_from_bytes(text):
    """A Keras model from a student's `.keras` file: only Keras's own layers, loaded in safe mode."""
    import keras

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as file:
            file.write(base64.b64decode(text))
        with zipfile.ZipFile(path) as archive:
            for module, class_name in _classes(json.loads(archive.read("config.json"))):
                if class_name == _TENSOR_REFERENCE:
                    continue
                if module not in _KERAS_MODULES or class_name in _KERAS_REFUSED:
                    raise ValueError(f"the model uses {module}.{class_name}; use Keras's own layers")
        return keras.saving.load_model(path, compile=False, safe_mode=True)


def _classes(config):
    if isinstance(config, dict):
        if "class_name" in config:
            yield config.get("module"), config["class_name"]
        for value in config.values():
            yield from _classes(value)
    elif isinstance(config, list):
        for value in config:
            yield from _classes(value)
