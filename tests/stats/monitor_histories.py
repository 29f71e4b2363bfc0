"""Generated label histories for the homogenization monitor (STATISTICS.md §7).

A small generative model of weekly review: six labelers with their own bias and tie propensity
label new ordinary items (two labels each), a fixed anchor panel (four labels per anchor per
week), positive controls (a clear reference against a degraded copy) and negative controls
(identical answers). Two LLM judges score every item in both orders; ``judge-verbose`` leans
toward the longer answer. Scenarios change the process from window ``start`` on:

- ``null``: nothing changes;
- ``house_style``: four of the six labelers increasingly copy the house style — the verbose
  judge's verdict, else the longer answer, never a tie (p = 0.35, 0.70, 0.85 … of their labels);
- ``improvement``: the candidate genuinely improves — ordinary items separate (their latent
  quality moves away from 0), so agreement rises; no style or judge capture;
- ``drift``: labelers get noisier and the anchors' perceived content shifts (modal labels flip),
  agreement does not rise, positive-control accuracy falls.

Deterministic for a given seed; fully vectorised so a 14-window history takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reviewdesk.stats.homogenization import (
    PANEL_ANCHOR,
    PANEL_CONTROL_NEGATIVE,
    PANEL_CONTROL_POSITIVE,
    PANEL_NONE,
)
from reviewdesk.stats.monitor import ItemTable, LabelTable, MonitorInput, label_table

WEEK = 7 * 86400.0
T0 = 1767571200.0  # 2026-01-05T00:00:00Z, a Monday (ISO week 2026-W02)
LABELERS = tuple(f"rev-{k:02d}" for k in range(1, 7))
JUDGES = ("judge-plain", "judge-verbose")


@dataclass(frozen=True)
class HistoryShape:
    n_windows: int = 14
    anchors: int = 60
    anchor_labels: int = 4
    ordinary: int = 260
    positive: int = 16
    negative: int = 10


def simulate_history(
    seed: int,
    scenario: str = "null",
    start: int = 7,
    shape: HistoryShape | None = None,
) -> MonitorInput:
    """A generated history; see the module docstring for the scenarios."""
    shape = shape or HistoryShape()
    rng = np.random.default_rng(seed)
    n_lab = len(LABELERS)
    bias = rng.normal(0.0, 0.15, n_lab)
    cut = rng.uniform(0.35, 0.9, n_lab)  # tie band half-width: labelers differ in tie propensity
    drifters = np.arange(4)

    # ---------------------------------------------------------------- items
    panel: list[int] = []
    quality: list[float] = []
    style: list[tuple[float, float]] = []
    expected: list[float] = []
    window_of: list[int] = []  # -1 for anchors

    def add(kind: int, q: float, ln: float, md: float, exp: float, w: int) -> int:
        panel.append(kind)
        quality.append(q)
        style.append((ln, md))
        expected.append(exp)
        window_of.append(w)
        return len(panel) - 1

    for _ in range(shape.anchors):
        add(
            PANEL_ANCHOR,
            rng.normal(0.0, 0.25),
            rng.uniform(-0.6, 0.6),
            rng.uniform(-0.5, 0.5),
            np.nan,
            -1,
        )
    per_window: list[dict[str, list[int]]] = []
    for w in range(shape.n_windows):
        ids: dict[str, list[int]] = {"ordinary": [], "positive": [], "negative": []}
        shift = 0.0
        spread = 0.8
        if scenario == "improvement" and w >= start:
            shift = min(1.2, 0.45 * (w - start + 1))
            spread = 0.8 + 0.3 * min(1.0, (w - start + 1) / 3)
        for _ in range(shape.ordinary):
            q = rng.normal(0.0, spread)
            q = q + shift if q >= 0 else q - shift  # separation: items move away from 0
            ids["ordinary"].append(
                add(PANEL_NONE, q, rng.uniform(-0.6, 0.6), rng.uniform(-0.5, 0.5), np.nan, w)
            )
        for _ in range(shape.positive):
            ref = float(rng.choice([-1.0, 1.0]))
            ln = float(rng.choice([-1.0, 1.0])) * rng.uniform(
                0.1, 0.5
            )  # degraded copy longer or shorter
            ids["positive"].append(add(PANEL_CONTROL_POSITIVE, 1.6 * ref, ln, 0.0, ref, w))
        for _ in range(shape.negative):
            ids["negative"].append(add(PANEL_CONTROL_NEGATIVE, 0.0, 0.0, 0.0, np.nan, w))
        per_window.append(ids)
    n_items = len(panel)
    q_arr = np.asarray(quality)
    style_arr = np.asarray(style)
    panel_arr = np.asarray(panel, dtype=np.int64)
    anchor_flip = rng.choice([-1.0, 1.0], shape.anchors)

    # ---------------------------------------------------------------- judges (both orders)
    judge_tables: dict[str, LabelTable] = {}
    verbose_merged = np.zeros(n_items)
    for name, length_weight, noise in (("judge-plain", 0.0, 2.3), ("judge-verbose", 1.8, 2.2)):
        latent = q_arr + length_weight * style_arr[:, 0] + rng.normal(0, noise, n_items)
        values = []
        orients = []
        for order_sign in (1.0, -1.0):
            y = latent + rng.normal(0, 0.35, n_items) + 0.15 * order_sign
            v = np.where(y > 0.45, 1.0, np.where(y < -0.45, -1.0, 0.0))
            values.append(v)
            orients.append(np.full(n_items, order_sign))
        first, second = values
        if name == "judge-verbose":
            verbose_merged = np.where(first == second, first, 0.0)
        judge_tables[name] = label_table(
            item=np.concatenate([np.arange(n_items), np.arange(n_items)]),
            labeler=np.concatenate([np.zeros(n_items, np.int64), np.ones(n_items, np.int64)]),
            value=np.concatenate(values),
            orientation=np.concatenate(orients),
            labelers=("AB", "BA"),
        )

    # ---------------------------------------------------------------- human labels
    it_l: list[np.ndarray] = []
    lab_l: list[np.ndarray] = []
    win_l: list[np.ndarray] = []
    for w in range(shape.n_windows):
        ids = per_window[w]
        rows_item = []
        rows_lab = []
        anchors = np.arange(shape.anchors)
        for a in anchors:
            labs = rng.choice(n_lab, shape.anchor_labels, replace=False)
            rows_item.extend([a] * shape.anchor_labels)
            rows_lab.extend(labs.tolist())
        for key in ("ordinary", "positive", "negative"):
            for i in ids[key]:
                labs = rng.choice(n_lab, 2, replace=False)
                rows_item.extend([i, i])
                rows_lab.extend(labs.tolist())
        it_l.append(np.asarray(rows_item, dtype=np.int64))
        lab_l.append(np.asarray(rows_lab, dtype=np.int64))
        win_l.append(np.full(len(rows_item), w, dtype=np.int64))
    item = np.concatenate(it_l)
    labeler = np.concatenate(lab_l)
    window = np.concatenate(win_l)
    n = item.size
    # orientation: first label of an (item, window) random, the next one opposite
    orientation = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    noise_sd = np.ones(n)
    q_label = q_arr[item].copy()
    if scenario == "drift":
        after = window >= start
        noise_sd = np.where(after, 1.0 + 0.45 * np.minimum(3, window - start + 1), 1.0)
        on_anchor = panel_arr[item] == PANEL_ANCHOR
        q_label = np.where(
            after & on_anchor,
            q_label + 0.9 * anchor_flip[np.minimum(item, shape.anchors - 1)],
            q_label,
        )
    latent = (
        q_label
        + 0.25 * style_arr[item, 0]
        + bias[labeler]
        + 0.08 * orientation
        + rng.normal(0, 1, n) * noise_sd
    )
    c = cut[labeler]
    neg = panel_arr[item] == PANEL_CONTROL_NEGATIVE
    c = np.where(neg, 2.2, c)  # identical answers: mostly ties
    value = np.where(latent > c, 1.0, np.where(latent < -c, -1.0, 0.0))
    if scenario == "house_style":
        p = np.where(window >= start, np.minimum(0.85, 0.35 * (window - start + 1)), 0.0)
        copy = np.isin(labeler, drifters) & (rng.random(n) < p)
        house = np.where(
            verbose_merged[item] != 0, verbose_merged[item], np.sign(style_arr[item, 0])
        )
        house = np.where(house == 0, 1.0, house)
        value = np.where(copy, house, value)
    # the queue serves an entry to its reviewers one after another: an item's labels in a
    # window come within about an hour of each other
    key = item * shape.n_windows + window
    uniq, inv = np.unique(key, return_inverse=True)
    item_time = rng.uniform(0, WEEK - 7200, uniq.size)
    time = T0 + window * WEEK + item_time[inv] + rng.uniform(0, 3600, n)
    humans = label_table(
        item=item,
        labeler=labeler,
        value=value,
        orientation=orientation,
        labelers=LABELERS,
        time=time,
        label_id=np.arange(1, n + 1),
    )
    items = ItemTable(
        item_id=np.arange(1, n_items + 1, dtype=np.int64),
        panel=panel_arr,
        expected=np.asarray(expected, dtype=np.float64),
        style_raw=style_arr.astype(np.float64),
    )
    return MonitorInput(items, humans, judge_tables)
