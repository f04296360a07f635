"""First start writes an admin token to .env once; settings read it; a set token is never replaced."""

from __future__ import annotations

import stat

from services.envfile import ensure_admin_token, has_setting
from services.settings import Settings


def test_first_start_writes_a_token_once_and_settings_read_it(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WIREWATCH_ADMIN_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    env = tmp_path / ".env"
    env.write_text("WIREWATCH_API_PORT=8123")
    token = ensure_admin_token(env)
    assert token and len(token) >= 16 and has_setting(env, "WIREWATCH_ADMIN_TOKEN")
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert ensure_admin_token(env) is None  # never twice
    s = Settings()
    assert s.admin_token == token and s.api_port == 8123  # the file's other lines kept


def test_a_token_in_the_environment_is_left_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WIREWATCH_ADMIN_TOKEN", "x" * 20)
    assert ensure_admin_token(tmp_path / ".env") is None and not (tmp_path / ".env").exists()
