"""Console entry points that end in one clear line when the user can fix the problem."""

from __future__ import annotations

import sys
import typing as t


def run_cli(
    name: str, cli: t.Callable[[], t.Any], errors: t.Sequence[tuple[type[BaseException], str]]
) -> None:
    """Run `cli`; an exception of a listed type ends the run with `name: error: …` on stderr.

    `errors` pairs exception types with the fix to suggest; the first match wins. Anything
    else is a bug and keeps its traceback.
    """
    try:
        cli()
    except tuple(kind for kind, _ in errors) as exc:
        fix = next(fix for kind, fix in errors if isinstance(exc, kind))
        sys.stderr.write(f"{name}: error: {str(exc).rstrip('.')}. Fix: {fix}\n")
        sys.stderr.flush()
        sys.exit(1)
