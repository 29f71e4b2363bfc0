#!/usr/bin/env python3
"""Generate the ``labeler-drift`` sample project of reviewdesk: an eval that converges, then
quietly collapses (STATISTICS.md §7, "Homogenization and drift").

Twelve weekly review windows (ISO weeks 2026-W02 … 2026-W13) of a helpdesk-assistant release
review: slot roles are mixed per item between the baseline ``helpdesk-v4`` and the candidate
``helpdesk-v5``. Six reviewers label, in native JSON Lines (SPEC.md §3.1), each week:

- 200 new ordinary items, two labels each;
- the anchor panel: 60 fixed, deliberately ambiguous items (``panel: anchor``), four labels each
  per week — the same content every week;
- 12 positive controls (``panel: control_positive``: an answer against a degraded copy of itself,
  ``control.reference_slot`` names the intact one) and 8 negative controls
  (``panel: control_negative``: identical or trivially paraphrased answers), two labels each.

Two LLM judges score every item in both display orders: ``judge-verbose`` leans toward the longer,
more formatted answer; ``judge-terse`` does not. From week 7 (2026-W08) four of the six reviewers
drift into the house style — they increasingly pick what ``judge-verbose`` picked, else the
longer answer, and stop calling ties (35 %, 65 %, 80 %, then 85 % of their labels). Agreement
climbs, the anchors' disagreement collapses, ties vanish on the anchors, and the positive
controls do not get any easier. Nothing about the models changed.

Everything is simulated from hidden per-item quality; the README says what. Standard library
only and deterministic (``random.Random`` seeded with fixed strings): re-running gives
byte-identical files.

Usage::

    python generate.py            # (re)write the files and print a summary
    python generate.py --check    # regenerate into a temp folder; exit 1 if a file differs
    python generate.py --quiet    # write without the summary
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = "labeler-drift/v1"
HERE = Path(__file__).resolve().parent
BASELINE = "helpdesk-v4"
CANDIDATE = "helpdesk-v5"
JUDGES = ("judge-terse", "judge-verbose")
REVIEWERS = ("rev-ana", "rev-ben", "rev-chen", "rev-dara", "rev-eli", "rev-fay")
DRIFTERS = ("rev-ana", "rev-ben", "rev-chen", "rev-dara")
WEEK0 = datetime(2026, 1, 5, tzinfo=UTC)  # Monday of ISO week 2026-W02
N_WEEKS = 12
DRIFT_FROM = 6  # 0-based: the seventh week, 2026-W08
HOUSE_SHARE = (0.35, 0.65, 0.80, 0.85, 0.85, 0.85)
N_ORDINARY = 200
N_ANCHORS = 60
ANCHOR_LABELS = 4
N_POSITIVE = 12
N_NEGATIVE = 8


def week_id(week: int) -> str:
    year, number, _ = (WEEK0 + timedelta(weeks=week)).isocalendar()
    return f"{year:04d}-W{number:02d}"


OUTPUT_FILES = tuple(f"week-{week_id(w)}.jsonl" for w in range(N_WEEKS))


def rng(*parts: object) -> random.Random:
    return random.Random(":".join([SEED, *map(str, parts)]))


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------

TOPICS: list[dict[str, Any]] = [
    {
        "slice": "accounts",
        "prompt": "I forgot my password for the {app} portal and the reset email never arrives.",
        "key": "Check the spam folder, then request a new link: old links expire after {n} minutes",
        "steps": [
            "Make sure you typed the address you registered with",
            "Ask IT to confirm your account is not locked",
            "Try a private browser window",
        ],
    },
    {
        "slice": "network",
        "prompt": "The {app} VPN connects but I cannot reach any internal site.",
        "key": "Switch the VPN profile to full tunnel and reconnect",
        "steps": [
            "Restart the VPN client",
            "Check that your home router is not blocking UDP {n}00",
            "Flush the DNS cache",
        ],
    },
    {
        "slice": "billing",
        "prompt": "I was charged twice for the {app} subscription this month. What do I do?",
        "key": "Open a refund request under Billing > Invoices; duplicates are refunded in "
        "{n} days",
        "steps": [
            "Compare the two invoice numbers",
            "Check whether one charge is only a pending authorisation",
            "Keep the bank statement at hand",
        ],
    },
    {
        "slice": "devices",
        "prompt": "My {app} laptop says the disk is full and updates keep failing.",
        "key": "Run the storage cleanup tool and remove old update caches ({n} GB typically)",
        "steps": [
            "Empty the recycle bin",
            "Move large downloads to the shared drive",
            "Restart before retrying the update",
        ],
    },
    {
        "slice": "accounts",
        "prompt": "How do I set up two-factor authentication for {app}?",
        "key": "Scan the QR code under Profile > Security with an authenticator app and save the "
        "{n} backup codes",
        "steps": [
            "Install an authenticator app on your phone",
            "Keep the phone's clock in sync",
            "Test the login in a new window before logging out",
        ],
    },
    {
        "slice": "network",
        "prompt": "Video calls on {app} keep freezing every few minutes.",
        "key": "Turn off the VPN for the call or add the meeting domain to the split-tunnel list",
        "steps": [
            "Close other bandwidth-heavy apps",
            "Use a wired connection if possible",
            "Lower the video quality to {n}0p",
        ],
    },
    {
        "slice": "billing",
        "prompt": "Can I move our team from monthly to yearly billing on {app}?",
        "key": "An owner can switch under Billing > Plan; the unused month is credited pro rata",
        "steps": [
            "Check who the account owners are",
            "Confirm the seat count ({n}) first",
            "Download the last invoice for your records",
        ],
    },
    {
        "slice": "devices",
        "prompt": "The {app} printer on floor {n} shows 'offline' for everyone.",
        "key": "Power-cycle the printer and re-add it from the print server, not by IP",
        "steps": [
            "Check the network cable",
            "Look at the printer's own display for errors",
            "Tell the office manager if paper trays jam",
        ],
    },
]
APPS = ["Orbit", "Harbor", "Quill", "Nimbus", "Atlas", "Juniper"]
OPENERS = [
    "Thanks for reaching out!",
    "Happy to help with this.",
    "Good question — here is what usually works.",
    "Let's get this sorted.",
]
CLOSERS = [
    "If that does not help, reply here and we will take a closer look.",
    "Let me know how it goes!",
    "Feel free to open a ticket if the problem comes back.",
]
TIPS = [
    "**Tip:** write down what you changed so support can retrace it.",
    "**Note:** some of these settings need admin rights.",
    "**Good to know:** most issues like this are solved in a few minutes.",
]


@dataclass
class Topic:
    prompt: str
    key: str
    steps: list[str]
    slice: str


def topic(r: random.Random) -> Topic:
    t = TOPICS[r.randrange(len(TOPICS))]
    app = APPS[r.randrange(len(APPS))]
    n = r.choice([2, 3, 5, 10, 15, 30])
    return Topic(
        t["prompt"].format(app=app, n=n),
        t["key"].format(n=n),
        [s.format(n=n) for s in t["steps"]],
        t["slice"],
    )


def answer(t: Topic, r: random.Random, *, key_step: bool, verbose: bool) -> str:
    """A response: with or without the key step, terse or verbose (header, bold, tips)."""
    steps = list(t.steps)
    r.shuffle(steps)
    steps = steps[: r.choice([2, 3])]
    if key_step:
        steps.insert(r.randrange(len(steps) + 1), t.key)
    if not verbose:
        return "\n".join(f"{i}. {s}." for i, s in enumerate(steps, 1))
    lines = [r.choice(OPENERS), "", "## What to do", ""]
    lines += [
        f"{i}. **{s.split(' ')[0]}** {' '.join(s.split(' ')[1:])}." for i, s in enumerate(steps, 1)
    ]
    lines += ["", r.choice(TIPS), "", r.choice(CLOSERS)]
    return "\n".join(lines)


def degrade(text: str, method: str, r: random.Random) -> str:
    """A degraded copy for a positive control (the same rules as reviewdesk's generator)."""
    lines = text.split("\n")
    steps = [i for i, line in enumerate(lines) if line[:1].isdigit()]
    if method == "drop_key_step" and len(steps) > 1:
        k = max(steps, key=lambda i: len(lines[i]))
        return "\n".join(line for i, line in enumerate(lines) if i != k)
    if method == "truncate" and len(steps) > 1:
        return "\n".join(lines[: steps[len(steps) // 2]]).rstrip()
    if method == "filler" and steps:
        k = max(steps, key=lambda i: len(lines[i]))
        lines[k] = f"{lines[k].split('.')[0]}. Stay calm and double-check everything as you go."
        return "\n".join(lines)
    order = list(steps)
    r.shuffle(order)
    if order == steps:
        order = order[1:] + order[:1]
    out = list(lines)
    for src, dst in zip(steps, order, strict=True):
        out[dst] = lines[src]
    return "\n".join(out)


def paraphrase(text: str) -> str:
    for a, b in (
        ("you are", "you're"),
        ("does not", "doesn't"),
        ("do not", "don't"),
        ("Let's", "Let us"),
        ("If that", "If this"),
    ):
        text = text.replace(a, b)
    return text


def tokens(text: str) -> int:
    return len(text.split())


# ---------------------------------------------------------------------------------------------
# The simulation
# ---------------------------------------------------------------------------------------------


@dataclass
class Item:
    item_id: str
    week: int  # first week (anchors: -1)
    topic: Topic
    texts: dict[str, str]
    models: dict[str, str]
    cand_slot: str
    quality: float  # latent: candidate minus baseline
    panel: str | None = None
    control: dict[str, Any] | None = None
    judgments: list[dict[str, Any]] = field(default_factory=list)
    merged: dict[str, int] = field(default_factory=dict)  # judge → merged value (cand = +1)
    labels: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # week → labels

    @property
    def length_sign(self) -> int:
        c = tokens(self.texts[self.cand_slot])
        b = tokens(self.texts["B" if self.cand_slot == "A" else "A"])
        return (c > b) - (c < b)


def make_pair(t: Topic, r: random.Random, cand_key: bool, base_key: bool) -> tuple[dict, str]:
    cand_slot = r.choice("AB")
    base_slot = "B" if cand_slot == "A" else "A"
    texts = {
        cand_slot: answer(t, r, key_step=cand_key, verbose=r.random() < 0.5),
        base_slot: answer(t, r, key_step=base_key, verbose=r.random() < 0.5),
    }
    return texts, cand_slot


def new_item(item_id: str, week: int, r: random.Random, kind: str) -> Item:
    t = topic(r)
    if kind == "anchor":
        texts, cand_slot = make_pair(t, r, True, True)
        q = r.gauss(0.0, 0.25)
    else:
        ck, bk = r.random() < 0.68, r.random() < 0.62
        texts, cand_slot = make_pair(t, r, ck, bk)
        q = 1.2 * (ck - bk) + r.gauss(0.0, 0.6)
    models = {cand_slot: CANDIDATE, ("B" if cand_slot == "A" else "A"): BASELINE}
    return Item(
        item_id, week, t, texts, models, cand_slot, q, panel="anchor" if kind == "anchor" else None
    )


def control_item(item_id: str, week: int, r: random.Random, positive: bool) -> Item:
    t = topic(r)
    ref = answer(t, r, key_step=True, verbose=r.random() < 0.5)
    ref_slot = r.choice("AB")
    other = "B" if ref_slot == "A" else "A"
    if positive:
        method = r.choice(["drop_key_step", "truncate", "shuffle_sentences", "filler"])
        texts = {ref_slot: ref, other: degrade(ref, method, r)}
        control = {"kind": "control_positive", "method": method, "reference_slot": ref_slot}
        quality = 1.6 if ref_slot == "A" else -1.6  # in candidate terms: fixed below
    else:
        method = r.choice(["identical", "paraphrase"])
        texts = {ref_slot: ref, other: ref if method == "identical" else paraphrase(ref)}
        control = {"kind": "control_negative", "method": method, "reference_slot": None}
        quality = 0.0
    cand_slot = r.choice("AB")
    models = {cand_slot: CANDIDATE, ("B" if cand_slot == "A" else "A"): BASELINE}
    if positive:
        quality = 1.6 if ref_slot == cand_slot else -1.6
    return Item(
        item_id, week, t, texts, models, cand_slot, quality, panel=control["kind"], control=control
    )


def judge(item: Item) -> None:
    """Both judges, both orders: verbose leans to the longer answer; terse does not."""
    for name, length_weight, noise in (("judge-terse", 0.0, 2.0), ("judge-verbose", 1.8, 1.9)):
        r = rng("judge", name, item.item_id)
        latent = item.quality + length_weight * item.length_sign + r.gauss(0.0, noise)
        values = []
        for order in ("AB", "BA"):
            y = (
                latent
                + r.gauss(0.0, 0.35)
                + (0.15 if (order == "AB") == (item.cand_slot == "A") else -0.15)
            )
            v = 1 if y > 0.45 else (-1 if y < -0.45 else 0)
            values.append(v)
            item.judgments.append(
                {"judge": name, "kind": "llm", "verdict": slot_choice(item, v), "order": order}
            )
        item.merged[name] = values[0] if values[0] == values[1] else 0


def slot_choice(item: Item, v: int) -> str:
    if v == 0:
        return "tie"
    base = "B" if item.cand_slot == "A" else "A"
    return item.cand_slot if v > 0 else base


@dataclass
class Reviewer:
    name: str
    bias: float
    cut: float
    length_taste: float


def reviewers() -> list[Reviewer]:
    r = rng("reviewers")
    return [Reviewer(n, r.gauss(0.0, 0.15), r.uniform(0.35, 0.9), 0.25) for n in REVIEWERS]


def label(item: Item, rev: Reviewer, week: int, shown_left: str, at: datetime) -> dict[str, Any]:
    r = rng("label", item.item_id, rev.name, week)
    o = 1 if shown_left == item.cand_slot else -1
    cut = 2.2 if item.panel == "control_negative" else rev.cut
    y = item.quality + rev.length_taste * item.length_sign + rev.bias + 0.08 * o + r.gauss(0.0, 1.0)
    v = 1 if y > cut else (-1 if y < -cut else 0)
    if rev.name in DRIFTERS and week >= DRIFT_FROM:
        share = HOUSE_SHARE[min(week - DRIFT_FROM, len(HOUSE_SHARE) - 1)]
        if r.random() < share:
            house = item.merged.get("judge-verbose", 0) or item.length_sign or 1
            v = 1 if house > 0 else -1
    choice = slot_choice(item, v)
    if choice == "tie" and item.panel is None and item.quality < -0.5 and r.random() < 0.3:
        choice = "both_bad"
    return {
        "reviewer": rev.name,
        "choice": choice,
        "shown_left": shown_left,
        "labeled_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "refusal": {"A": "full_compliance", "B": "full_compliance"},
        "dwell_ms": int(r.uniform(9_000, 60_000)),
    }


def simulate() -> list[Item]:
    revs = reviewers()
    items: list[Item] = []
    anchors = [
        new_item(f"anchor-{k:03d}", -1, rng("anchor", k), "anchor") for k in range(N_ANCHORS)
    ]
    for it in anchors:
        judge(it)
    items += anchors
    for week in range(N_WEEKS):
        wr = rng("week", week)
        week_items: list[tuple[Item, int]] = [(a, ANCHOR_LABELS) for a in anchors]
        for k in range(N_ORDINARY):
            it = new_item(f"w{week + 1:02d}-{k:04d}", week, rng("item", week, k), "ordinary")
            judge(it)
            items.append(it)
            week_items.append((it, 2))
        for k in range(N_POSITIVE + N_NEGATIVE):
            positive = k < N_POSITIVE
            kind = "pos" if positive else "neg"
            it = control_item(
                f"w{week + 1:02d}-{kind}-{k:02d}", week, rng("ctl", week, k), positive
            )
            judge(it)
            items.append(it)
            week_items.append((it, 2))
        start = WEEK0 + timedelta(weeks=week)
        for it, n in week_items:
            who = wr.sample(revs, n)
            day = wr.randrange(5)
            minute = wr.randrange(9 * 60, 17 * 60)
            at = start + timedelta(days=day, minutes=minute)
            first = wr.choice("AB")
            labels = []
            for j, rev in enumerate(who):
                shown = first if j % 2 == 0 else ("B" if first == "A" else "A")
                labels.append(label(it, rev, week, shown, at + timedelta(minutes=7 * j)))
            it.labels[week] = labels
    return items


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def record(item: Item, week: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "item_id": item.item_id,
        "prompt": item.topic.prompt,
        "responses": {s: {"model": item.models[s], "text": item.texts[s]} for s in ("A", "B")},
        "slices": {"topic": item.topic.slice, "language": "en"},
        "expected_behavior": "answer",
    }
    if item.panel is not None:
        out["panel"] = item.panel
    if item.control is not None:
        out["control"] = item.control
    if item.week == week or (item.week == -1 and week == 0):
        out["judgments"] = item.judgments
    out["labels"] = item.labels.get(week, [])
    return out


def render(items: list[Item]) -> dict[str, str]:
    files: dict[str, str] = {}
    for week, name in enumerate(OUTPUT_FILES):
        lines = [
            json.dumps(record(it, week), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            for it in items
            if week in it.labels
        ]
        files[name] = "\n".join(lines) + "\n"
    return files


def write_files(files: dict[str, str], out: Path) -> None:
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")


def check(files: dict[str, str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        write_files(files, Path(tmp))
        bad = [
            name
            for name in files
            if not (HERE / name).exists()
            or (HERE / name).read_bytes() != (Path(tmp) / name).read_bytes()
        ]
    if bad:
        print(f"out of date: {', '.join(bad)} (run python generate.py)", file=sys.stderr)
        return 1
    print(f"{len(files)} files up to date")
    return 0


def summary(items: list[Item]) -> list[str]:
    """Per week: labels, share of ties on anchors, mean anchor disagreement, agreement with the
    verbose judge, share choosing the longer answer, positive-control accuracy."""
    out = ["week      labels  anchor-ties  anchor-D  agree-verbose  chose-longer  pos-acc"]
    for week in range(N_WEEKS):
        labels = [(it, lb) for it in items for lb in it.labels.get(week, [])]
        anchor = [(it, lb) for it, lb in labels if it.panel == "anchor"]
        ties = sum(lb["choice"] in ("tie", "both_bad") for _, lb in anchor) / len(anchor)
        dis = []
        for it in items:
            if it.panel == "anchor":
                cs = [
                    lb["choice"] if lb["choice"] != "both_bad" else "tie" for lb in it.labels[week]
                ]
                m = len(cs)
                same = sum(cs.count(c) * (cs.count(c) - 1) for c in set(cs))
                dis.append(1 - same / (m * (m - 1)))
        ordinary = [(it, lb) for it, lb in labels if it.panel is None]
        agree = sum(
            lb["choice"] == slot_choice(it, it.merged["judge-verbose"]) for it, lb in ordinary
        ) / len(ordinary)
        decisive = [
            (it, lb) for it, lb in ordinary if lb["choice"] in ("A", "B") and it.length_sign
        ]
        longer = sum(
            (lb["choice"] == it.cand_slot) == (it.length_sign > 0) for it, lb in decisive
        ) / len(decisive)
        pos = [(it, lb) for it, lb in labels if it.panel == "control_positive"]
        acc = sum(lb["choice"] == it.control["reference_slot"] for it, lb in pos) / len(pos)
        out.append(
            f"{week_id(week)}  {len(labels):6d}  {ties:11.2f}  {sum(dis) / len(dis):8.3f}  "
            f"{agree:13.2f}  {longer:12.2f}  {acc:7.2f}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if committed files differ")
    parser.add_argument("--quiet", action="store_true", help="do not print the summary")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    args = parser.parse_args(argv)
    items = simulate()
    files = render(items)
    if args.check:
        return check(files)
    args.out.mkdir(parents=True, exist_ok=True)
    write_files(files, args.out)
    if not args.quiet:
        for line in summary(items):
            print(line)
        total = sum((args.out / n).stat().st_size for n in files) / 1e6
        print(f"wrote {len(files)} files, {total:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
