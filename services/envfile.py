"""The local ``.env``: created on the first ``make run`` with a generated admin token, read by every command.

Why: admin calls need ``WIREWATCH_ADMIN_TOKEN`` set when the API starts, which nobody guesses. The first
start writes one to ``.env`` (the file ``services.settings.Settings`` reads), prints it once, and every
later command — ``make run``, the CLI, the dashboard login — reads the same value. A token already set
in the environment or in the file is never replaced.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN = "WIREWATCH_ADMIN_TOKEN"
HEADER = "# Wirewatch local settings (created by `make run`; any WIREWATCH_* variable may go here)\n"


def has_setting(path: Path, name: str) -> bool:
    if not path.exists():
        return False
    return any(line.split("=", 1)[0].strip() == name for line in path.read_text(encoding="utf-8").splitlines()
               if "=" in line and not line.lstrip().startswith("#"))


def ensure_admin_token(path: Path = Path(".env")) -> str | None:
    """Append a generated admin token to ``path`` unless one is set; return it when one was created."""
    if os.environ.get(TOKEN) or has_setting(path, TOKEN):
        return None
    token = secrets.token_urlsafe(24)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + f"{TOKEN}={token}\n", encoding="utf-8")
    path.chmod(0o600)
    return token
