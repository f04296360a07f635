"""feeds.websub_topic: the topic URL a feed's hub knows it by

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 21:00:00

WebSub subscribes to the feed's self URL (``Link: rel=self`` or ``atom:link rel="self"``),
which may differ from the URL we poll (a redirect, a tracking wrapper, FeedBurner). NULL
means "the polled URL", which is what every feed used before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("websub_topic", sa.String(2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("websub_topic")
