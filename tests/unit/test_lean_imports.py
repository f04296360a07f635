"""Service processes skip the CLIs that httpx and spaCy import with themselves (services.lean).

Spec: ``wirewatch run <service>`` never loads click, rich, typer, weasel or requests (about 20 MB of RSS
per process, measured by ``python -m tests.bench.e2e --feeds 10000``), and both libraries still work:
httpx sends a request, spaCy loads its model and the seed article comes out tagged ``ceasefire``.
Each check runs in a fresh interpreter, since this test process has imported both libraries already.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI_ONLY = ("click", "rich", "typer", "weasel", "requests", "pygments")

PROBE = textwrap.dedent("""
    import json, sys
    import services.runtime as runtime
    from services.cli import run_one
    from services.settings import Settings

    seen = {}
    def fake_run_service(name, settings, main):  # what the service would start with
        seen["name"] = name
    runtime.run_service = fake_run_service
    run_one("enrich", Settings())

    import httpx
    from enrich.pipeline import shared_enricher
    from services.events import RawArticle
    from datetime import UTC, datetime
    text = open(sys.argv[1], encoding="utf-8").read()
    out = shared_enricher().enrich([RawArticle(id="seed", url="https://example.org/seed", title="Seed",
                                               content=text, published_at=datetime.now(UTC))])[0]
    cli = [m for m in sys.argv[2:] if m in sys.modules]
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as c:
        status = c.get("https://example.org/").status_code
    print(json.dumps({"name": seen.get("name"), "cli": cli, "status": status,
                      "topics": [t.name for t in out.topics], "entities": [e.name for e in out.entities]}))
""")


SEED = ROOT / "tests" / "data" / "seed_article.txt"


def test_service_process_skips_library_clis_and_both_libraries_still_work() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(SEED), *CLI_ONLY], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["name"] == "enrich"
    assert got["cli"] == [], f"CLI packages loaded in a service process: {got['cli']}"
    assert got["status"] == 204
    assert "ceasefire" in got["topics"]
    assert {"Vladimir Putin", "Donald Trump", "Volodymyr Zelensky"} <= set(got["entities"]), got["entities"]


def test_spacy_info_placeholder_says_what_to_run() -> None:
    probe = ("from services.lean import skip_cli_frontends\nskip_cli_frontends()\nimport spacy\n"
             "try:\n    spacy.info()\nexcept RuntimeError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "python -m spacy info" in proc.stdout
