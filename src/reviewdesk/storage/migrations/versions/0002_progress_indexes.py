"""Progress indexes: a reviewer's progress counts without scanning the whole queue.

Revision ID: 0002
Revises: 0001

A reviewer's progress (labels given, pairs still waiting for them) is counted whenever the
headless ``next``/``answer`` commands run and whenever the review window asks for it. Schema 0001
has no index that finds one reviewer's current labels (the ``label_current`` key starts with the
entry) or the erased items, so those counts read the whole queue or the whole item table: over a
second per count on a project of 1M items. With these two indexes it is three counts over
indexes (``storage.repositories.reviewer_progress``) instead of a scan of the whole queue:

- ``ix_label_current_reviewer_id`` on ``label_current (reviewer_id, choice)``: the reviewer's
  current labels (and their skips, which are served last) without reading other reviewers' rows;
- ``ix_item_erased``, partial on ``item (id) WHERE erased_at IS NOT NULL``: the erased items,
  normally none, so it costs nothing until a data subject is erased.

Only indexes are added: no row changes, so a file upgraded from 0001 holds the same data, and the
upgrade runs in the one transaction ``storage.migrate.run_migrations`` opens (an interruption
leaves the file at 0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_item_erased",
        "item",
        ["id"],
        unique=False,
        sqlite_where=sa.text("erased_at IS NOT NULL"),
    )
    op.create_index(
        "ix_label_current_reviewer_id",
        "label_current",
        ["reviewer_id", "choice"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_label_current_reviewer_id", table_name="label_current")
    op.drop_index("ix_item_erased", table_name="item")
