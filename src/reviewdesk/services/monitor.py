"""The homogenization and drift monitor of a project (STATISTICS.md §7), for dashboards and gates.

Three uses, one computation:

- **Dashboards** call :func:`refresh_monitor` (a generator yielding ``Progress``; run it in a
  worker, never on the UI thread) and plot :class:`MonitorReport` — per population a
  :class:`~reviewdesk.stats.monitor.PopulationSeries` for the calendar windows (ISO weeks) and
  one for the alarm windows (the last 500 human labels, step 100): every indicator with its CI,
  the CUSUM paths, the alarm states and the windows they quarantine.
- **Gate inputs** call :func:`monitor_gate_inputs`: the §8 records (estimand ``monitor``,
  slice ``{population, window}``; ``h3_judge_human_kappa`` adds ``judge``) and the §7.6
  :class:`~reviewdesk.stats.monitor.Quarantine` (label ids to drop from every estimate; which
  slices stay ``quarantined`` until fresh labelers relabel their items), plus the config fields
  ``feature_standardization_version``, ``monitor_baseline_version`` and the quarantine
  overrides.
- **The lead** freezes the baseline (:func:`freeze_baseline`), lifts a quarantine
  (:func:`lift_quarantine`) or acknowledges a latched CUSUM (:func:`acknowledge_alarm`); each is
  an explicit action in the audit chain, stored in the project settings under ``monitor``.

Label values follow §1.2: v = +1 when the candidate's slot is chosen. The candidate is the
project's candidate model when it is one of the item's two models (or the other one when only
the baseline is), else the lexicographically smaller model id of the pair. Labels whose display
side is unknown are left out of the monitor (counted as ``n_unknown_side``). A positive
control's reference answer is named by ``reference_slot`` in the item's metadata (top level, or
inside ``control`` as generated controls store it).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from reviewdesk.domain.clock import to_iso
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.progress import CancelToken, Job, Progress, relayed, run_to_completion
from reviewdesk.services import paths
from reviewdesk.services.monitor_parallel import parallel_windows
from reviewdesk.services.project import Project
from reviewdesk.stats.homogenization import PANEL_CODES, PANEL_CONTROL_POSITIVE
from reviewdesk.stats.monitor import (
    HUMAN,
    CalendarWeeks,
    CountWindows,
    ItemTable,
    LabelTable,
    MonitorConfig,
    MonitorInput,
    MonitorRun,
    PopulationSeries,
    Quarantine,
    WindowSpec,
    compute_quarantine,
    decode_cache_entry,
    encode_cache_entry,
    label_table,
    monitor_records,
    population_series,
    run_monitor,
)
from reviewdesk.stats.records import MetricRecord
from reviewdesk.stats.style_features import (
    COUNT_NAMES,
    FEATURE_DEFINITION,
    FeatureStandardization,
    pair_differences,
    style_counts,
)
from reviewdesk.storage import monitor_queries as mq
from reviewdesk.storage import repositories as repo

SETTINGS_KEY = "monitor"
CACHE_SCHEMA = "reviewdesk.monitor_cache/v1"
SCHEMA = "reviewdesk.monitor/v1"


# --------------------------------------------------------------------------------------------
# Settings stored in the project (under "monitor")
# --------------------------------------------------------------------------------------------


def _spec_from(data: Mapping[str, Any] | None, default: WindowSpec) -> WindowSpec:
    if not data:
        return default
    if data.get("kind") == "count":
        return CountWindows(int(data.get("size", 500)), int(data.get("step", 100)))
    return CalendarWeeks()


def _spec_to(spec: WindowSpec) -> dict[str, Any]:
    if isinstance(spec, CountWindows):
        return {"kind": "count", "size": spec.size, "step": spec.step}
    return {"kind": "iso_week"}


@dataclass(frozen=True)
class MonitorSettings:
    """The monitor's stored configuration and the lead's logged actions."""

    alarm_windows: WindowSpec = field(default_factory=CountWindows)
    dashboard_windows: WindowSpec = field(default_factory=CalendarWeeks)
    n_boot: int = 1000
    frozen: Mapping[str, Mapping[str, list[str]]] = field(default_factory=dict)
    standardization: Mapping[str, Any] | None = None
    acknowledged: tuple[Mapping[str, Any], ...] = ()
    lifted: tuple[Mapping[str, Any], ...] = ()

    @staticmethod
    def from_stored(data: Mapping[str, Any] | None) -> MonitorSettings:
        data = data or {}
        return MonitorSettings(
            alarm_windows=_spec_from(data.get("alarm_windows"), CountWindows()),
            dashboard_windows=_spec_from(data.get("dashboard_windows"), CalendarWeeks()),
            n_boot=int(data.get("n_boot", 1000)),
            frozen={k: dict(v) for k, v in (data.get("frozen") or {}).items()},
            standardization=data.get("standardization"),
            acknowledged=tuple(data.get("acknowledged") or ()),
            lifted=tuple(data.get("lifted") or ()),
        )

    def to_stored(self) -> dict[str, Any]:
        return {
            "alarm_windows": _spec_to(self.alarm_windows),
            "dashboard_windows": _spec_to(self.dashboard_windows),
            "n_boot": self.n_boot,
            "frozen": {k: dict(v) for k, v in self.frozen.items()},
            "standardization": None if self.standardization is None else dict(self.standardization),
            "acknowledged": [dict(a) for a in self.acknowledged],
            "lifted": [dict(x) for x in self.lifted],
        }

    def config(self, seed: int) -> MonitorConfig:
        return MonitorConfig(
            n_boot=self.n_boot,
            seed=seed,
            acknowledged={
                f"{a['population']}|{a['statistic']}": str(a["window"]) for a in self.acknowledged
            },
            lifted=frozenset((str(x["population"]), str(x["window"])) for x in self.lifted),
        )

    def frozen_standardization(self) -> FeatureStandardization | None:
        if not self.standardization:
            return None
        return FeatureStandardization.from_dict(dict(self.standardization))


def monitor_settings(project: Project) -> MonitorSettings:
    with project.store.read() as uow:
        return MonitorSettings.from_stored(repo.get_settings(uow.session).get(SETTINGS_KEY))


def _store_settings(
    project: Project, settings: MonitorSettings, actor: str, payload: dict[str, Any]
) -> None:
    with project.store.write() as uow:
        repo.put_settings(uow.session, {SETTINGS_KEY: settings.to_stored()})
        repo.append_audit(uow.session, "monitor", actor, payload, project.clock.now())


# --------------------------------------------------------------------------------------------
# Loading the project into monitor arrays
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedMonitorData:
    data: MonitorInput
    n_labels: int  # current human labels read
    n_unknown_side: int  # left out: display side unknown
    last_event_id: int | None
    item_keys: Mapping[int, str]


def _candidate_is_a(
    model_a: list[str], model_b: list[str], candidate: str | None, baseline: str | None
) -> list[bool]:
    """Per item: is slot A the candidate's (see the module docstring for the rule)."""
    out: list[bool] = []
    for a, b in zip(model_a, model_b, strict=True):
        if a == b:
            slot = "A"
        elif candidate in (a, b):
            slot = "A" if a == candidate else "B"
        elif baseline in (a, b):
            slot = "B" if a == baseline else "A"
        else:
            slot = "A" if a < b else "B"
        out.append(slot == "A")
    return out


def _reference_slot(meta: Mapping[str, Any]) -> str | None:
    ref = meta.get("reference_slot")
    control = meta.get("control")
    if ref is None and isinstance(control, Mapping):
        ref = control.get("reference_slot")
    return ref if ref in ("A", "B") else None


def _times(iso: list[str]) -> np.ndarray:
    """ISO 8601 UTC strings (``Z`` suffix) → Unix seconds, vectorised."""
    if not iso:
        return np.zeros(0)
    stamps = np.array([s.rstrip("Z") for s in iso], dtype="datetime64[ms]")
    return np.asarray(stamps.astype(np.int64) / 1000.0, dtype=np.float64)


STYLE_CACHE_SCHEMA = "reviewdesk.style_counts/v1"


def _style_file(project: Project) -> Path:
    return paths.home() / "cache" / "monitor" / f"{project.settings().project_id}.style.json"


def _style_cache(project: Project) -> MutableMapping[str, Any]:
    """Style counts of response pairs by content (``<content_sha256>:<len A>:<len B>``).

    An item's texts never change under the same content digest (a re-import with other content
    is a conflict), so their counts are cached like the window results: in process and in a JSON
    file beside them, under the counting rules' identity (``FEATURE_DEFINITION``). A warm load
    then reads no response text at all.
    """
    key = "style:" + project.settings().project_id
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = {}
            try:
                stored = _read_cache_file(_style_file(project))
            except (OSError, ValueError):
                stored = {}
            if (
                isinstance(stored, dict)
                and stored.get("schema") == STYLE_CACHE_SCHEMA
                and stored.get("definition") == FEATURE_DEFINITION
                and isinstance(stored.get("entries"), dict)
            ):
                for k, v in stored["entries"].items():
                    if isinstance(v, list) and len(v) == 8 and all(type(x) is int for x in v):
                        cache[k] = v
            _caches[key] = cache
        return cache


def _persist_style(project: Project, cache: MutableMapping[str, Any]) -> None:
    target = _style_file(project)
    head = {"schema": STYLE_CACHE_SCHEMA, "definition": FEATURE_DEFINITION}
    text = _cache_text(head, dict(cache), (",", ":"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.partial")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        return


def _style_counts(
    project: Project, session: Any, facts: mq.MonitorItemFacts
) -> tuple[np.ndarray, np.ndarray]:
    """Style counts (n × 4 each) of slot A's and slot B's texts, from the cache where known."""
    cache = _style_cache(project)
    keys = [
        f"{h}:{a}:{b}"
        for h, a, b in zip(facts.content_sha256, facts.len_a, facts.len_b, strict=True)
    ]
    missing = [facts.item_id[k] for k, key in enumerate(keys) if key not in cache]
    if missing:
        texts = mq.response_texts(session, missing)
        for k, key in enumerate(keys):
            if key not in cache:
                text_a, text_b = texts[facts.item_id[k]]
                cache[key] = [*style_counts(text_a), *style_counts(text_b)]
        _persist_style(project, cache)
    if not keys:
        return np.zeros((0, len(COUNT_NAMES))), np.zeros((0, len(COUNT_NAMES)))
    both = np.asarray([cache[key] for key in keys], dtype=np.float64)
    return both[:, :4], both[:, 4:]


_SLOT_CODE: dict[str | None, int] = {"A": 0, "B": 1}


def load_monitor_data(project: Project, session: Any = None) -> LoadedMonitorData:
    """Current human labels, their items and the LLM judges' verdicts as monitor arrays.

    ``session`` is an open read unit of work's session, to read in the caller's snapshot (the
    gate-inputs export reads its other data in the same one); without it, a read of its own.
    """
    if session is None:
        with project.store.read() as uow:
            return _load_monitor_data(project, uow.session)
    return _load_monitor_data(project, session)


def _load_monitor_data(project: Project, session: Any) -> LoadedMonitorData:
    settings = project.settings()
    labels = mq.current_human_label_columns(session)
    item_ids = sorted(set(labels.item_id))
    facts = mq.monitor_item_facts(session, item_ids)
    verdicts = mq.llm_verdict_rows(session, item_ids)
    counts_a, counts_b = _style_counts(project, session, facts)
    n_items = len(facts.item_id)
    row = {item_id: k for k, item_id in enumerate(facts.item_id)}
    cand_a = _candidate_is_a(facts.model_a, facts.model_b, settings.candidate, settings.baseline)
    cand_is_a = np.array(cand_a, dtype=bool)
    cand_code = np.where(cand_is_a, 0, 1).astype(np.int64)  # the candidate's slot, A = 0
    # items
    panel = np.array([PANEL_CODES.get(p or "", 0) for p in facts.panel], dtype=np.int64)
    expected = np.full(n_items, np.nan)
    for k in np.flatnonzero(panel == PANEL_CONTROL_POSITIVE).tolist():
        meta = facts.meta[k]
        ref = _reference_slot(json.loads(meta) if meta else {})
        if ref is not None:
            expected[k] = 1.0 if (ref == "A") == cand_a[k] else -1.0
    if n_items:
        c_counts = np.where(cand_is_a[:, None], counts_a, counts_b)
        b_counts = np.where(cand_is_a[:, None], counts_b, counts_a)
        style_raw = pair_differences(c_counts, b_counts)
    else:
        style_raw = np.zeros((0, 2))
    table = ItemTable(
        item_id=np.array(facts.item_id, dtype=np.int64),
        panel=panel,
        expected=expected,
        style_raw=style_raw,
    )
    # human labels of known display side on items of the table, in event-id order
    label_rows = np.array([row.get(i, -1) for i in labels.item_id], dtype=np.int64)
    left = np.array([_SLOT_CODE.get(s, -1) for s in labels.left_slot], dtype=np.int64)
    known = np.flatnonzero((left >= 0) & (label_rows >= 0))
    known_list = known.tolist()
    reviewers = [labels.reviewer[k] for k in known_list]
    names = sorted(set(reviewers))
    index = {n: k for k, n in enumerate(names)}
    rows_k = label_rows[known]
    choice = np.array([_SLOT_CODE.get(labels.choice[k], -1) for k in known_list], dtype=np.int64)
    value = np.where(choice >= 0, np.where(choice == cand_code[rows_k], 1.0, -1.0), 0.0)
    humans = label_table(
        item=rows_k,
        labeler=np.array([index[r] for r in reviewers], dtype=np.int64),
        value=value,
        orientation=np.where(left[known] == cand_code[rows_k], 1.0, -1.0),
        labelers=names,
        time=_times([labels.labeled_at[k] for k in known_list]),
        label_id=np.array([labels.event_id[k] for k in known_list], dtype=np.int64),
    )
    judges: dict[str, LabelTable] = {}
    by_judge: dict[str, list[tuple[int, int, int]]] = {}  # (item row, order AB=0/BA=1, verdict)
    orders = {"AB": 0, "BA": 1}
    for item_id, judge, order, verdict in verdicts:
        o = orders.get(order)
        r = row.get(item_id)
        if o is not None and r is not None:
            by_judge.setdefault(judge, []).append((r, o, _SLOT_CODE.get(verdict, -1)))
    for name, vs in sorted(by_judge.items()):
        arr = np.array(vs, dtype=np.int64).reshape(-1, 3)
        item_r, order_c, verdict_c = arr[:, 0], arr[:, 1], arr[:, 2]
        judges[name] = label_table(
            item=item_r,
            labeler=order_c,
            value=np.where(
                verdict_c >= 0, np.where(verdict_c == cand_code[item_r], 1.0, -1.0), 0.0
            ),
            # o = +1 when the candidate was shown first: order AB with the candidate in A, or BA
            orientation=np.where((order_c == 0) == cand_is_a[item_r], 1.0, -1.0),
            labelers=("AB", "BA"),
        )
    return LoadedMonitorData(
        MonitorInput(table, humans, judges),
        len(labels),
        len(labels) - int(known.size),
        max(labels.event_id, default=None),
        dict(zip(facts.item_id, facts.item_key, strict=True)),
    )


# --------------------------------------------------------------------------------------------
# Refresh (dashboards) and gate inputs
# --------------------------------------------------------------------------------------------

_CACHE_ENTRIES = 50_000
_caches: dict[str, MutableMapping[str, Any]] = {}
_caches_lock = threading.Lock()


class _BoundedCache(MutableMapping[str, Any]):
    """A small thread-safe LRU mapping for per-window monitor results of one project."""

    def __init__(self, limit: int = _CACHE_ENTRIES) -> None:
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit
        # the file this process last wrote and the used keys of the run that wrote it (a run
        # using the same keys and adding none would write the same bytes to it again)
        self.written: tuple[Path, frozenset[str]] | None = None

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            value = self._data[key]
            self._data.move_to_end(key)
            return value

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._limit:
                self._data.popitem(last=False)

    def __delitem__(self, key: str) -> None:
        with self._lock:
            del self._data[key]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)


class _Tracking(MutableMapping[str, Any]):
    """Wraps the project cache and remembers which keys one run used (they get persisted)."""

    def __init__(self, base: MutableMapping[str, Any]) -> None:
        self.base = base
        self.used: set[str] = set()
        self.added: set[str] = set()  # computed by this run (not found in the cache)

    def __getitem__(self, key: str) -> Any:
        value = self.base[key]
        self.used.add(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.base[key] = value
        self.used.add(key)
        self.added.add(key)

    def __delitem__(self, key: str) -> None:
        del self.base[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.base)

    def __len__(self) -> int:
        return len(self.base)


def _cache_file(project: Project) -> Path:
    return paths.home() / "cache" / "monitor" / f"{project.settings().project_id}.json"


def project_cache(project: Project) -> MutableMapping[str, Any]:
    """The cache of one project's window results (keyed by content digests).

    Kept in process and on disk (``<REVIEWDESK_HOME>/cache/monitor/<project id>.json``, plain
    JSON), so a new process — ``export gates`` in CI after the lead's last dashboard refresh —
    starts warm. A digest covers everything a result depends on, so a stale entry can only miss.
    """
    key = project.settings().project_id  # copies of a project share results (content-keyed)
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _BoundedCache()
            try:
                stored = _read_cache_file(_cache_file(project))
            except (OSError, ValueError):
                stored = {}
            if isinstance(stored, dict) and stored.get("schema") == CACHE_SCHEMA:
                for k, v in (stored.get("entries") or {}).items():
                    value = decode_cache_entry(v) if isinstance(v, dict) else None
                    if value is not None:
                        cache[k] = value
            _caches[key] = cache
        return cache


def _stored_keys(project: Project) -> list[str]:
    try:
        stored = _read_cache_file(_cache_file(project))
    except (OSError, ValueError):
        return []
    entries = stored.get("entries") if isinstance(stored, dict) else None
    return list(entries) if isinstance(entries, dict) else []


def _persist(project: Project, cache: _Tracking) -> None:
    """Write the entries this run used (best effort: a cache that cannot be written is skipped).

    Skipped when this process last wrote the file for the same keys and the run added none:
    the entries are content-keyed, so it would write the same bytes (a warm refresh).
    """
    base = cache.base if isinstance(cache.base, _BoundedCache) else None
    used = frozenset(cache.used)
    target = _cache_file(project)
    if base is not None and not cache.added and base.written == (target, used) and target.is_file():
        return
    entries = {}
    for key in sorted(used):
        value = cache.base.get(key)
        encoded = None if value is None else encode_cache_entry(value)
        if encoded is not None:
            entries[key] = encoded
    text = _cache_text({"schema": CACHE_SCHEMA}, entries)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.partial")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        return
    if base is not None:
        base.written = (target, used)


# The cache files are single JSON objects of several megabytes. ``json.dumps``/``json.loads`` of
# the whole would hold the GIL for 100–150 ms each (a frozen UI thread while a dashboard
# refreshes on the worker), so they are written and read one entry at a time: the same bytes
# as ``json.dumps(head | {"entries": entries}, separators=...)``, and any JSON object is read.

_JSON = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _cache_text(
    head: Mapping[str, Any],
    entries: Mapping[str, Any],
    separators: tuple[str, str] = (", ", ": "),
) -> str:
    """``json.dumps({**head, "entries": entries}, separators=separators)``, built per entry."""
    comma, colon = separators
    parts = ["{"]
    for key, value in head.items():
        parts += [json.dumps(key), colon, json.dumps(value, separators=separators), comma]
    parts += [json.dumps("entries"), colon, "{"]
    for k, (key, value) in enumerate(entries.items()):
        if k:
            parts.append(comma)
        parts += [json.dumps(key), colon, json.dumps(value, separators=separators)]
    parts.append("}}")
    return "".join(parts)


def _read_cache_file(path: Path) -> Any:
    """``json.loads`` of a cache file, decoding the members of its ``entries`` one at a time.

    Raises ``OSError`` when the file cannot be read and ``ValueError`` when it is not JSON.
    """
    text = path.read_text(encoding="utf-8")
    try:
        value, end = _object_at(text, _skip(text, 0), depth=0)
        if _skip(text, end) != len(text):
            raise ValueError("extra data")
        return value
    except IndexError as exc:
        raise ValueError("truncated JSON") from exc


def _skip(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    return pos if match is None else match.end()


def _object_at(text: str, pos: int, *, depth: int) -> tuple[Any, int]:
    """The JSON value at ``pos`` and where it ends; the top object and its ``entries`` object
    are walked member by member, everything else is one ``raw_decode``."""
    if text[pos] != "{" or depth > 1:
        return _JSON.raw_decode(text, pos)
    out: dict[str, Any] = {}
    pos = _skip(text, pos + 1)
    if text[pos] == "}":
        return out, pos + 1
    while True:
        key, pos = _JSON.raw_decode(text, pos)
        if not isinstance(key, str):
            raise ValueError("an object key must be a string")
        pos = _skip(text, pos)
        if text[pos] != ":":
            raise ValueError("expected ':'")
        pos = _skip(text, pos + 1)
        walk = depth == 0 and key == "entries"
        out[key], pos = (
            _object_at(text, pos, depth=depth + 1) if walk else _JSON.raw_decode(text, pos)
        )
        pos = _skip(text, pos)
        if text[pos] == "}":
            return out, pos + 1
        if text[pos] != ",":
            raise ValueError("expected ',' or '}'")
        pos = _skip(text, pos + 1)


@dataclass(frozen=True)
class MonitorReport:
    """What a dashboard plots and an export records (all plain, frozen data).

    ``dashboard``/``alarms``: population → series over the calendar / alarm windows.
    ``records``: the §8 monitor records (alarm windows). ``quarantine``: §7.6.
    """

    dashboard: Mapping[str, PopulationSeries]
    alarms: Mapping[str, PopulationSeries]
    records: tuple[MetricRecord, ...]
    quarantine: Quarantine
    config: Mapping[str, Any]
    n_labels: int
    n_unknown_side: int
    last_event_id: int | None

    def latest_alarm(self, population: str = HUMAN) -> tuple[str, float, str] | None:
        """(window id, homogenization alarm (NaN: undetermined), status) of the latest window."""
        series = self.alarms.get(population)
        if series is None or not series.window_ids:
            return None
        return (
            series.window_ids[-1],
            series.homogenization_alarm[-1],
            series.alarm_status[-1],
        )

    def gate_inputs(self) -> MonitorGateInputs:
        """What :func:`monitor_gate_inputs` returns for the same project, settings, seed and
        B (both run the alarm windows the same way), without running the monitor again."""
        return MonitorGateInputs(self.records, self.quarantine, self.config)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "config": dict(self.config),
            "n_labels": self.n_labels,
            "n_unknown_side": self.n_unknown_side,
            "last_event_id": self.last_event_id,
            "dashboard": {p: s.to_dict() for p, s in sorted(self.dashboard.items())},
            "alarms": {p: s.to_dict() for p, s in sorted(self.alarms.items())},
            "quarantine": self.quarantine.to_dict(),
        }


def _config_fields(settings: MonitorSettings, alarm: MonitorRun) -> dict[str, Any]:
    return {
        "feature_standardization_version": alarm.feature_standardization_version,
        "monitor_baseline_version": alarm.baseline_version,
        "monitor_windows": {
            "alarms": alarm.spec.describe(),
            "dashboard": settings.dashboard_windows.describe(),
        },
        "monitor_baseline": {p: r.baseline.to_dict() for p, r in sorted(alarm.populations.items())},
        "monitor_baseline_frozen": bool(settings.frozen.get(alarm.spec.describe())),
        "monitor_bootstrap": {"B": alarm.config.n_boot, "unit": "item"},
        "quarantine_overrides": [dict(x) for x in settings.lifted],
        "alarm_acknowledgements": [dict(a) for a in settings.acknowledged],
    }


def refresh_monitor(
    project: Project,
    *,
    seed: int | None = None,
    settings: MonitorSettings | None = None,
    cancel: CancelToken | None = None,
    use_cache: bool = True,
) -> Job[MonitorReport]:
    """Recompute the monitor: alarm windows first (baseline, standardisation), then dashboards.

    A generator yielding ``Progress``: run it off the UI thread. Per-window results are cached
    in-process by content digest, so after new labels only the windows they touch are redone.
    """
    settings = settings or monitor_settings(project)
    seed = project.settings().seed if seed is None else seed
    yield Progress(0, None, "Reading labels")
    loaded = load_monitor_data(project)
    config = settings.config(seed)
    cache = _Tracking(project_cache(project)) if use_cache else None
    alarm_spec = settings.alarm_windows
    alarm_job = run_monitor(
        loaded.data,
        alarm_spec,
        config,
        frozen=settings.frozen.get(alarm_spec.describe()),
        standardization=settings.frozen_standardization(),
        cache=cache,
        cancel=cancel,
        runner=parallel_windows,
    )
    alarm = yield from _relabel(alarm_job, "Alarm windows")
    dash_spec = settings.dashboard_windows
    dash_job = run_monitor(
        loaded.data,
        dash_spec,
        config,
        frozen=settings.frozen.get(dash_spec.describe()),
        standardization=alarm.standardization,
        cache=cache,
        cancel=cancel,
        runner=parallel_windows,
    )
    dashboard = yield from _relabel(dash_job, "Dashboard windows")
    quarantine = compute_quarantine(alarm, loaded.data)
    records = tuple(sorted(monitor_records(alarm), key=MetricRecord.sort_key))
    if cache is not None:
        _persist(project, cache)
    return MonitorReport(
        dashboard={p: population_series(r, config) for p, r in dashboard.populations.items()},
        alarms={p: population_series(r, config) for p, r in alarm.populations.items()},
        records=records,
        quarantine=quarantine,
        config=_config_fields(settings, alarm),
        n_labels=loaded.n_labels,
        n_unknown_side=loaded.n_unknown_side,
        last_event_id=loaded.last_event_id,
    )


def _relabel(job: Job[MonitorRun], prefix: str) -> Job[MonitorRun]:
    return relayed(job, lambda p: Progress(p.done, p.total, f"{prefix}: {p.label}"))


@dataclass(frozen=True)
class MonitorGateInputs:
    """What ``services/gate_inputs.py`` adds to the export (STATISTICS.md §7.6, §8.1).

    - ``records``: append to the document's records (they sort with the others);
    - ``quarantine.label_ids``: drop these label events from every estimate;
    - for each record whose slice holds items in ``quarantine.uncleared_items(req)`` (``req`` =
      the record's label requirement) set ``evidence_status = "quarantined"``;
    - ``config``: merge into the document's ``config`` (versions and quarantine overrides).
    """

    records: tuple[MetricRecord, ...]
    quarantine: Quarantine
    config: Mapping[str, Any]


def monitor_gate_inputs(
    project: Project,
    *,
    seed: int | None = None,
    n_boot: int | None = None,
    cancel: CancelToken | None = None,
    loaded: LoadedMonitorData | None = None,
) -> MonitorGateInputs:
    """The monitor's part of the gate-inputs export (runs the alarm windows only).

    ``n_boot`` is the export's B: §7.2 bootstraps the windows with B = 1000 for dashboards and
    2000 in exports, so an export passes its own B (without it, the stored monitor setting).
    ``loaded`` is the data read in the export's own snapshot (:func:`load_monitor_data` with its
    session); without it, a read of its own.
    """
    settings = monitor_settings(project)
    seed = project.settings().seed if seed is None else seed
    config = settings.config(seed)
    if n_boot is not None:
        config = replace(config, n_boot=n_boot)
    if loaded is None:
        loaded = load_monitor_data(project)
    spec = settings.alarm_windows
    cache = _Tracking(project_cache(project))
    run = run_to_completion(
        run_monitor(
            loaded.data,
            spec,
            config,
            frozen=settings.frozen.get(spec.describe()),
            standardization=settings.frozen_standardization(),
            cache=cache,
            cancel=cancel,
            runner=parallel_windows,
        )
    )
    if any(encode_cache_entry(cache.base.get(k)) is not None for k in cache.added):
        # keep what the dashboard windows used too: merge, do not shrink the file to one spec
        # (when every window came from the cache there is nothing new to write: a warm export
        # skips re-reading and rewriting the whole file; a baseline recomputed in this process
        # is not one of the persisted kinds and does not count)
        cache.used |= set(_stored_keys(project))
        _persist(project, cache)
    return MonitorGateInputs(
        tuple(sorted(monitor_records(run), key=MetricRecord.sort_key)),
        compute_quarantine(run, loaded.data),
        _config_fields(settings, run),
    )


# --------------------------------------------------------------------------------------------
# The lead's explicit, logged actions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineFreeze:
    frozen: Mapping[str, Mapping[str, list[str]]]
    standardization_version: str | None
    monitor_baseline_version: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "frozen": {k: dict(v) for k, v in self.frozen.items()},
            "feature_standardization_version": self.standardization_version,
            "monitor_baseline_version": self.monitor_baseline_version,
        }


def freeze_baseline(
    project: Project, *, actor: str = "lead", cancel: CancelToken | None = None
) -> BaselineFreeze:
    """Freeze the current baselines (window ids per population and window definition) and the
    feature standardisation, so later windows are always compared with them (§7.2, §7.1).

    Refuses when the alarm windows have no baseline yet. Re-freezing replaces the stored one
    (a new version; the audit chain keeps the old).
    """
    settings = monitor_settings(project)
    seed = project.settings().seed
    loaded = load_monitor_data(project)
    base_settings = MonitorSettings(
        settings.alarm_windows, settings.dashboard_windows, settings.n_boot
    )
    config = base_settings.config(seed)
    cache = project_cache(project)
    alarm = run_to_completion(
        run_monitor(
            loaded.data,
            settings.alarm_windows,
            config,
            cache=cache,
            cancel=cancel,
            runner=parallel_windows,
        )
    )
    human = alarm.populations.get(HUMAN)
    if human is None or human.baseline.status != "ok" or alarm.standardization is None:
        raise UserError(
            "the monitor has no baseline yet: it needs "
            f"{config.baseline_windows} consecutive windows meeting the minimum counts"
        )
    dash = run_to_completion(
        run_monitor(
            loaded.data,
            settings.dashboard_windows,
            config,
            standardization=alarm.standardization,
            cache=cache,
            cancel=cancel,
            runner=parallel_windows,
        )
    )
    frozen: dict[str, dict[str, list[str]]] = {}
    for run in (alarm, dash):
        frozen[run.spec.describe()] = {
            p: list(r.baseline.window_ids)
            for p, r in run.populations.items()
            if r.baseline.status == "ok"
        }
    new = replace(settings, frozen=frozen, standardization=alarm.standardization.to_dict())
    result = BaselineFreeze(frozen, alarm.standardization.version, alarm.baseline_version)
    _store_settings(project, new, actor, {"action": "freeze_baseline", **result.to_json()})
    return result


def lift_quarantine(
    project: Project, population: str, window: str, *, actor: str, why: str
) -> None:
    """Lift the quarantine of one (population, window) by hand: logged who, when and why (§7.6)."""
    if not why.strip():
        raise UserError("say why the quarantine is lifted (it is recorded in every export)")
    settings = monitor_settings(project)
    entry = {
        "population": population,
        "window": window,
        "actor": actor,
        "why": why.strip(),
        "at": to_iso(project.clock.now()),
    }
    new = replace(settings, lifted=(*settings.lifted, entry))
    _store_settings(project, new, actor, {"action": "lift_quarantine", **entry})


def acknowledge_alarm(
    project: Project, population: str, statistic: str, window: str, *, actor: str, why: str
) -> None:
    """Clear a latched CUSUM from ``window`` on (§7.5: latched until acknowledged); logged."""
    if not why.strip():
        raise UserError("say why the alarm is acknowledged")
    settings = monitor_settings(project)
    entry = {
        "population": population,
        "statistic": statistic,
        "window": window,
        "actor": actor,
        "why": why.strip(),
        "at": to_iso(project.clock.now()),
    }
    new = replace(settings, acknowledged=(*settings.acknowledged, entry))
    _store_settings(project, new, actor, {"action": "acknowledge_alarm", **entry})
