"""Read-only, streaming reads behind the dashboards' per-reviewer statistics.

``analysis_queries`` streams what every statistic needs; the dashboards also show when each
label was given and how long its reviewer looked at the pair (pace, dwell), which nothing else
reads. This module streams just those columns of the label events, in id order and in chunks, as
plain column lists, so the service can match them to the folded current labels by event id with
one ``searchsorted``. SQLAlchemy Core only, so it runs unchanged on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewdesk.storage.orm import LabelEventRow

CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class LabelTimingChunk:
    """Label events (kind ``label``, human or imported) in id order: time and dwell."""

    id: list[int]
    labeled_at: list[str]
    dwell_ms: list[int | None]


def iter_label_timings(session: Session, chunk: int = CHUNK_ROWS) -> Iterator[LabelTimingChunk]:
    """Every human label event's id, ``labeled_at`` (ISO 8601 UTC) and dwell in milliseconds."""
    stmt = (
        select(LabelEventRow.id, LabelEventRow.labeled_at, LabelEventRow.dwell_ms)
        .where(LabelEventRow.kind == "label")
        .where(LabelEventRow.provenance.in_(("human", "import")))
        .order_by(LabelEventRow.id)
        .execution_options(yield_per=chunk)
    )
    result = session.execute(stmt)
    for part in result.partitions(chunk):
        ids, times, dwell = (list(col) for col in zip(*part, strict=True))
        yield LabelTimingChunk(ids, times, dwell)
