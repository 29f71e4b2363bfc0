"""The monitor on generated histories (STATISTICS.md §7; see ``monitor_histories``).

The acceptance criteria of the monitor: a house-style ramp raises the homogenization alarm within
three windows of its start and never before it; a genuine improvement (models separate, agreement
rises, no style or judge capture) raises none; a pure drift raises the drift alarm, not the
homogenization alarm. Production settings throughout (B = 1000, §7.3 thresholds), several seeds.
"""

from __future__ import annotations

import pytest

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.stats.monitor import (
    HUMAN,
    CalendarWeeks,
    CountWindows,
    MonitorConfig,
    MonitorRun,
    first_alarm,
    run_monitor,
)
from tests.stats.monitor_histories import LABELERS, T0, WEEK, simulate_history

START = 7  # the scenario changes from the eighth weekly window on
pytestmark = pytest.mark.slow


def _weekly(seed: int, scenario: str) -> MonitorRun:
    data = simulate_history(seed, scenario, start=START)
    return run_to_completion(run_monitor(data, CalendarWeeks(), MonitorConfig(seed=seed)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_house_style_ramp_alarms_within_three_windows_and_never_before(seed: int) -> None:
    run = _weekly(seed, "house_style")
    human = run.populations[HUMAN]
    assert human.baseline.status == "ok"
    first = first_alarm(human)
    assert first is not None
    assert START <= first <= START + 2
    assert all(w.homogenization_alarm in (0, None) for w in human.windows[:START])
    # and it stays: the last window of the ramp is in alarm, attributed to the drifters
    last = human.windows[-1]
    assert last.homogenization_alarm == 1
    assert last.attributable
    assert set(last.named_labelers) <= set(LABELERS[:4])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_genuine_improvement_raises_no_alarm(seed: int) -> None:
    run = _weekly(seed, "improvement")
    human = run.populations[HUMAN]
    # agreement really rises …
    assert any(w.rising for w in human.windows[START:])
    # … but without style or judge capture there is no homogenization alarm
    assert first_alarm(human) is None


@pytest.mark.parametrize("seed", [1])
def test_null_history_raises_nothing(seed: int) -> None:
    run = _weekly(seed, "null")
    for pop in run.populations.values():
        assert first_alarm(pop) is None, pop.population
        assert first_alarm(pop, "drift_alarm") is None, pop.population


@pytest.mark.parametrize("seed", [1, 2])
def test_drift_raises_the_drift_alarm_not_homogenization(seed: int) -> None:
    run = _weekly(seed, "drift")
    human = run.populations[HUMAN]
    assert first_alarm(human) is None
    first = first_alarm(human, "drift_alarm")
    assert first is not None
    assert START <= first <= START + 2


def test_count_windows_alarm_after_the_ramp_starts_never_before() -> None:
    data = simulate_history(4, "house_style", start=START)
    run = run_to_completion(run_monitor(data, CountWindows(500, 100), MonitorConfig(seed=4)))
    human = run.populations[HUMAN]
    ramp_start = T0 + START * WEEK
    alarmed = [w for w in human.windows if w.homogenization_alarm == 1]
    assert alarmed
    # no window made only of labels from before the ramp alarms
    assert all(w.window.end >= ramp_start for w in alarmed)
    # the last windows (all labels deep in the ramp) are in alarm
    assert human.windows[-1].homogenization_alarm == 1
