"""ORM rows of the project file (typed SQLAlchemy 2.x declarative models).

Times are stored as ISO 8601 UTC text (``domain.clock.to_iso``) so hashes over rows are stable.
The label-event log and the audit chain are append-only: SQLite triggers created by migration 0001
refuse updates and deletes (erasure may blank free text, nothing else). The schema itself is owned
by the migrations: a new file is created by running them all, so new and migrated files are the
same by construction (tests check that these models match the migrations).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SettingRow(Base):
    """Project settings as JSON values (candidate, baseline, seed, overlap, audit rate, ...)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ImportBatchRow(Base):
    """One run of ``import``: the file, its hash, the options and what it added."""

    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    options: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[str] = mapped_column(String(32))
    counts: Mapped[str] = mapped_column(Text, default="{}")


class ItemRow(Base):
    """One prompt with two responses in fixed slots A and B."""

    __tablename__ = "item"
    __table_args__ = (
        # Erased items only (normally none): progress counts subtract their queue entries
        # without joining every waiting entry to its item.
        Index("ix_item_erased", "id", sqlite_where=text("erased_at IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_key: Mapped[str] = mapped_column(String(200), unique=True)
    prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    messages: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list of [role, text]
    slices: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON object
    expected_behavior: Mapped[str | None] = mapped_column(String(16), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    panel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    meta: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    #: Disagreement reasons as a bit mask (queueing.disagreement); recomputed after each import.
    reasons: Mapped[int] = mapped_column(Integer, default=0)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), nullable=True)
    created_at: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ResponseRow(Base):
    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("item_id", "slot"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    slot: Mapped[str] = mapped_column(String(1))
    model: Mapped[str] = mapped_column(String(200), index=True)
    text: Mapped[str] = mapped_column(Text)
    char_len: Mapped[int] = mapped_column(Integer)


class JudgeRow(Base):
    __tablename__ = "judge"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))


class JudgmentRow(Base):
    """A verdict by an automated source; at most one per (item, judge, display order)."""

    __tablename__ = "judgment"
    __table_args__ = (UniqueConstraint("item_id", "judge_id", "display_order"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("judge.id"), index=True)
    display_order: Mapped[str] = mapped_column(String(8))
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    probability_b: Mapped[float | None] = mapped_column(Float, nullable=True)
    score_a: Mapped[float | None] = mapped_column(Float, nullable=True)
    score_b: Mapped[float | None] = mapped_column(Float, nullable=True)
    refusal_a: Mapped[str | None] = mapped_column(String(24), nullable=True)
    refusal_b: Mapped[str | None] = mapped_column(String(24), nullable=True)
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), nullable=True)


class ReviewerRow(Base):
    """A reviewer profile (``human``) or a labeler known only from imported labels (``import``)."""

    __tablename__ = "reviewer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[str] = mapped_column(String(32))


class QueueBuildRow(Base):
    __tablename__ = "queue_build"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text)
    counts: Mapped[str] = mapped_column(Text)


class QueueEntryRow(Base):
    """Why an item is to be reviewed, how urgently, and how many labels it still needs.

    ``label_count`` is derived state (the number of reviewers whose current label on the entry is
    not a skip), kept in the same transaction as each label so serving is one indexed query.
    """

    __tablename__ = "queue_entry"
    __table_args__ = (
        UniqueConstraint("item_id", "round"),
        # Serving order: highest priority, then fewest labels, then the stable hash; only entries
        # that still need labels are indexed, so a nearly finished queue is as fast as a new one.
        Index(
            "ix_queue_entry_serving",
            text("priority DESC"),
            "label_count",
            "order_key",
            sqlite_where=text("label_count < labels_needed"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    round: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[int] = mapped_column(Integer, default=0)
    base_priority: Mapped[float] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float)
    order_key: Mapped[int] = mapped_column(Integer)
    labels_needed: Mapped[int] = mapped_column(Integer)
    label_count: Mapped[int] = mapped_column(Integer, default=0)
    inclusion_prob: Mapped[float | None] = mapped_column(Float, nullable=True)
    build_id: Mapped[int] = mapped_column(ForeignKey("queue_build.id"))
    created_at: Mapped[str] = mapped_column(String(32))


class LabelEventRow(Base):
    """The append-only label log: labels, edits, skips and retractions (undo) are all events.

    ``kind`` is ``label`` (a choice, possibly ``skip``) or ``retract`` (undoes ``retracts_id``).
    The current label of (entry, reviewer) is a fold over these events.
    """

    __tablename__ = "label_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("queue_entry.id"), nullable=True, index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewer.id"), index=True)
    provenance: Mapped[str] = mapped_column(String(16))  # human | import | adjudication
    screen_choice: Mapped[str | None] = mapped_column(String(16), nullable=True)
    left_slot: Mapped[str | None] = mapped_column(String(1), nullable=True)
    choice: Mapped[str | None] = mapped_column(String(16), nullable=True)  # canonical or skip
    refusal_a: Mapped[str | None] = mapped_column(String(24), nullable=True)
    refusal_b: Mapped[str | None] = mapped_column(String(24), nullable=True)
    tags: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON list
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    dwell_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    queue_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    inclusion_prob: Mapped[float | None] = mapped_column(Float, nullable=True)
    labeled_at: Mapped[str] = mapped_column(String(32))  # when the reviewer labeled
    created_at: Mapped[str] = mapped_column(String(32))  # when it was written here
    app_version: Mapped[str] = mapped_column(String(32))
    retracts_id: Mapped[int | None] = mapped_column(
        ForeignKey("label_event.id"), nullable=True, index=True
    )
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), nullable=True)
    content_sha256: Mapped[str] = mapped_column(String(64))


class LabelCurrentRow(Base):
    """Derived: the live label event of each (entry, reviewer); rebuildable from the log."""

    __tablename__ = "label_current"
    # A reviewer's current labels (progress counts, the skipped pairs served last).
    __table_args__ = (Index("ix_label_current_reviewer_id", "reviewer_id", "choice"),)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entry.id"), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewer.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("label_event.id"))
    choice: Mapped[str] = mapped_column(String(16))


class ServingRow(Base):
    """An opaque token handed out by ``next`` for one (entry, reviewer, side)."""

    __tablename__ = "serving"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entry.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewer.id"), index=True)
    left_slot: Mapped[str] = mapped_column(String(1))
    served_at: Mapped[str] = mapped_column(String(32))
    answered_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("label_event.id"), nullable=True
    )


class AuditRecordRow(Base):
    """The audit chain: ``record_sha256 = SHA-256(prev_sha256 + content_sha256)``."""

    __tablename__ = "audit_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str] = mapped_column(String(64))
    record_sha256: Mapped[str] = mapped_column(String(64))


class ExportRecordRow(Base):
    __tablename__ = "export_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text)
    files: Mapped[str] = mapped_column(Text)  # JSON {name: sha256}
    stale_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExportItemRow(Base):
    """Which items an export contained, so erasure can list the exports it makes stale."""

    __tablename__ = "export_item"
    export_id: Mapped[int] = mapped_column(ForeignKey("export_record.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True, index=True)
