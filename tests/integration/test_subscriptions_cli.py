"""`wirewatch webhooks|alerts list|add|remove|test` do what the admin API does, on the configured store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ww(var: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WIREWATCH_VAR_DIR": str(var), "WIREWATCH_DATABASE_URL": "",
           "WIREWATCH_WEBHOOK_ALLOWED_HOSTS": ""}
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_webhooks_and_alerts_from_the_command_line(tmp_path: Path) -> None:
    var = tmp_path / "var"
    hook = ww(var, "webhooks", "add", "https://hooks.example.org/ww", "--topic", "ceasefire")
    assert hook.returncode == 0 and "signing secret (shown once): whsec_" in hook.stdout, hook.stderr
    hook_id = hook.stdout.split()[1]
    alert = ww(var, "alerts", "add", "tgram://123456:ABCDEF/987", "--topic", "ceasefire", "--language", "uk")
    assert alert.returncode == 0, alert.stderr
    alert_id = alert.stdout.split()[1]
    assert ww(var, "alerts", "add", "json://127.0.0.1/x").returncode == 2  # internal target, not allowlisted
    bad = ww(var, "webhooks", "add", "https://hooks.example.org/x", "--topic", "weather")
    assert bad.returncode == 2 and "topics: unknown topic 'weather'; allowed: ceasefire" in bad.stderr
    lang = ww(var, "webhooks", "add", "https://hooks.example.org/x", "--language", "Ukrainian")
    assert lang.returncode == 2 and "languages" in lang.stderr
    ruled = ww(var, "webhooks", "add", "https://hooks.example.org/q", "--q", "Black Sea", "--digest", "daily",
               "--event", "ceasefire.state_changed")
    assert ruled.returncode == 0, ruled.stderr
    wrong = ww(var, "webhooks", "add", "slack://a/b/c")
    assert wrong.returncode == 2 and "wirewatch alerts add" in wrong.stderr
    hooks, alerts = ww(var, "webhooks", "list").stdout, ww(var, "alerts", "list").stdout
    assert hooks.splitlines()[0].startswith("ID") and hook_id in hooks and alert_id not in hooks
    assert alert_id in alerts and "ABCDEF" not in alerts  # the bot token stays private
    assert "queued test" in ww(var, "alerts", "test", alert_id).stdout
    assert ww(var, "webhooks", "remove", alert_id).returncode == 1  # an alert is not a webhook
    assert ww(var, "alerts", "remove", alert_id).returncode == 0 and alert_id not in ww(var, "alerts", "list").stdout
