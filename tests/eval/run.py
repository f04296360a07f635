"""``make eval``: every evaluation, one after the other, each printing its own table; exit 1 if any missed a goal.

The parts: enrichment (topics, states, entities per language: ``tests.eval.enrich``), entity linking
across scripts (``tests.eval.entities``, when present), story grouping (``tests.eval.stories``) and the
ceasefire tracker (``tests.eval.tracker``, when present). Each also runs alone as ``python -m <module>``.
"""

from __future__ import annotations

import importlib
import sys

PARTS = ("tests.eval.enrich", "tests.eval.entities", "tests.eval.stories", "tests.eval.tracker")


def main() -> int:
    failed = []
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"\n=== {name}")
        sys.stdout.flush()
        if module.main([]) != 0:
            failed.append(name)
    if failed:
        print(f"\ngoals missed in: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
