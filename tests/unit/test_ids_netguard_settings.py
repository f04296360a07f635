"""Stable ids, the SSRF guard and the settings model."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from services import netguard
from services.ids import article_id, canonical_url
from services.settings import Settings


@pytest.mark.parametrize(("a", "b"), [
    ("https://Example.COM/news/1?utm_source=rss&utm_medium=feed", "https://example.com/news/1"),
    ("https://example.com:443/news/1#comments", "https://example.com/news/1"),
    ("http://example.com:80/a?b=2&a=1", "http://example.com/a?a=1&b=2"),
    ("https://example.com/a?fbclid=xyz&id=7", "https://example.com/a?id=7"),
])
def test_canonical_url_drops_tracking_and_defaults(a, b):
    assert canonical_url(a) == canonical_url(b)
    assert article_id(link=a, guid=None) == article_id(link=b, guid=None)


def test_article_id_prefers_link_then_guid_scoped_to_feed():
    assert article_id(link=None, guid="abc", feed_url="https://a.example/feed") != article_id(
        link=None, guid="abc", feed_url="https://b.example/feed")
    assert article_id(link="https://x.example/1", guid="g") == article_id(link="https://x.example/1", guid="other")
    with pytest.raises(ValueError):
        article_id(link=None, guid=None)


@pytest.mark.parametrize(("addr", "public"), [
    ("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.1", False),
    ("172.16.5.5", False), ("169.254.169.254", False), ("::1", False), ("fe80::1", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("100.64.0.1", False),
])
def test_public_addresses(addr, public):
    assert netguard.is_public(ipaddress.ip_address(addr)) is public


async def test_check_url_refuses_internal_targets_unless_allowlisted():
    with pytest.raises(netguard.BlockedTarget):
        await netguard.check_url("http://127.0.0.1:8080/hook", [])
    with pytest.raises(netguard.BlockedTarget):
        await netguard.check_url("http://169.254.169.254/latest/meta-data", ["127.0.0.1"])
    with pytest.raises(netguard.BlockedTarget):
        await netguard.check_url("file:///etc/passwd", ["127.0.0.1"])
    assert await netguard.check_url("http://127.0.0.1:8080/hook", ["127.0.0.0/8"])
    assert await netguard.check_url("http://localhost:8080/hook", ["localhost"])
    with pytest.raises(netguard.BlockedTarget):
        netguard.check_url_static("http://localhost/hook", [])


def test_settings_from_env(monkeypatch):
    monkeypatch.setenv("WIREWATCH_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1, hooks.internal,10.0.0.0/8")
    monkeypatch.setenv("WIREWATCH_KAFKA_PARTITIONS", "6")
    s = Settings()
    assert s.webhook_allowed_hosts == ["127.0.0.1", "hooks.internal", "10.0.0.0/8"]
    assert s.kafka_partitions == 6
    assert s.db_url.startswith("sqlite+aiosqlite:///")
    monkeypatch.setenv("WIREWATCH_DATABASE_URL", "postgresql://u@db/ww")
    assert Settings().db_url == "postgresql+asyncpg://u@db/ww"


def test_settings_refuse_unsafe_production_and_bad_values(monkeypatch):
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        Settings(env="production", admin_token="")
    with pytest.raises(ValidationError):
        Settings(webhook_allowed_hosts="10.0.0.0/33")
    with pytest.raises(ValidationError):
        Settings(kafka_partitions=0)
