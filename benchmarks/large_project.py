"""The large benchmark project: 1M items, 3M judgments, 200k imported labels, realistic texts.

``large_project()`` returns the path of the cached project file, building it once through the
real import path (a generated native JSON Lines file, ``import_file``, ``build_queue``) and
caching it under ``benchmarks/.data/`` keyed by ``VERSION``. Bump ``VERSION`` whenever the
generator changes; the old cache is then ignored (delete it by hand to reclaim the disk).

Run ``python -m benchmarks.large_project`` to build it (or see the cached one) and print its
build time, counts and disk use.

What it holds (deterministic: everything comes from ``random.Random(SEED)`` draws, so two builds
hold the same items, judgments and labels; only the project id and write times differ):

- **1,000,000 items**, slot A from the baseline, slot B from the candidate (or, for one item in
  five, a second candidate), in 24 slices (``category`` × 6, ``language`` × 4), one in fifty with
  ``expected_behavior`` ``refuse``. Prompts are 100–800 characters, responses 300–2500, cut from
  a generated Markdown corpus at block boundaries (paragraphs, lists, inline code, fenced code
  blocks), so the review window lays out what it would in real use.
- **3,000,000 judgments**: an LLM judge in both display orders (with ``probability_b``) and a
  second LLM judge, so judge splits, position flips, tie splits and low-confidence items occur
  at realistic rates (about an eighth of the items are contested).
- **200,000 imported human labels**: two per item on 100,000 items, from 24 labelers, with the
  side shown on the left, per-slot refusal classes, dwell times and timestamps over four weeks.
- A queue built with ``--audit-rate 0.02 --overlap 2`` (contested census plus the audit stratum).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import data_dir

VERSION = "large-v1"
SEED = 20261122
N_ITEMS = 1_000_000
LABELED_EVERY = 10  # one item in ten carries two imported labels: 200k labels
REVIEWERS = [f"labeler-{n:02d}" for n in range(1, 25)]
BASELINE, CANDIDATE, CANDIDATE_2 = "base-2026-10", "cand-2026-11", "cand-2026-11-rc2"
CATEGORIES = ["incident", "billing", "ops", "security", "onboarding", "harmful"]
LANGUAGES = ["en", "de", "ja", "pt"]
PROMPT_CHARS = (100, 800)
RESPONSE_CHARS = (300, 2500)
AUDIT_RATE = 0.02
OVERLAP = 2

_WORDS = [
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "by",
    "from",
    "at",
    "as",
    "is",
    "are",
    "was",
    "be",
    "it",
    "this",
    "that",
    "these",
    "those",
    "we",
    "you",
    "they",
    "our",
    "your",
    "their",
    "service",
    "deploy",
    "rollback",
    "latency",
    "p99",
    "pager",
    "alert",
    "incident",
    "runbook",
    "kubectl",
    "pod",
    "node",
    "disk",
    "queue",
    "backlog",
    "certificate",
    "expiry",
    "DNS",
    "resolver",
    "cache",
    "shard",
    "replica",
    "failover",
    "on-call",
    "escalate",
    "customer",
    "invoice",
    "refund",
    "charge",
    "duplicate",
    "plan",
    "downgrade",
    "verify",
    "mitigate",
    "restore",
    "traffic",
    "canary",
    "region",
    "cluster",
    "error",
    "budget",
    "dashboard",
    "trace",
    "span",
    "log",
    "metric",
    "threshold",
    "timeout",
    "retry",
    "idempotent",
    "migration",
    "schema",
    "index",
    "lock",
    "transaction",
    "commit",
    "checkpoint",
    "backup",
    "snapshot",
    "quota",
    "limit",
    "throttle",
    "token",
    "session",
    "password",
    "account",
    "billing",
    "payment",
    "card",
    "dispute",
    "policy",
    "access",
    "review",
    "audit",
    "owner",
    "team",
    "ticket",
    "severity",
    "first",
    "then",
    "next",
    "after",
    "before",
    "because",
    "however",
    "usually",
    "carefully",
    "quickly",
    "safely",
    "check",
    "confirm",
    "compare",
    "inspect",
    "open",
    "close",
    "restart",
    "drain",
    "cordon",
    "scale",
    "revert",
    "page",
    "notify",
]
_COMMANDS = [
    "kubectl rollout undo deploy/{w}",
    "kubectl get pods -n {w} --field-selector=status.phase!=Running",
    "psql -c 'select count(*) from {w} where created_at > now() - interval 1 hour'",
    "curl -sf https://status.internal/{w} | jq .latency_p99",
    "git revert --no-edit HEAD~{n}",
    "systemctl restart {w}.service",
    "grep -c ERROR /var/log/{w}/app.log",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 22))]
    if rng.random() < 0.15:
        words[rng.randrange(len(words))] = f"`{rng.choice(_WORDS)}`"
    if rng.random() < 0.1:
        words[rng.randrange(len(words))] = f"**{rng.choice(_WORDS)}**"
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def _block(rng: random.Random) -> str:
    """One Markdown block: a paragraph (most), a list, a heading or a fenced code block."""
    kind = rng.random()
    if kind < 0.55:
        return " ".join(_sentence(rng) for _ in range(rng.randint(1, 4)))
    if kind < 0.78:
        ordered = rng.random() < 0.5
        items = []
        for n in range(rng.randint(2, 6)):
            mark = f"{n + 1}." if ordered else "-"
            items.append(f"{mark} {_sentence(rng)}")
        return "\n".join(items)
    if kind < 0.85:
        return "### " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 5))).title()
    lines = [
        rng.choice(_COMMANDS).format(w=rng.choice(_WORDS), n=rng.randint(1, 4))
        for _ in range(rng.randint(1, 5))
    ]
    return "```bash\n" + "\n".join(lines) + "\n```"


class Corpus:
    """A few MB of Markdown blocks; texts are cut from it at block boundaries (fast to draw)."""

    def __init__(self, rng: random.Random, blocks: int = 40_000) -> None:
        parts = [_block(rng) for _ in range(blocks)]
        self.text = "\n\n".join(parts) + "\n\n"
        self.starts = []
        pos = 0
        for part in parts:
            self.starts.append(pos)
            pos += len(part) + 2
        self._limit = len(self.starts) - 200

    def draw(self, rng: random.Random, lo: int, hi: int) -> str:
        """Whole blocks from a random place, between ``lo`` and ``hi`` characters long."""
        want = rng.randint(lo, hi)
        start = self.starts[rng.randrange(self._limit)]
        text = self.text
        end = text.find("\n\n", start + want)
        if end - start > hi:
            end = text.rfind("\n\n", start, start + hi)
        if end - start < lo:  # one huge block: cut it at a space instead
            end = text.rfind(" ", start, start + hi)
        return text[start:end]


def _verdict(q: float) -> str:
    return "B" if q > 0.1 else "A" if q < -0.1 else "tie"


def records(n_items: int = N_ITEMS, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """The project's native records, in order (deterministic in ``seed``)."""
    rng = random.Random(seed)
    corpus = Corpus(random.Random(seed + 1))
    for n in range(n_items):
        category = CATEGORIES[n % len(CATEGORIES)]
        language = LANGUAGES[(n // len(CATEGORIES)) % len(LANGUAGES)]
        quality = rng.gauss(0.3, 1.0)  # candidate minus baseline, as the judges see it
        v_ab = _verdict(quality + rng.gauss(0.0, 0.08))
        v_ba = v_ab if rng.random() < 0.96 else _verdict(quality + rng.gauss(0.0, 0.9))
        v_alt = _verdict(quality + rng.gauss(0.0, 0.12))
        p_b = min(0.99, max(0.01, 0.5 + quality * 0.6 + rng.gauss(0.0, 0.05)))
        record: dict[str, Any] = {
            "item_id": f"lp-{n:07d}",
            "prompt": corpus.draw(rng, *PROMPT_CHARS),
            "responses": {
                "A": {"model": BASELINE, "text": corpus.draw(rng, *RESPONSE_CHARS)},
                "B": {
                    "model": CANDIDATE_2 if n % 5 == 4 else CANDIDATE,
                    "text": corpus.draw(rng, *RESPONSE_CHARS),
                },
            },
            "slices": {"category": category, "language": language},
            "judgments": [
                {
                    "judge": "judge-gpt",
                    "kind": "llm",
                    "verdict": v_ab,
                    "order": "AB",
                    "probability_b": round(p_b, 3),
                },
                {
                    "judge": "judge-gpt",
                    "kind": "llm",
                    "verdict": v_ba,
                    "order": "BA",
                    "probability_b": round(min(0.99, max(0.01, p_b + rng.gauss(0, 0.04))), 3),
                },
                {"judge": "judge-claude", "kind": "llm", "verdict": v_alt},
            ],
        }
        if category == "harmful" and n % 3 == 0:
            record["expected_behavior"] = "refuse"
        if n % LABELED_EVERY == 0:
            first_left = "A" if rng.random() < 0.5 else "B"
            labels = []
            for k, reviewer in enumerate(rng.sample(REVIEWERS, 2)):
                left = first_left if k == 0 else ("B" if first_left == "A" else "A")
                choice = _verdict(quality + rng.gauss(0.0, 0.6))
                if choice == "tie" and rng.random() < 0.2:
                    choice = "both_bad"
                day, minute = 1 + (n // 3600) % 28, (n + 7 * k) % 1440
                labels.append(
                    {
                        "reviewer": reviewer,
                        "choice": choice,
                        "shown_left": left,
                        "labeled_at": f"2026-10-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z",
                        "refusal": {
                            "A": "full_compliance" if rng.random() < 0.95 else "partial_refusal",
                            "B": "full_compliance" if rng.random() < 0.93 else "full_refusal",
                        },
                        "dwell_ms": int(rng.lognormvariate(9.6, 0.5)),
                    }
                )
            record["labels"] = labels
        yield record


def write_source(path: Path, n_items: int = N_ITEMS) -> None:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with path.open("w", encoding="utf-8") as fh:
        batch = []
        for record in records(n_items):
            batch.append(dumps(record))
            if len(batch) >= 2000:
                fh.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            fh.write("\n".join(batch) + "\n")


def project_path() -> Path:
    return data_dir() / f"{VERSION}.reviewdesk"


def _upgrade_in_place(path: Path, verbose: bool) -> None:
    """Bring a cached project built by an older schema up to date once, in place.

    Otherwise every benchmark run would open its copy at the old schema and pay the upgrade (a
    backup of gigabytes, then new indexes) inside the figure it measures. The pre-upgrade backup
    is deleted: the cache can always be rebuilt.
    """
    from reviewdesk.services.project import open_project

    with open_project(path) as project:
        backup = project.store.migrated_backup
        if backup is not None:
            project.store.checkpoint()
    if backup is not None:
        backup.unlink(missing_ok=True)
        if verbose:
            print(f"    [{VERSION}] upgraded the cached project to the current schema", flush=True)


def large_project(verbose: bool = True) -> Path:
    """The cached large project, built on first use (tens of minutes; progress on stdout)."""
    path = project_path()
    if path.exists():
        _upgrade_in_place(path, verbose)
        return path
    from reviewdesk.domain.progress import run_to_completion
    from reviewdesk.services.importing import import_file
    from reviewdesk.services.project import create_project
    from reviewdesk.services.queue import build_queue

    def say(text: str) -> None:
        if verbose:
            print(f"    [{VERSION}] {text}", flush=True)

    source = data_dir() / f"{VERSION}.jsonl"
    started = time.perf_counter()
    say(f"generating {N_ITEMS:,} native records into {source.name} ...")
    write_source(source)
    generated = time.perf_counter()
    say(f"generated {source.stat().st_size / 1e9:.2f} GB in {generated - started:.0f} s")
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    with create_project(partial, seed=SEED, candidate=CANDIDATE, baseline=BASELINE) as project:
        report = run_to_completion(import_file(project, source))
        imported = time.perf_counter()
        say(f"imported in {imported - generated:.0f} s: {report.summary()}")
        queue = build_queue(project, audit_rate=AUDIT_RATE, overlap=OVERLAP)
        say(f"queue built in {time.perf_counter() - imported:.0f} s: {queue.summary()}")
        project.store.checkpoint()
    partial.rename(path)
    source.unlink()
    elapsed = time.perf_counter() - started
    say(f"built {path.name} in {elapsed:.0f} s ({path.stat().st_size / 1e9:.2f} GB on disk)")
    (data_dir() / f"{VERSION}.build.json").write_text(
        json.dumps(
            {
                "seconds_total": round(elapsed),
                "seconds_generate": round(generated - started),
                "seconds_import": round(imported - generated),
                "bytes": path.stat().st_size,
                "source_bytes_deleted": None,
            }
        )
    )
    return path


def build_info() -> dict[str, Any]:
    """What the last build recorded (time, size), if anything."""
    info = data_dir() / f"{VERSION}.build.json"
    return json.loads(info.read_text()) if info.exists() else {}


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--sample":  # a few records on stdout, to look at
        for record in records(int(argv[1]) if len(argv) > 1 else 3):
            sys.stdout.write(json.dumps(record, ensure_ascii=False, indent=1) + "\n")
        return 0
    path = large_project()
    info = build_info()
    size = path.stat().st_size + sum(
        p.stat().st_size for p in (Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )
    print(
        f"{path} ({size / 1e9:.2f} GB); build: {info or 'unknown'}; "
        f"free disk {os.statvfs(path).f_bavail * os.statvfs(path).f_frsize / 1e9:.0f} GB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
