"""The lead's dashboards window: six tabs fed by one refresh job off the UI thread (SPEC §6).

Orange3's three layers: the service computes (``services.dashboards.refresh_dashboards``, a
generator yielding ``Progress``), ``Ops.job`` runs it on the database worker with ~10 Hz
progress and Cancel wired to its token, and this window only renders the result — every tab
feeds plot items built once. A newer refresh cancels an older one, results of a canceled run are
dropped, and a change announced by another window (labels, imports, settings) marks the numbers
out of date instead of recomputing behind the lead's back.

Lead-only: the window names models, judges and reviewers, so the main window opens it from the
lead's project page and closes it (like every lead dialog) when review mode starts.
"""

from __future__ import annotations

import contextlib
import time
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.errors import CanceledError, UserError
from reviewdesk.domain.progress import CancelToken, Job, Progress
from reviewdesk.services.dashboards import (
    HUMAN_POPULATION,
    DashboardData,
    DashboardOptions,
    refresh_dashboards,
)
from reviewdesk.services.project import Project
from reviewdesk.ui import gui_thread_gc, tasks
from reviewdesk.ui.dashboards.monitor_tab import HomogenizationTab
from reviewdesk.ui.dashboards.outcome_tabs import RefusalTab, WinRatesTab
from reviewdesk.ui.dashboards.people_tabs import AgreementTab, JudgesTab, ReviewersTab
from reviewdesk.ui.dashboards.tab_base import DashboardTab
from reviewdesk.ui.dashboards.tables import set_primary_enabled
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.widgets import role_label

T = TypeVar("T")


def without_cyclic_gc(job: Job[T]) -> Job[T]:
    """Run ``job`` with Python's cyclic garbage collector paused (``gui_thread_gc.paused``).

    A refresh allocates hundreds of thousands of short-lived container objects on the worker;
    each of the full (generation-2) collections this triggers scans the whole heap while holding
    the GIL — measured at 150–300 ms each on 100k labels, every one a frozen UI thread. Reference
    counting still frees everything the refresh drops; only cyclic garbage waits until the
    collector is back on. Pauses nest, so overlapping jobs keep it off until the last one ends,
    including on cancel and errors.
    """
    with gui_thread_gc.paused():
        return (yield from job)


class DashboardWindow(QDialog):
    """Agreement, reviewers, judges, homogenization, win rates and refusal for one project."""

    refreshed = Signal(object)  # DashboardData
    refresh_failed = Signal(str)

    def __init__(
        self,
        ops: Ops,
        project: Project,
        parent: QWidget | None = None,
        *,
        options: DashboardOptions | None = None,
        auto_refresh: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardWindow")
        self.setWindowTitle(f"Dashboards — {project.name}")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.setWindowFlag(Qt.WindowType.WindowMinimizeButtonHint, True)
        self.resize(1280, 800)
        self._ops = ops
        self._project = project
        self.options = options or DashboardOptions()
        self._task: tasks.Task | None = None
        self._generation = 0
        self.data: DashboardData | None = None
        self.outdated = False
        #: How long the UI thread spent rendering the last result (seconds).
        self.render_seconds = 0.0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 10)
        layout.setSpacing(8)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(role_label("Dashboards", "title"))
        self.summary = role_label("Computing…", "muted")
        self.summary.setWordWrap(True)
        titles.addWidget(self.summary)
        head.addLayout(titles, 1)
        self.progress_label = role_label("", "muted")
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(180)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setProperty("role", "primary")
        self.refresh_button.clicked.connect(self.refresh)
        for widget in (self.progress_label, self.progress, self.cancel_button):
            head.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        head.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(head)

        self.banner = QFrame()
        self.banner.setObjectName("dashboardBanner")
        self.banner.setProperty("role", "banner")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(12, 7, 12, 7)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextFormat(Qt.TextFormat.PlainText)
        banner_layout.addWidget(self.banner_label, 1)
        self.banner.hide()
        layout.addWidget(self.banner)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("dashboardTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)
        self.agreement_tab = AgreementTab(ops)
        self.reviewers_tab = ReviewersTab(ops)
        self.judges_tab = JudgesTab(ops)
        self.homogenization_tab = HomogenizationTab(ops, project)
        self.homogenization_tab.refresh_requested.connect(self.refresh)
        self.win_rates_tab = WinRatesTab(ops)
        self.refusal_tab = RefusalTab(ops)
        self.all_tabs: list[DashboardTab] = [
            self.agreement_tab,
            self.reviewers_tab,
            self.judges_tab,
            self.homogenization_tab,
            self.win_rates_tab,
            self.refusal_tab,
        ]
        for tab in self.all_tabs:
            tab.on_message = self._say
            tab.set_loading("Computing…")
            self.tabs.addTab(tab, tab.title)
        layout.addWidget(self.tabs, 1)
        self.message = role_label("", "muted")
        self.message.setObjectName("dashboardMessage")
        layout.addWidget(self.message)
        ops.changes_applied.connect(self._on_changes)
        if auto_refresh:
            self.refresh()

    # ---- refresh

    @property
    def running(self) -> bool:
        return self._task is not None

    def refresh(self) -> tasks.Task:
        """Start a refresh (canceling a running one); the result arrives on the UI thread."""
        if self._task is not None:
            self._task.cancel()
        self._generation += 1
        generation = self._generation
        project = self._project
        options = self.options

        def job(cancel: CancelToken) -> Job[DashboardData]:
            return without_cyclic_gc(refresh_dashboards(project, options, cancel=cancel))

        self._set_running(True)
        self.progress_label.setText("Starting…")
        task = self._ops.job(
            job,
            on_progress=lambda p: self._on_progress(generation, p),
            on_done=lambda data: self._on_done(generation, data),
            on_error=lambda error: self._on_error(generation, error),
            owner=self,
        )
        self._task = task
        return task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.progress_label.setText("Canceling…")

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        set_primary_enabled(self.refresh_button, not running)
        if running:
            self.progress.setRange(0, 0)
        else:
            self.progress_label.setText("")

    def _on_progress(self, generation: int, progress: Progress) -> None:
        if generation != self._generation:
            return
        if progress.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * (progress.fraction or 0.0)))
        self.progress_label.setText(progress.label[:70])

    def _on_done(self, generation: int, data: DashboardData) -> None:
        if generation != self._generation:
            return
        self._task = None
        self._set_running(False)
        self.show_data(data)
        self.refreshed.emit(data)

    def _on_error(self, generation: int, error: BaseException) -> bool:
        if generation != self._generation:
            return isinstance(error, CanceledError | UserError)
        self._task = None
        self._set_running(False)
        if isinstance(error, CanceledError):
            self._say("Refresh canceled." + (" Showing the previous results." if self.data else ""))
            if self.data is None:
                for tab in self.all_tabs:
                    tab.set_loading("Canceled. Press Refresh to compute the dashboards.")
            self.refresh_failed.emit("canceled")
            return True
        if isinstance(error, UserError):
            self._say(str(error))
            for tab in self.all_tabs:
                if self.data is None:
                    tab.set_loading(str(error))
            self.refresh_failed.emit(str(error))
            return True
        self.refresh_failed.emit(repr(error))
        return False

    # ---- rendering

    def show_data(self, data: DashboardData) -> None:
        """Render a result (UI thread: plotting only)."""
        started = time.perf_counter()
        self.data = data
        self.outdated = False
        for tab in self.all_tabs:
            tab.set_data(data)
        self._show_summary(data)
        self.render_seconds = time.perf_counter() - started

    def _show_summary(self, data: DashboardData) -> None:
        human = data.monitor.dashboard.get(HUMAN_POPULATION)
        baseline = (
            ", ".join(human.baseline.window_ids)
            if human is not None and human.baseline.window_ids
            else "not yet"
        )
        self.summary.setText(
            f"{self._project.name} · {data.n_labels:,} current human labels from "
            f"{data.n_reviewers} reviewers · candidate {data.candidate or '—'} vs baseline "
            f"{data.baseline or '—'} · monitor baseline {baseline} · B = {data.n_boot}"
        )
        lines = []
        latest = data.monitor.latest_alarm(HUMAN_POPULATION)
        q = data.monitor.quarantine
        if latest is not None and latest[1] == 1.0:
            named = ", ".join(sorted(q.quarantined_labelers)) or "every reviewer"
            lines.append(
                f"Homogenization alarm in the latest alarm window ({latest[0]}): agreement rose "
                f"together with a probe. {len(q.label_ids):,} labels of {named} are "
                f"quarantined and enter no estimate; {len(q.tainted_items):,} items await "
                "fresh reviewers."
            )
        lines.extend(data.notes)
        self.banner_label.setText("\n".join(lines))
        self.banner.setVisible(bool(lines))

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def _on_changes(self, changes: Changes) -> None:
        relevant = changes.labels or changes.items or changes.judgments or changes.settings
        if relevant and self.data is not None and not self.running:
            self.outdated = True
            self._say("The project changed since this refresh: press Refresh to update.")

    # ---- closing

    def reject(self) -> None:
        if self._task is not None:
            self._task.cancel()  # the result, if any, is dropped (owner gone)
        super().reject()

    def done(self, result: int) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self._ops.changes_applied.disconnect(self._on_changes)
        super().done(result)
