"""``monitor`` (the homogenization and drift monitor) and ``panel`` (its instrumentation)."""

from __future__ import annotations

import argparse
import math
from datetime import datetime

from reviewdesk.cli.commands.common import open_project, print_json, project_arg


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = sub.add_parser(
        "monitor", help="homogenization and drift monitor: indicators H1–H5, alarms, quarantine"
    )
    project_arg(m)
    m.add_argument("--json", action="store_true", help="print the dashboard series as JSON")
    m.add_argument(
        "--freeze-baseline",
        action="store_true",
        help="freeze the current baseline windows and feature standardisation",
    )
    m.add_argument(
        "--lift-quarantine",
        metavar="WINDOW",
        help="lift the quarantine of one human alarm window (needs --why; logged)",
    )
    m.add_argument(
        "--acknowledge",
        metavar="STATISTIC@WINDOW",
        help="clear a latched CUSUM from WINDOW on, e.g. h3_specificity:judge-x@count-00001200",
    )
    m.add_argument("--population", default="human", help="population for --acknowledge")
    m.add_argument("--why", default="", help="the reason recorded with a manual action")
    m.add_argument("--actor", default="lead", help="who takes a manual action (audit chain)")
    m.set_defaults(run=run_monitor)

    p = sub.add_parser("panel", help="anchor panel, anchor rounds and controls (monitor probes)")
    ps = p.add_subparsers(dest="panel_command", metavar="ACTION", required=True)
    b = ps.add_parser("build", help="choose the anchor panel from the baseline period's labels")
    project_arg(b)
    b.add_argument(
        "--before", metavar="ISO_TIME", help="only labels given before this time (baseline end)"
    )
    b.add_argument("--min-size", type=int, default=50)
    b.add_argument("--max-size", type=int, default=100)
    b.add_argument("--json", action="store_true")
    b.set_defaults(run=run_panel_build)
    r = ps.add_parser("round", help="queue every anchor again for this week (or --round)")
    project_arg(r)
    r.add_argument("--round", type=int, metavar="YYYYWW", help="ISO year·100 + week")
    r.add_argument("--labels", type=int, default=3, help="distinct reviewers per anchor (≥ 3)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(run=run_panel_round)
    c = ps.add_parser("controls", help="add positive and negative control items to the queue")
    project_arg(c)
    c.add_argument("--rate", type=float, default=0.05, help="share of queue traffic (0.05)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(run=run_panel_controls)


def _fmt(value: float) -> str:
    return "·" if math.isnan(value) else f"{value:.0f}"


def run_monitor(args: argparse.Namespace) -> int:
    from reviewdesk.cli.progress import run_job
    from reviewdesk.domain.errors import UserError
    from reviewdesk.services import monitor as svc

    with open_project(args.project) as project:
        if args.freeze_baseline:
            frozen = svc.freeze_baseline(project, actor=args.actor)
            if args.json:
                print_json(frozen.to_json())
            else:
                print(
                    f"monitor baseline frozen: {frozen.monitor_baseline_version}, feature "
                    f"standardization {frozen.standardization_version}"
                )
            return 0
        if args.lift_quarantine:
            svc.lift_quarantine(
                project, "human", args.lift_quarantine, actor=args.actor, why=args.why
            )
            print(f"quarantine of human window {args.lift_quarantine} lifted (logged)")
            return 0
        if args.acknowledge:
            statistic, sep, window = args.acknowledge.rpartition("@")
            if not sep or not statistic or not window:
                raise UserError("--acknowledge takes STATISTIC@WINDOW")
            svc.acknowledge_alarm(
                project, args.population, statistic, window, actor=args.actor, why=args.why
            )
            print(f"{args.population} {statistic} acknowledged from {window} (logged)")
            return 0
        report = run_job(svc.refresh_monitor(project))
    if args.json:
        print_json(report.to_json())
        return 0
    config = report.config
    print(
        f"monitor: {report.n_labels} current human labels ({report.n_unknown_side} of unknown "
        f"side left out); baseline {config['monitor_baseline_version'] or 'not yet'}, "
        f"features {config['feature_standardization_version'] or 'not yet'}"
    )
    for title, series in (("weekly windows", report.dashboard), ("alarm windows", report.alarms)):
        for pop, s in sorted(series.items()):
            print(f"\n{title}, {pop} (baseline: {', '.join(s.baseline.window_ids) or 'none'})")
            rows = list(range(len(s.window_ids)))
            if title == "alarm windows":
                rows = rows[-8:]
            print("  window            H D  H1 H2 H3 H4 H5  status")
            for k in rows:
                comps = "  ".join(_fmt(s.components[h][k]) for h in ("H1", "H2", "H3", "H4", "H5"))
                print(
                    f"  {s.window_ids[k]:16s}  {_fmt(s.homogenization_alarm[k])} "
                    f"{_fmt(s.drift_alarm[k])}  {comps}   {s.alarm_status[k]}"
                )
    q = report.quarantine
    print(
        f"\nquarantine: {len(q.label_ids)} labels in {sum(not w.lifted for w in q.windows)} "
        f"alarm windows; {len(q.tainted_items)} items await relabelling by fresh labelers"
    )
    if q.quarantined_labelers:
        print(f"  named labelers: {', '.join(sorted(q.quarantined_labelers))}")
    return 0


def run_panel_build(args: argparse.Namespace) -> int:
    from reviewdesk.domain.errors import UserError
    from reviewdesk.services.instrumentation import build_anchor_panel

    before = None
    if args.before:
        try:
            before = datetime.fromisoformat(args.before.replace("Z", "+00:00"))
        except ValueError:
            raise UserError(f"--before: not an ISO 8601 time: {args.before!r}") from None
        if before.tzinfo is None:
            raise UserError("--before needs a time zone (e.g. 2026-02-01T00:00:00Z)")
    with open_project(args.project) as project:
        report = build_anchor_panel(
            project, before=before, min_size=args.min_size, max_size=args.max_size
        )
    print_json(report.to_json()) if args.json else print(report.summary())
    return 0


def run_panel_round(args: argparse.Namespace) -> int:
    from reviewdesk.services.instrumentation import schedule_anchor_round

    with open_project(args.project) as project:
        report = schedule_anchor_round(project, round_=args.round, labels_needed=args.labels)
    print_json(report.to_json()) if args.json else print(report.summary())
    return 0


def run_panel_controls(args: argparse.Namespace) -> int:
    from reviewdesk.services.instrumentation import add_controls

    with open_project(args.project) as project:
        report = add_controls(project, rate=args.rate)
    print_json(report.to_json()) if args.json else print(report.summary())
    return 0
