"""Alerts through Apprise to real local peers: an SMTP server (aiosmtpd) gets the e-mail, an HTTP receiver
gets the json:// and ntfy notifications; a failing channel is retried, then dead-lettered; /alerts validates
its rules like /stories and refuses internal targets that are not allowlisted."""

from __future__ import annotations

import asyncio
import email
import json
import socket

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from api.http.app import create_app
from api.webhooks import dispatcher
from services.db import stories as story_repo
from services.db.engine import make_engine, make_sessions
from services.db.models import Delivery
from tests.factories import enriched, raw
from tests.receiver import Receiver

TOKEN = "a" * 24


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler protocol
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp():
    inbox = Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=free_port())
    ctl.start()
    yield ctl.port, inbox
    ctl.stop()


@pytest.fixture
async def env(store_url, make_settings):
    settings = make_settings(database_url=store_url, admin_token=TOKEN, webhook_allowed_hosts="127.0.0.1",
                             webhook_retry_schedule_s="0,0", webhook_timeout_s=5)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test",
                                headers={"authorization": f"Bearer {TOKEN}"})
        engine = make_engine(settings)
        sessions = make_sessions(engine)
        async with api, httpx.AsyncClient(timeout=5) as client:
            yield settings, api, sessions, dispatcher.Sender(settings, sessions, client)
        await engine.dispose()


async def _drain(sender, rounds=30):
    for _ in range(rounds):
        await sender.tick()
        if sender.tasks:
            await asyncio.wait(sender.tasks)
        await asyncio.sleep(0.05)


async def _story(sessions, settings):
    ev = enriched(raw(1, title="Israel and Hamas agree Gaza ceasefire", text="Mediators in Qatar said the truce "
                      "begins on Sunday."), topics={"ceasefire": 0.9}, entities=[("Q801", "Israel", "GPE")],
                  state="agreed")
    async with sessions() as s, s.begin():
        await story_repo.upsert_enriched(s, event=ev)
    return await dispatcher.enqueue_for(settings, sessions, ev)


async def test_email_json_and_ntfy_channels_receive_the_story(env, smtp) -> None:
    settings, api, sessions, sender = env
    port, inbox = smtp
    async with Receiver() as rx:
        targets = [f"mailto://127.0.0.1:{port}?from=ww@example.org&to=desk@example.org&mode=insecure",
                   f"json://127.0.0.1:{rx.port}/json", f"ntfy://127.0.0.1:{rx.port}/ceasefires"]
        for t in targets:
            r = await api.post("/alerts", json={"target": t, "topics": ["ceasefire"]})
            assert r.status_code == 201, r.text
            assert "desk@example.org" not in r.json()["target"]  # credentials and addresses stay private
        assert await _story(sessions, settings) == 3
        await _drain(sender)
        (mail,) = inbox.messages
        text = mail.get_payload(decode=True).decode() if not mail.is_multipart() else \
            mail.get_payload()[0].get_payload(decode=True).decode()
        assert "Gaza ceasefire" in mail["Subject"] and "ceasefire (90%)" in text and "agreed" in text
        body = json.loads(rx.on("/json")[0].body)
        assert "Gaza ceasefire" in body["title"] and "/stories/" in body["message"]
        (note,) = [json.loads(r.body) for r in rx.requests if r.path == "/"]  # ntfy's JSON publish
        assert note["topic"] == "ceasefires" and "Gaza ceasefire" in note["title"]
        assert "ceasefire (90%)" in note["message"] and "/stories/" in note["message"]
    async with sessions() as s:
        statuses = (await s.scalars(select(Delivery.status))).all()
    assert statuses and set(statuses) == {"succeeded"}


async def test_a_failing_channel_is_retried_then_dead_lettered(env) -> None:
    settings, api, sessions, sender = env
    async with Receiver() as rx:
        rx.responses["/down"] = [(503, {}, 0.0)] * 5
        r = await api.post("/alerts", json={"target": f"json://127.0.0.1:{rx.port}/down"})
        assert r.status_code == 201
        await _story(sessions, settings)
        await _drain(sender)
        assert len(rx.on("/down")) == 3  # the first try and two retries (schedule "0,0")
    async with sessions() as s:
        (d,) = (await s.scalars(select(Delivery))).all()
    assert d.status == "dead" and d.attempts == 3 and d.last_error
    log = (await api.get(f"/webhooks/{d.webhook_id}/deliveries")).json()
    assert log[0]["status"] == "dead"


async def test_rules_are_validated_and_internal_targets_refused(env, make_settings) -> None:
    _settings, api, _sessions, _sender = env
    bad = await api.post("/alerts", json={"target": "json://127.0.0.1:9/x", "topics": ["weather"]})
    assert bad.status_code == 422 and "allowed: ceasefire" in bad.text
    web = await api.post("/alerts", json={"target": "https://hooks.example.org/x"})
    assert web.status_code == 422 and "POST /webhooks" in web.text
    junk = await api.post("/alerts", json={"target": "nosuchscheme://x"})
    assert junk.status_code == 422 and "Apprise" in junk.text
    internal = await api.post("/alerts", json={"target": "json://10.1.2.3/x"})
    assert internal.status_code == 422 and "WIREWATCH_WEBHOOK_ALLOWED_HOSTS" in internal.text


async def test_a_daily_digest_by_email_groups_the_days_stories_by_topic(env, smtp) -> None:
    """A digest subscriber gets no message per story; once the day has ended, one e-mail with the day's
    matching stories by topic, queued once whatever restarts or second dispatchers do."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from api.webhooks import digests
    from services.db.models import Ceasefire, CeasefireChange, Story

    settings, api, sessions, sender = env
    port, inbox = smtp
    target = f"mailto://127.0.0.1:{port}?from=ww@example.org&to=desk@example.org&mode=insecure"
    r = await api.post("/alerts", json={"target": target, "topics": ["ceasefire", "sanctions"], "digest": "daily"})
    assert r.status_code == 201, r.text
    evs = [enriched(raw(10 + i, title=title), topics=topics) for i, (title, topics) in enumerate([
        ("Truce agreed in the north", {"ceasefire": 0.9}), ("New sanctions on oil exports", {"sanctions": 0.8}),
        ("Truce holds for a second day", {"ceasefire": 0.8}), ("Football final tonight", {})])]
    async with sessions() as s, s.begin():
        for ev in evs:
            await story_repo.upsert_enriched(s, event=ev)
    assert [await dispatcher.enqueue_for(settings, sessions, ev) for ev in evs] == [0, 0, 0, 0]
    yesterday = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    async with sessions() as s, s.begin():
        await s.execute(update(Story).values(first_seen=yesterday))
        s.add(Ceasefire(id="cf_mail", title="Armenia–Azerbaijan: ceasefire", scope="full", state="violated",
                        parties=[{"id": "Q399", "name": "Armenia"}, {"id": "Q227", "name": "Azerbaijan"}],
                        first_reported=yesterday, last_reported=yesterday, state_changed_at=yesterday))
        await s.flush()
        s.add(CeasefireChange(ceasefire_id="cf_mail", seq=2, key="violated:2", state="violated",
                              previous_state="agreed", at=yesterday, recorded_at=yesterday,
                              evidence="Shelling near the border broke the truce, both sides said."))
    assert await digests.queue_due(settings, sessions) == 1
    assert await digests.queue_due(settings, sessions) == 0  # one per period
    await _drain(sender)
    (mail,) = inbox.messages
    text = (mail.get_payload(decode=True) if not mail.is_multipart()
            else mail.get_payload()[0].get_payload(decode=True)).decode()
    assert "daily digest: 3 new stories, 1 ceasefire state change" in mail["Subject"]
    assert text.index("ceasefire") < text.index("Truce agreed") < text.index("sanctions") < text.index("Ceasefires")
    assert "Armenia–Azerbaijan: ceasefire: violated (was agreed). Shelling near the border" in text
    assert "Football" not in text
