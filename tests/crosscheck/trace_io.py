"""Reading a `--dump-init` directory and writing a `--trace` directory in
the driver's formats (README, "Step traces"), with numpy alone, and the
command-line frame every replay shares.

A trace is written into OUT.tmp-<pid> and renamed to OUT at the end, so a
failed run leaves nothing half-written."""
import json
import math
import os
import shutil
import sys

import numpy as np


class BadInput(Exception):
    """A bad argument or file: one line, exit code 2."""


def read_index(directory, expected_format):
    path = os.path.join(directory, "index.json")
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read the index ({e})")
    if index.get("format") != expected_format or index.get("version") != 1:
        raise BadInput(f"{path}: format {index.get('format')!r} version {index.get('version')!r},"
                       f" expected {expected_format!r} version 1")
    return index


def load_array(directory, name):
    path = os.path.join(directory, name)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read the array ({e})")


def parse_steps(spec, total):
    """"0-20,50,100" or "all" -> sorted step numbers in 0..total."""
    if spec == "all":
        return list(range(total + 1))
    steps = set()
    for part in spec.split(","):
        try:
            lo, _, hi = part.partition("-")
            lo, hi = int(lo), int(hi) if hi else int(lo)
        except ValueError:
            raise BadInput(f"--trace-steps '{spec}': expected 'all' or a list like 0-20,50,100")
        if lo < 0 or hi < lo:
            raise BadInput(f"--trace-steps '{spec}': range {part} is empty or negative")
        steps.update(range(lo, min(hi, total) + 1))
    return sorted(steps)


def json_number(value):
    """A float for the JSON index as the driver writes it: NaN (and "not
    computed") as null, infinities as the strings "inf" and "-inf" (the
    threshold of a mask step that prunes nothing is "-inf")."""
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


class TraceWriter:
    def __init__(self, out, header):
        if os.path.exists(out):
            raise BadInput(f"--trace {out}: exists; choose a new directory")
        parent = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(parent):
            raise BadInput(f"--trace {out}: parent directory {parent} does not exist")
        self.out = out
        self.tmp = f"{out}.tmp-{os.getpid()}"
        os.makedirs(self.tmp)
        self.index = dict(header)
        self.index["steps"] = []

    def step(self, t, scalars, tensors):
        """tensors: {module name: {kind: numpy array}}."""
        folder = f"step_{t:06d}"
        os.makedirs(os.path.join(self.tmp, folder))
        files = {}
        for module, kinds in tensors.items():
            files[module] = {}
            for kind, array in kinds.items():
                rel = f"{folder}/{module}.{kind}.npy"
                np.save(os.path.join(self.tmp, rel), array, allow_pickle=False)
                files[module][kind] = rel
        self.index["steps"].append({"step": t, "scalars": scalars, "tensors": files})

    def finish(self):
        with open(os.path.join(self.tmp, "index.json"), "w", encoding="utf-8") as f:
            json.dump(self.index, f, indent=1, allow_nan=False)
        os.rename(self.tmp, self.out)

    def abandon(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # `with TraceWriter(...) as w:` finishes on success and abandons on any exception.
    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.finish()
        else:
            self.abandon()
        return False


def trace_header(index, producer):
    """A float64 trace's index header from a dump's: everything but the
    dump-only entries (its batches, the head, the modules' file names)."""
    header = {k: v for k, v in index.items() if k not in ("chains", "tokens", "head", "format")}
    header["format"] = "adalora-trace"
    header["producer"] = producer
    header["modules"] = [{k: v for k, v in m.items() if k != "files"} for m in index["modules"]]
    header["precision"], header["dtype"] = "double", "<f8"
    return header


def exit_code(program, dump, work):
    """Runs work(); a bad argument or file is one line on stderr and exit 2."""
    try:
        work()
    except BadInput as e:
        print(f"{program}: {e}", file=sys.stderr)
        return 2
    except (KeyError, TypeError) as e:
        print(f"{program}: {dump}/index.json: missing or malformed entry {e}", file=sys.stderr)
        return 2
    return 0
