"""Keep libraries' command-line front-ends out of long-running services.

Why: two libraries import their CLI when they are imported, and the CLI drags in
packages a service never uses (about 20 MB of RSS per process, against a budget
of 500 MB for all services with 10,000 feeds):

* ``httpx`` imports ``httpx._main`` (click, rich, pygments) when they are
  installed, and they are: spaCy's tooling depends on them. httpx falls back to a
  stub when that import fails, so marking the module absent is enough.
* ``spacy`` imports ``spacy.cli.info`` for ``spacy.info()`` (typer, weasel,
  requests, rich, jinja2). Nothing at run time calls it; a placeholder module
  answers the import and says what to run instead if anything ever does.

Call :func:`skip_cli_frontends` before those imports, in service processes only
(``wirewatch run <service>``); tools and tests import the libraries as usual.
"""

from __future__ import annotations

import sys
import types
from typing import NoReturn


def _no_spacy_info(*_args: object, **_kwargs: object) -> NoReturn:
    raise RuntimeError("spacy.info is not loaded in Wirewatch services; run `python -m spacy info` instead")


def skip_cli_frontends() -> None:
    """Make ``import httpx`` and ``import spacy`` skip their CLIs in this process (idempotent)."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None = "import fails": httpx's fallback
    if "spacy" not in sys.modules and "spacy.cli" not in sys.modules:
        cli = types.ModuleType("spacy.cli", "placeholder: spaCy's CLI is not loaded in Wirewatch services")
        info = types.ModuleType("spacy.cli.info", cli.__doc__)
        info.info = _no_spacy_info  # type: ignore[attr-defined]
        cli.info = info  # type: ignore[attr-defined]
        sys.modules["spacy.cli"] = cli
        sys.modules["spacy.cli.info"] = info
