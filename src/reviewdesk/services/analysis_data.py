"""A project's analysable state as numpy arrays: items, current human labels, judgments, slices.

The statistics engine (``reviewdesk.stats``) takes arrays; this module builds them from the
streamed column chunks of :mod:`reviewdesk.storage.analysis_queries`, inside the caller's read
transaction, so every number of one computation comes from one consistent snapshot. Memory stays
bounded by the arrays themselves (a few dozen bytes per label, item and judgment): rows are never
held as Python objects beyond one chunk.

Which labels count (STATISTICS.md §1.1–§1.2, SPEC §2): the **current human labels**, i.e. events
of provenance ``human`` (in-app) and ``import`` (collected elsewhere, counted as human).

- In-app labels fold per (queue entry, reviewer): the latest ``label`` event that no ``retract``
  event points at (the same fold as ``label_current`` and the review service).
- Imported labels fold per (item, reviewer) by their own ``labeled_at``, then event id, since
  files may be imported out of order (as the preference export does).
- A ``skip`` as the current state means "no label"; ``adjudication`` events settle conflicts for
  the preference export and are not labels for agreement or win rates.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import numpy as np

from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.stats.common import BoolArray, FloatArray, IntArray
from reviewdesk.storage import analysis_queries as aq
from reviewdesk.storage.repositories import DbSession

MISSING = aq.MISSING
SLOT_A, SLOT_B = aq.SLOT_CODES["A"], aq.SLOT_CODES["B"]
TIE, BOTH_BAD, SKIP = aq.CHOICE_CODES["tie"], aq.CHOICE_CODES["both_bad"], aq.CHOICE_CODES["skip"]
HUMAN, IMPORT = aq.PROVENANCE_CODES["human"], aq.PROVENANCE_CODES["import"]
LABEL, RETRACT = aq.EVENT_KIND_CODES["label"], aq.EVENT_KIND_CODES["retract"]
ORDER_AB, ORDER_BA, ORDER_UNKNOWN = (aq.ORDER_CODES[k] for k in ("AB", "BA", "unknown"))
CONTESTED, AUDIT, ANCHOR, CONTROL = (
    aq.STRATUM_CODES[k] for k in ("contested", "audit", "anchor", "control")
)
ANSWER, REFUSE = aq.EXPECTED_CODES["answer"], aq.EXPECTED_CODES["refuse"]
STRATUM_NAMES = {code: name for name, code in aq.STRATUM_CODES.items()}


def _ints(values: list[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def _floats(values: list[float | None]) -> FloatArray:
    """Floats with NULL as NaN (numpy converts ``None`` to NaN for a float dtype)."""
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class SliceDef:
    """One single ``key=value`` slice (or the whole project, key ``None``) as an item mask."""

    key: str | None
    value: str | None
    items: BoolArray

    @property
    def slice(self) -> dict[str, str]:
        return {} if self.key is None or self.value is None else {self.key: self.value}

    @property
    def label(self) -> str:
        return "{}" if self.key is None else f"{self.key}={self.value}"


@dataclass(frozen=True)
class Items:
    """Items sorted by id. ``stratum`` is the item's queue reason (coded), see :func:`strata`."""

    id: IntArray
    slices_json: list[str]
    expected: IntArray
    panel: IntArray
    reasons: IntArray
    model_a: IntArray  # index into AnalysisData.models
    model_b: IntArray
    len_a: IntArray
    len_b: IntArray
    stratum: IntArray
    inclusion_prob: FloatArray  # NaN where the item was not drawn into the queue

    def __len__(self) -> int:
        return len(self.id)


@dataclass(frozen=True)
class Labels:
    """Current human labels (folded, skips dropped), ordered by event id."""

    event_id: IntArray
    item: IntArray  # index into Items
    reviewer: IntArray  # index into AnalysisData.reviewers
    provenance: IntArray
    left: IntArray  # slot shown left, MISSING if unknown
    choice: IntArray  # A, B, tie, both_bad
    refusal_a: IntArray
    refusal_b: IntArray

    def __len__(self) -> int:
        return len(self.item)


@dataclass(frozen=True)
class Judgments:
    item: IntArray  # index into Items
    judge: IntArray  # index into AnalysisData.judges
    order: IntArray
    verdict: IntArray  # MISSING for refusal-only and score-only rows without a verdict
    score_a: FloatArray  # NaN without scores
    score_b: FloatArray

    def __len__(self) -> int:
        return len(self.item)


@dataclass(frozen=True)
class AnalysisData:
    items: Items
    labels: Labels
    judgments: Judgments
    models: tuple[str, ...]  # sorted
    judges: tuple[tuple[str, str], ...]  # (name, kind) by judge id
    reviewers: tuple[str, ...]  # by reviewer id
    slices: tuple[SliceDef, ...]  # the whole project first, then key=value sorted
    snapshot: aq.AnalysisSnapshot


def strata(
    entry_reason: IntArray, panel: IntArray, reasons: IntArray, entry_pi: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Each item's stratum and inclusion probability (STATISTICS.md §1.3, §3.4).

    The first-round queue entry decides where there is one. Items without an entry are classified
    as the queue build would: a homogenization panel (anchor/control), else ``contested`` when the
    judges disagree on it (a census stratum, π = 1), else none (``MISSING``: not drawn, so labels
    collected elsewhere on it enter neither the contested estimand nor the population sample).
    """
    stratum = entry_reason.copy()
    pi = entry_pi.copy()
    no_entry = stratum == MISSING
    is_anchor = no_entry & (panel == aq.PANEL_CODES["anchor"])
    is_control = no_entry & (panel != MISSING) & ~is_anchor
    is_contested = no_entry & (panel == MISSING) & (reasons != 0)
    stratum[is_anchor] = ANCHOR
    stratum[is_control] = CONTROL
    stratum[is_contested] = CONTESTED
    pi[is_contested] = 1.0
    return stratum, pi


def fold_current_labels(
    event_id: IntArray,
    item: IntArray,
    entry: IntArray,
    reviewer: IntArray,
    provenance: IntArray,
    kind: IntArray,
    choice: IntArray,
    retracts: IntArray,
    labeled_at_rank: IntArray,
) -> IntArray:
    """Positions (into the event arrays) of the current human labels, skips excluded.

    Vectorised fold: sort the live label events by (key, order) and keep the last of each key.
    """
    retracted = np.isin(event_id, retracts[(kind == RETRACT) & (retracts != MISSING)])
    live = (kind == LABEL) & ~retracted
    keep: list[IntArray] = []
    for prov, k1, k2, order in (
        (HUMAN, entry, reviewer, event_id),
        (IMPORT, item, reviewer, labeled_at_rank),
    ):
        pos = np.flatnonzero(live & (provenance == prov))
        if pos.size == 0:
            continue
        # lexsort: last key is primary → (k1, k2, order, event_id)
        order_idx = np.lexsort((event_id[pos], order[pos], k2[pos], k1[pos]))
        sorted_pos = pos[order_idx]
        a, b = k1[sorted_pos], k2[sorted_pos]
        last = np.ones(len(sorted_pos), dtype=bool)
        last[:-1] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        keep.append(sorted_pos[last])
    if not keep:
        return np.zeros(0, dtype=np.int64)
    chosen = np.sort(np.concatenate(keep))
    return np.asarray(chosen[choice[chosen] != SKIP], dtype=np.int64)


def _slice_defs(slices_json: list[str], n_items: int) -> tuple[SliceDef, ...]:
    """The whole project and every single key=value slice present on the items (§1.3)."""
    defs = [SliceDef(None, None, np.ones(n_items, dtype=bool))]
    if n_items == 0:
        return tuple(defs)
    uniq, inverse = np.unique(np.asarray(slices_json, dtype=object), return_inverse=True)
    members: dict[tuple[str, str], list[int]] = {}
    for u, text in enumerate(uniq.tolist()):
        parsed = json.loads(text or "{}")
        for key, value in parsed.items():
            members.setdefault((str(key), str(value)), []).append(u)
    for (key, value), us in sorted(members.items()):
        defs.append(SliceDef(key, value, np.isin(inverse, np.asarray(us, dtype=np.int64))))
    return tuple(defs)


def read_analysis_data(
    session: DbSession, *, cancel: CancelToken | None = None
) -> Job[AnalysisData]:
    """Stream the project into :class:`AnalysisData` (run inside one read unit of work)."""
    n_items_total = aq.count_items(session)
    n_events_total = aq.count_label_events(session)
    total = n_items_total + n_events_total
    done = 0
    yield Progress(0, total, "Reading items")

    # ---- items
    ids: list[IntArray] = []
    slices_json: list[str] = []
    cols: dict[str, list[IntArray]] = {
        k: [] for k in ("expected", "panel", "reasons", "len_a", "len_b", "entry")
    }
    pis: list[FloatArray] = []
    models_a: list[str] = []
    models_b: list[str] = []
    for chunk in aq.iter_items(session):
        ids.append(_ints(chunk.id))
        slices_json.extend(chunk.slices)
        cols["expected"].append(_ints(chunk.expected))
        cols["panel"].append(_ints(chunk.panel))
        cols["reasons"].append(_ints(chunk.reasons))
        cols["len_a"].append(_ints(chunk.len_a))
        cols["len_b"].append(_ints(chunk.len_b))
        cols["entry"].append(_ints(chunk.entry_reason))
        pis.append(_floats(chunk.entry_inclusion_prob))
        models_a.extend(chunk.model_a)
        models_b.extend(chunk.model_b)
        done += len(chunk.id)
        if cancel is not None:
            cancel.check()
        yield Progress(done, total, "Reading items")

    def cat(parts: list[IntArray]) -> IntArray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    item_id = cat(ids)
    n_items = len(item_id)
    models: tuple[str, ...] = ()
    model_a = model_b = np.zeros(0, dtype=np.int64)
    if n_items:
        # np.unique's order and codes, without sorting an object array (which holds the GIL
        # for tens of milliseconds): a project has a handful of distinct model names
        uniq_models = sorted(set(models_a) | set(models_b))
        models = tuple(str(m) for m in uniq_models)
        code = {m: k for k, m in enumerate(uniq_models)}
        model_idx = np.fromiter(
            (code[m] for m in itertools.chain(models_a, models_b)),
            dtype=np.int64,
            count=2 * n_items,
        )
        model_a, model_b = model_idx[:n_items], model_idx[n_items:]
    entry_pi = np.concatenate(pis) if pis else np.zeros(0)
    stratum, pi = strata(cat(cols["entry"]), cat(cols["panel"]), cat(cols["reasons"]), entry_pi)
    items = Items(
        item_id,
        slices_json,
        cat(cols["expected"]),
        cat(cols["panel"]),
        cat(cols["reasons"]),
        model_a,
        model_b,
        cat(cols["len_a"]),
        cat(cols["len_b"]),
        stratum,
        pi,
    )

    # ---- label events
    fields = (
        "id",
        "item_id",
        "entry_id",
        "reviewer_id",
        "provenance",
        "kind",
        "left_slot",
        "choice",
        "refusal_a",
        "refusal_b",
        "retracts_id",
    )
    ev: dict[str, list[IntArray]] = {f: [] for f in fields}
    # ``labeled_at`` as fixed-width text, converted a chunk at a time: sorting text arrays
    # releases the GIL (an object array's sort holds it for ~100 ms on 100k labels, a frozen UI
    # thread while a dashboard refreshes); the order and equality of ISO strings are the same.
    labeled_at: list[np.ndarray] = []
    for echunk in aq.iter_label_events(session):
        for f in fields:
            ev[f].append(_ints(getattr(echunk, f)))
        labeled_at.append(np.asarray(echunk.labeled_at, dtype=np.str_))
        done += len(echunk.id)
        if cancel is not None:
            cancel.check()
        yield Progress(done, total, "Reading labels")
    e = {f: cat(parts) for f, parts in ev.items()}
    if sum(len(part) for part in labeled_at):
        _, at_rank = np.unique(np.concatenate(labeled_at), return_inverse=True)
        at_rank = at_rank.astype(np.int64).ravel()
    else:
        at_rank = np.zeros(0, dtype=np.int64)
    current = fold_current_labels(
        e["id"],
        e["item_id"],
        e["entry_id"],
        e["reviewer_id"],
        e["provenance"],
        e["kind"],
        e["choice"],
        e["retracts_id"],
        at_rank,
    )
    reviewers_rows = aq.list_reviewers(session)
    reviewer_ids = np.asarray([r[0] for r in reviewers_rows], dtype=np.int64)
    labels = Labels(
        e["id"][current],
        np.searchsorted(item_id, e["item_id"][current]).astype(np.int64),
        np.searchsorted(reviewer_ids, e["reviewer_id"][current]).astype(np.int64),
        e["provenance"][current],
        e["left_slot"][current],
        e["choice"][current],
        e["refusal_a"][current],
        e["refusal_b"][current],
    )

    # ---- judgments
    yield Progress(done, total, "Reading judgments")
    jcols: dict[str, list[IntArray]] = {f: [] for f in ("item_id", "judge_id", "order", "verdict")}
    scores_a: list[FloatArray] = []
    scores_b: list[FloatArray] = []
    for jchunk in aq.iter_judgments(session):
        for f in jcols:
            jcols[f].append(_ints(getattr(jchunk, f)))
        scores_a.append(_floats(jchunk.score_a))
        scores_b.append(_floats(jchunk.score_b))
        if cancel is not None:
            cancel.check()
    judge_rows = aq.list_judges(session)
    judge_ids = np.asarray([j[0] for j in judge_rows], dtype=np.int64)
    judgments = Judgments(
        np.searchsorted(item_id, cat(jcols["item_id"])).astype(np.int64),
        np.searchsorted(judge_ids, cat(jcols["judge_id"])).astype(np.int64),
        cat(jcols["order"]),
        cat(jcols["verdict"]),
        np.concatenate(scores_a) if scores_a else np.zeros(0),
        np.concatenate(scores_b) if scores_b else np.zeros(0),
    )
    snapshot = aq.analysis_snapshot(session)
    yield Progress(total, total, "Read the project")
    return AnalysisData(
        items,
        labels,
        judgments,
        models,
        tuple((name, kind) for _, name, kind in judge_rows),
        tuple(name for _, name in reviewers_rows),
        _slice_defs(slices_json, n_items),
        snapshot,
    )
