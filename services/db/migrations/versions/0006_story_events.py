"""stories as events: article profiles, their index keys, story aliases, story languages

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00

Stories become connected components of "same event" links between articles (api/sink/linking.py).
``article_profiles`` keeps what the link rule compares for each stored article (entities, salient
terms, numbers, topics, state, MinHash); ``profile_keys`` indexes them by key (entity id, number,
top word, MinHash band) and publication time, so the sink finds candidates with one indexed read per
key. ``story_aliases`` maps the id of a story that merged into another to the surviving one, so old
ids keep resolving. ``stories.languages`` lists the languages of a story's articles.
``deliveries.scheduled_at`` is when a delivery was first due: story.updated is throttled from it.

They replace ``story_bands`` and ``article_signatures`` (revision 0004): articles stored before this
revision have no profile and are never candidates (``wirewatch retag`` rebuilds nothing here).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_profiles",
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
    )
    op.create_table(
        "profile_keys",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("article_id", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "article_id", name="pk_profile_keys"),
    )
    op.create_index("ix_profile_keys_key_published", "profile_keys", ["key", "published_at"])
    op.create_table(
        "story_aliases",
        sa.Column("old_id", sa.String(64), primary_key=True),
        sa.Column("story_id", sa.String(64), nullable=False, index=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("article_signatures")
    op.drop_index("ix_story_bands_story", table_name="story_bands")
    op.drop_index("ix_story_bands_band_published", table_name="story_bands")
    op.drop_table("story_bands")


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("scheduled_at")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("languages")
    op.drop_table("story_aliases")
    op.drop_index("ix_profile_keys_key_published", table_name="profile_keys")
    op.drop_table("profile_keys")
    op.drop_table("article_profiles")
    op.create_table(
        "story_bands",
        sa.Column("band", sa.String(32), nullable=False),
        sa.Column("article_id", sa.String(64), nullable=False),
        sa.Column("story_id", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("band", "article_id", name="pk_story_bands"),
    )
    op.create_index("ix_story_bands_band_published", "story_bands", ["band", "published_at"])
    op.create_index("ix_story_bands_story", "story_bands", ["story_id"])
    op.create_table(
        "article_signatures",
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("story_id", sa.String(64), nullable=False, index=True),
        sa.Column("minhash", sa.JSON(), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
