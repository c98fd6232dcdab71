"""Syntax trees of the suite's own files, for the tests that read its code.

CPython 3.11.7 can refuse to build one ("AST constructor recursion depth mismatch") once a
deep recursion elsewhere in the process, or an exception raised by a finaliser that the
garbage collector runs in the middle of the parse (PyMySQL's unbuffered results do), has
upset its recursion counter. The parse then runs with the collector off, and if it is
refused anyway, a fresh interpreter builds the tree.
"""

from __future__ import annotations

import ast
import gc
import pickle
import subprocess
import sys
from pathlib import Path


def parse(path: Path) -> ast.Module:
    """The file's syntax tree."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except SystemError:
        code = (
            "import ast, pickle, sys; tree = ast.parse(open(sys.argv[1], encoding='utf-8').read());"
            " sys.stdout.buffer.write(pickle.dumps(tree))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, check=True
        )
        return pickle.loads(done.stdout)  # our own interpreter's output
    finally:
        if collecting:
            gc.enable()
