"""What a person reads in a chat or e-mail alert: a title and a short Markdown body from an event payload.

Pure: the payload is the same versioned body a webhook gets (api/webhooks/payload.py); Apprise turns the
Markdown into each channel's own format (Slack mrkdwn, Telegram HTML, plain text for e-mail or ntfy).
"""

from __future__ import annotations

from typing import Any

MAX_TITLE = 200
MAX_SUMMARY = 300
MAIN_ENTITIES = 6


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def render(payload: dict[str, Any]) -> tuple[str, str]:
    """(title, Markdown body) for a story, merge or ceasefire event."""
    kind = str(payload.get("type", "event"))
    data: dict[str, Any] = payload.get("data") or {}
    if kind == "webhook.ping":
        return "Wirewatch test alert", "This channel is subscribed to Wirewatch alerts."
    if kind == "digest":
        return _digest(data)
    if kind == "story.merged":
        return (_one_line(f"Merged: {data.get('headline', '')}", MAX_TITLE),
                f"Story `{data.get('id')}` is now part of story `{data.get('merged_into')}`.\n\n{data.get('link', '')}")
    if kind.startswith("ceasefire."):
        title = _one_line(str(data.get("title") or "Ceasefire update"), MAX_TITLE)
        lines = [f"**State:** {data.get('state', '?')}"]
        parties = ", ".join(p.get("name", "") for p in data.get("parties") or [])
        if parties:
            lines.append(f"**Parties:** {parties}")
        if data.get("evidence"):
            lines.append(f"> {_one_line(str(data['evidence']), MAX_SUMMARY)}")
        if data.get("link"):
            lines.append(str(data["link"]))
        return title, "\n\n".join(lines)
    verb = "New story" if kind == "story.created" else "Story updated"
    title = _one_line(f"{verb}: {data.get('headline', '')}", MAX_TITLE)
    lines = []
    if data.get("summary"):
        lines.append(_one_line(str(data["summary"]), MAX_SUMMARY))
    topics = ", ".join(f"{t['name']} ({t['confidence']:.0%})" for t in data.get("topics") or [])
    if topics:
        lines.append(f"**Topics:** {topics}")
    if data.get("state"):
        lines.append(f"**Ceasefire state:** {data['state']}")
    ents = ", ".join(e["name"] for e in (data.get("entities") or [])[:MAIN_ENTITIES])
    if ents:
        lines.append(f"**Who and where:** {ents}")
    sources = data.get("sources") or []
    if sources:
        n = int(data.get("article_count", len(sources)))
        lines.append(f"**Sources:** {n} report{'s' if n != 1 else ''} — {', '.join(sources[:5])}")
    if data.get("link"):
        lines.append(str(data["link"]))
    return title, "\n\n".join(lines)


def _digest(data: dict[str, Any]) -> tuple[str, str]:
    period = "Daily" if data.get("period") == "daily" else "Hourly"
    n, m = int(data.get("story_count", 0)), int(data.get("change_count", 0))
    title = f"Wirewatch {period.lower()} digest: {n} new stor{'y' if n == 1 else 'ies'}"
    if m:
        title += f", {m} ceasefire state change{'' if m == 1 else 's'}"
    parts = [f"{period} digest, {str(data.get('start', ''))[:16]} to {str(data.get('end', ''))[:16]} UTC"]
    for group in data.get("topics") or []:
        lines = [f"**{group['name']}**"]
        for s in group["stories"]:
            state = f" — {s['state']}" if s.get("state") else ""
            lines.append(f"- {_one_line(s['headline'], MAX_TITLE)}{state} ({s['article_count']} reports) {s['link']}")
        parts.append("\n".join(lines))
    if data.get("ceasefires"):
        lines = ["**Ceasefires**"]
        for c in data["ceasefires"]:
            was = f" (was {c['previous_state']})" if c.get("previous_state") else ""
            lines.append(f"- {_one_line(c['title'], MAX_TITLE)}: {c['state']}{was}. {_one_line(c.get('evidence') or '', MAX_TITLE)} {c['link']}")
        parts.append("\n".join(lines))
    return title, "\n\n".join(parts)
