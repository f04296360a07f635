"""story clustering index: LSH band keys and per-article signatures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:00:00

``story_bands`` maps each MinHash LSH band key of a stored article to its story,
so the sink finds candidate stories for a new article with one indexed lookup
(band key + publication window). ``article_signatures`` keeps each article's
MinHash, entity ids and topics, from which the sink scores candidates
(``enrich.cluster.story_score``). Both are written only by the store sink
(services.db.clusters). Articles stored before this revision have no rows and
are never candidates.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_table("article_signatures")
    op.drop_index("ix_story_bands_story", table_name="story_bands")
    op.drop_index("ix_story_bands_band_published", table_name="story_bands")
    op.drop_table("story_bands")
