"""ceasefire tracker: records, their parties, history, articles, and the articles the tracker folded in

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00

``ceasefires`` holds one row per ceasefire record (api/tracker builds them from the mentions on
articles.enriched); ``ceasefire_parties`` indexes its parties and mediators by entity id and name;
``ceasefire_history`` is one row per state change, unique per (record, key) where the key is
"<article>:<state>" (or "term:expired"), so a replay adds nothing; ``ceasefire_articles`` links the
articles (and their stories) that report a record; ``tracker_articles`` remembers the articles folded in,
with their mentions, so a replay skips them and ``wirewatch tracker rebuild`` can start over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _dt(name: str, nullable: bool = False, **kw: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "ceasefires",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False, server_default=""),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("unilateral", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("mediators", sa.JSON(), nullable=False),
        sa.Column("duration_days", sa.Float(), nullable=True),
        _dt("effective_from", True),
        _dt("expires_at", True),
        sa.Column("places", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False, server_default="0"),
        _dt("first_reported"),
        _dt("last_reported"),
        _dt("state_changed_at"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _dt("created_at"),
        _dt("updated_at"),
    )
    for col in ("scope", "state", "expires_at", "first_reported", "last_reported", "updated_at"):
        op.create_index(f"ix_ceasefires_{col}", "ceasefires", [col])
    op.create_index("ix_ceasefires_last_reported_id", "ceasefires", ["last_reported", "id"])
    op.create_table(
        "ceasefire_parties",
        sa.Column("ceasefire_id", sa.String(64), sa.ForeignKey("ceasefires.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("entity_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
    )
    op.create_index("ix_ceasefire_parties_entity_id", "ceasefire_parties", ["entity_id"])
    op.create_index("ix_ceasefire_parties_name", "ceasefire_parties", ["name"])
    op.create_table(
        "ceasefire_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ceasefire_id", sa.String(64), sa.ForeignKey("ceasefires.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("previous_state", sa.String(16), nullable=True),
        _dt("at"),
        sa.Column("article_id", sa.String(64), nullable=True),
        sa.Column("story_id", sa.String(64), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(16), nullable=True),
        _dt("recorded_at"),
        sa.UniqueConstraint("ceasefire_id", "key", name="uq_ceasefire_history_key"),
        sa.UniqueConstraint("ceasefire_id", "seq", name="uq_ceasefire_history_seq"),
    )
    op.create_index("ix_ceasefire_history_ceasefire_id", "ceasefire_history", ["ceasefire_id"])
    op.create_index("ix_ceasefire_history_recorded_at", "ceasefire_history", ["recorded_at"])
    op.create_table(
        "ceasefire_articles",
        sa.Column("ceasefire_id", sa.String(64), sa.ForeignKey("ceasefires.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("story_id", sa.String(64), nullable=False),
        _dt("published_at"),
        sa.Column("lang", sa.String(16), nullable=True),
    )
    op.create_index("ix_ceasefire_articles_story_id", "ceasefire_articles", ["story_id"])
    op.create_table(
        "tracker_articles",
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("story_id", sa.String(64), nullable=False),
        _dt("published_at"),
        sa.Column("lang", sa.String(16), nullable=True),
        sa.Column("mentions", sa.JSON(), nullable=False),
        _dt("processed_at"),
    )
    op.create_index("ix_tracker_articles_published_at", "tracker_articles", ["published_at"])


def downgrade() -> None:
    op.drop_table("tracker_articles")
    op.drop_table("ceasefire_articles")
    op.drop_table("ceasefire_history")
    op.drop_table("ceasefire_parties")
    op.drop_table("ceasefires")
