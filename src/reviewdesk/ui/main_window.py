"""The main window: start page, review mode and lead mode, and the moves between them.

Modes decide what is reachable. In review mode the menu bar is hidden and every lead action is
disabled, so a reviewer has no menu path to the queue overview, imports or settings (which name
models and judges); ending the review session closes the project and returns to the start page.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QMainWindow,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from reviewdesk.domain.changes import Changes
from reviewdesk.domain.errors import UserError
from reviewdesk.domain.keymap import DEFAULT_KEYMAP
from reviewdesk.services.presence import PresenceRecord, WindowPresence, this_host
from reviewdesk.services.project import PROJECT_SUFFIX
from reviewdesk.services.recent import list_recent_projects, remember_project
from reviewdesk.services.ui_settings import load_ui_settings
from reviewdesk.ui import crash, resources, tasks, theme
from reviewdesk.ui.ops import Ops
from reviewdesk.ui.presence_notice import PresenceBanner, describe
from reviewdesk.ui.project_session import (
    OpenedProject,
    build_demo,
    close_project,
    create_for_session,
    open_for_session,
    start_reviewer,
)
from reviewdesk.ui.review.review_controller import ReviewController
from reviewdesk.ui.review.review_view import ReviewView
from reviewdesk.ui.start_page import StartPage

if TYPE_CHECKING:  # the lead's windows are imported when first opened: a faster start
    from reviewdesk.services.queue import QueueBuildReport
    from reviewdesk.ui.dashboards.dashboard_window import DashboardWindow
    from reviewdesk.ui.dialogs.adjudication import AdjudicationDialog
    from reviewdesk.ui.dialogs.audit_log import AuditLogDialog
    from reviewdesk.ui.dialogs.erase_dialog import EraseDialog
    from reviewdesk.ui.dialogs.export_dialog import ExportDialog
    from reviewdesk.ui.dialogs.gate_check import GateCheckDialog
    from reviewdesk.ui.dialogs.import_dialog import ImportDialog
    from reviewdesk.ui.dialogs.settings_dialog import SettingsDialog
    from reviewdesk.ui.lead.project_page import ProjectPage
    from reviewdesk.ui.lead.queue_overview import QueueOverviewDialog

log = logging.getLogger("reviewdesk.ui")
APP_TITLE = "reviewdesk"


class Mode(StrEnum):
    START = "start"
    LEAD = "lead"
    REVIEW = "review"


#: How often an open window looks again who else has its project open (a directory listing and
#: one lock probe per other window, on the worker).
PRESENCE_RECHECK_MS = 15_000


def _presence_key(others: list[PresenceRecord]) -> frozenset[tuple[str, str | None, str, int]]:
    return frozenset((r.mode, r.reviewer, r.host, r.pid) for r in others)


class MainWindow(QMainWindow):
    mode_changed = Signal(str)
    review_started = Signal(object)  # ReviewView
    presence_checked = Signal(object)  # list[PresenceRecord]: the other windows just found

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(resources.app_icon())
        self.resize(1280, 800)
        self.setMinimumSize(720, 520)
        self.ops = Ops(self)
        self.ops.changes_applied.connect(self._on_changes)
        self.mode = Mode.START
        self.opened: OpenedProject | None = None
        self.review_view: ReviewView | None = None
        self.controller: ReviewController | None = None
        self.reviewer: str | None = None
        #: This window's presence record on the open project (``services.presence``).
        self.presence: WindowPresence | None = None
        self.theme_preference = "system"
        self.keymap: dict[str, tuple[str, ...]] = dict(DEFAULT_KEYMAP)
        self._load_ui_settings()

        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.setCentralWidget(self.pages)
        #: Says so when the open project is also open in other reviewdesk windows: a bar
        #: across the top of the window (a fixed tool bar), shown only with a notice.
        self.presence_banner = PresenceBanner()
        self.presence_bar = QToolBar("Other windows")
        self.presence_bar.setObjectName("presenceBar")
        self.presence_bar.setMovable(False)
        self.presence_bar.setFloatable(False)
        self.presence_bar.toggleViewAction().setVisible(False)  # not in the context menu
        self.presence_bar.addWidget(self.presence_banner)
        self.presence_banner.wanted.connect(self.presence_bar.setVisible)
        self.presence_bar.hide()
        #: What the notice last reflected (a dismissed notice stays away until it changes).
        self._presence_seen: frozenset[tuple[str, str | None, str, int]] = frozenset()
        self._presence_timer = QTimer(self)
        self._presence_timer.setInterval(PRESENCE_RECHECK_MS)
        self._presence_timer.timeout.connect(self.recheck_presence)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.presence_bar)
        self.start_page = StartPage()
        self.start_page.open_requested.connect(self.choose_project_to_open)
        self.start_page.new_requested.connect(self.new_project)
        self.start_page.demo_requested.connect(self.open_demo)
        self.start_page.review_requested.connect(lambda p: self.open_project(Path(p), Mode.REVIEW))
        self.start_page.manage_requested.connect(lambda p: self.open_project(Path(p), Mode.LEAD))
        self.start_page.settings_requested.connect(self.open_settings)
        self.pages.addWidget(self.start_page)
        #: The lead's page exists only in lead mode: review mode must hold no widget that
        #: ever showed model or judge names, visible or not.
        self.project_page: ProjectPage | None = None
        self._build_menus()
        self._show_start()

    # ------------------------------------------------------------------ setup

    def _load_ui_settings(self) -> None:
        try:
            settings = load_ui_settings()
        except UserError as exc:
            crash.show_user_error(f"{exc}\nUsing the default keys and theme for now.", self)
            return
        self.keymap = settings.keymap()
        self.theme_preference = settings.theme

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = QAction(
            "Open project…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Open)
        )
        self.open_action.triggered.connect(self.choose_project_to_open)
        self.new_action = QAction(
            "New project…", self, shortcut=QKeySequence(QKeySequence.StandardKey.New)
        )
        self.new_action.triggered.connect(self.new_project)
        self.demo_action = QAction("Open the demo project", self)
        self.demo_action.triggered.connect(self.open_demo)
        self.close_action = QAction("Close project", self)
        self.close_action.triggered.connect(self.close_to_start)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.triggered.connect(self.open_settings)
        self.quit_action = QAction(
            "Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit)
        )
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.quit_action.triggered.connect(self.close)
        self.addAction(self.quit_action)  # stays reachable with the menu bar hidden
        for action in (
            self.open_action,
            self.new_action,
            self.demo_action,
            None,
            self.close_action,
            self.settings_action,
            None,
            self.quit_action,
        ):
            if action is None:
                file_menu.addSeparator()
            else:
                file_menu.addAction(action)
        lead_menu = bar.addMenu("&Lead")
        self.import_action = QAction("Import results…", self)
        self.import_action.triggered.connect(self.open_import)
        self.build_action = QAction("Build queue", self)
        self.build_action.triggered.connect(self.build_queue)
        self.overview_action = QAction("Queue overview", self)
        self.overview_action.triggered.connect(self.open_queue_overview)
        self.review_action = QAction("Start reviewing…", self)
        self.review_action.triggered.connect(self.choose_reviewer)
        for action in (
            self.import_action,
            self.build_action,
            self.overview_action,
            None,
            self.review_action,
        ):
            if action is None:
                lead_menu.addSeparator()
            else:
                lead_menu.addAction(action)
        self.lead_actions = (
            self.import_action,
            self.build_action,
            self.overview_action,
            self.review_action,
        )

    # ------------------------------------------------------------------ modes

    def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        reviewing = mode is Mode.REVIEW
        self.menuBar().setVisible(not reviewing)
        self.statusBar().setVisible(not reviewing)
        self.statusBar().clearMessage()
        for action in self.lead_actions:
            action.setEnabled(mode is Mode.LEAD)
        for action in (self.open_action, self.new_action, self.demo_action, self.settings_action):
            action.setEnabled(not reviewing)
        self.close_action.setEnabled(mode is Mode.LEAD)
        name = self.opened.name if self.opened is not None else None
        if mode is Mode.START or name is None:
            self.setWindowTitle(APP_TITLE)
        elif reviewing:
            self.setWindowTitle(f"{APP_TITLE} — {name}")
        else:
            self.setWindowTitle(f"{APP_TITLE} — {name} (lead)")
        self.mode_changed.emit(mode.value)

    def _show_start(self) -> None:
        self.start_page.set_recent(list_recent_projects())
        self.start_page.set_busy("")
        self.pages.setCurrentWidget(self.start_page)
        self._set_mode(Mode.START)

    # ------------------------------------------------------------------ opening

    def choose_project_to_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open project", "", f"reviewdesk projects (*{PROJECT_SUFFIX});;All files (*)"
        )
        if path:
            self.open_project(Path(path), Mode.REVIEW)

    def open_project(
        self, path: Path, mode: Mode = Mode.REVIEW, reviewer: str | None = None
    ) -> None:
        """Open ``path`` for review (asking who reviews unless ``reviewer``) or as the lead."""
        self._end_session(close=True)
        self.start_page.set_busy(f"Opening {path.name}…")

        def opened(result: OpenedProject) -> None:
            self.opened = result
            self.start_page.set_busy("")
            try:
                remember_project(result.path)
            except OSError:
                log.warning("could not update the recent projects list", exc_info=True)
            if result.migrated_backup is not None:
                self.statusBar().showMessage(
                    f"Upgraded the project file; the old version is in {result.migrated_backup}"
                )
            if mode is Mode.LEAD:
                self.show_lead()
            elif reviewer:
                self.start_review(reviewer)
            else:
                self.choose_reviewer()

        self.ops.call(open_for_session, Path(path), on_done=opened, on_error=self._not_busy)

    def open_demo(self) -> None:
        self.start_page.set_busy("Building the demo project (first time only)…")
        self.ops.call(
            build_demo,
            on_done=lambda path: self.open_project(path, Mode.REVIEW),
            on_error=self._not_busy,
        )

    def _not_busy(self, _error: BaseException) -> bool:
        self.start_page.set_busy("")
        return False  # still show the error

    def new_project(self) -> None:
        from reviewdesk.ui.dialogs.new_project_dialog import NewProjectDialog

        dialog = NewProjectDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def create() -> None:
            path = dialog.path()
            self._end_session(close=True)

            def created(result: OpenedProject) -> None:
                self.opened = result
                remember_project(result.path)
                self.show_lead()

            self.ops.call(
                create_for_session,
                path,
                dialog.candidate_model(),
                dialog.baseline_model(),
                on_done=created,
            )

        dialog.accepted.connect(create)
        dialog.open()

    def close_to_start(self) -> None:
        self._end_session(close=True)
        self._show_start()

    # ------------------------------------------------------------------ lead mode

    def show_lead(self) -> None:
        opened = self.opened
        if opened is None:
            return
        self._end_session(close=False)
        from reviewdesk.ui.lead.project_page import ProjectPage

        page = ProjectPage()
        page.review_requested.connect(self.choose_reviewer)
        page.import_requested.connect(self.open_import)
        page.build_queue_requested.connect(self.build_queue)
        page.overview_requested.connect(self.open_queue_overview)
        page.settings_requested.connect(self.open_settings)
        page.close_requested.connect(self.close_to_start)
        page.dashboards_requested.connect(self.open_dashboards)
        page.export_requested.connect(self.open_export)
        page.gate_check_requested.connect(self.open_gate_check)
        page.adjudicate_requested.connect(self.open_adjudication)
        page.audit_log_requested.connect(self.open_audit_log)
        page.erase_requested.connect(self.open_erasure)
        page.set_project(opened.name, str(opened.path))
        self.project_page = page
        self.pages.addWidget(page)
        self.pages.setCurrentWidget(page)
        self._set_mode(Mode.LEAD)
        self.refresh_lead()
        self._announce(Mode.LEAD, None)

    def refresh_lead(self) -> None:
        if self.opened is not None and self.mode is Mode.LEAD:
            from reviewdesk.services.status import get_status

            self.ops.call(get_status, self.opened.project, on_done=self._show_status)

    def _show_status(self, status: dict[str, object]) -> None:
        if self.mode is Mode.LEAD and self.project_page is not None:
            self.project_page.set_status(status)

    def _on_changes(self, changes: Changes) -> None:
        if (
            self.mode is Mode.LEAD
            and self.project_page is not None
            and self.project_page.wants(changes)
        ):
            self.refresh_lead()

    def open_import(self) -> ImportDialog | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.dialogs.import_dialog import ImportDialog

        dialog = ImportDialog(self.ops, self.opened.project, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def build_queue(self) -> None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return
        from reviewdesk.services.queue import build_queue

        def built(report: QueueBuildReport) -> None:
            self.statusBar().showMessage(report.summary(), 10_000)

        self.ops.call(build_queue, self.opened.project, on_done=built, changes=Changes(queue=True))

    def open_queue_overview(self) -> QueueOverviewDialog | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.lead.queue_overview import QueueOverviewDialog

        dialog = QueueOverviewDialog(self.ops, self.opened.project, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # The evidence and release windows below open from the lead's project page only (no menu
    # actions): actions stay in the window in review mode, and their words ("audit",
    # "conflicts") must not (tests/ui/test_blinding.py); the page is dropped before reviewing.

    def _lead_dialog(self, dialog: QDialog) -> QDialog:
        """Open a lead-only window (closed again when review mode starts)."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_dashboards(self) -> DashboardWindow | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.dashboards.dashboard_window import DashboardWindow

        dialog = DashboardWindow(self.ops, self.opened.project, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()  # modeless: the lead keeps the project page at hand
        return dialog

    def open_export(self, kind: str = "preferences") -> ExportDialog | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.dialogs.export_dialog import ExportDialog

        dialog = ExportDialog(self.ops, self.opened.project, self, kind=kind or "preferences")
        self._lead_dialog(dialog)
        return dialog

    def open_gate_check(self) -> GateCheckDialog | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.dialogs.gate_check import GateCheckDialog

        dialog = GateCheckDialog(self.ops, self)
        self._lead_dialog(dialog)
        return dialog

    def open_adjudication(self) -> AdjudicationDialog | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.dialogs.adjudication import AdjudicationDialog

        dialog = AdjudicationDialog(self.ops, self.opened.project, self)
        self._lead_dialog(dialog)
        return dialog

    def open_audit_log(self) -> AuditLogDialog | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.dialogs.audit_log import AuditLogDialog

        dialog = AuditLogDialog(self.ops, self.opened.project, self)
        self._lead_dialog(dialog)
        return dialog

    def open_erasure(self) -> EraseDialog | None:
        if self.opened is None or self.mode is not Mode.LEAD:
            return None
        from reviewdesk.ui.dialogs.erase_dialog import EraseDialog

        dialog = EraseDialog(self.ops, self.opened.project, self)
        self._lead_dialog(dialog)
        return dialog

    def open_settings(self) -> SettingsDialog | None:
        if self.mode is Mode.REVIEW:
            return None  # never from review mode: the project tab names models
        project = (
            self.opened.project if self.opened is not None and self.mode is Mode.LEAD else None
        )
        from reviewdesk.ui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ops, self.keymap, self.theme_preference, project, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.keymap_saved.connect(self.apply_keymap)
        dialog.theme_saved.connect(self.apply_theme)
        dialog.open()
        return dialog

    def apply_keymap(self, keymap: dict[str, tuple[str, ...]]) -> None:
        self.keymap = dict(keymap)
        if self.review_view is not None:
            self.review_view.apply_keymap(self.keymap)

    def apply_theme(self, preference: str) -> None:
        self.theme_preference = preference
        theme.manager().apply(preference)

    # ------------------------------------------------------------------ review mode

    def choose_reviewer(self) -> None:
        opened = self.opened
        if opened is None:
            return
        from reviewdesk.ui.dialogs.reviewer_dialog import ReviewerDialog

        dialog = ReviewerDialog(opened.profiles, self.reviewer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen() -> None:
            self.start_review(dialog.name())

        def canceled() -> None:
            if self.mode is Mode.START:  # opened for review, but nobody chose a profile
                self.close_to_start()

        dialog.accepted.connect(chosen)
        dialog.rejected.connect(canceled)
        dialog.open()

    def start_review(self, reviewer: str) -> None:
        """Begin (or switch to) ``reviewer``'s session on the open project."""
        opened = self.opened
        if opened is None:
            return

        def ready(result: tuple[str, bool]) -> None:
            name, reveal_allowed = result
            self._end_session(close=False)
            self._drop_lead_page()
            self.reviewer = name
            if name not in opened.profiles:
                opened.profiles.append(name)
            view = ReviewView(self.ops, self.keymap)
            controller = ReviewController(
                self.ops, opened.project, name, reveal_allowed=reveal_allowed
            )
            view.attach(controller)
            view.end_session_requested.connect(self.close_to_start)
            view.switch_reviewer_requested.connect(self.choose_reviewer)
            self.review_view, self.controller = view, controller
            self.pages.addWidget(view)
            self.pages.setCurrentWidget(view)
            self._set_mode(Mode.REVIEW)
            view.setFocus()
            view.set_window_active(self.isActiveWindow() and not self.isMinimized())
            controller.start()
            self._announce(Mode.REVIEW, name)  # after the first fetch: never delays the pair
            self.review_started.emit(view)

        self.ops.call(
            start_reviewer, opened.project, reviewer, on_done=ready, changes=Changes(reviewers=True)
        )

    # ------------------------------------------------------------------ other windows

    def _announce(self, mode: Mode, reviewer: str | None) -> None:
        """Record that this window has the project open, and tell the user who else has."""
        opened = self.opened
        if opened is None:
            return
        self.presence_banner.clear()
        if self.presence is None:
            self.presence = WindowPresence(opened.path)
        presence = self.presence

        def done(others: list[PresenceRecord]) -> None:
            if self.presence is presence:  # still the same project in this window
                self._presence_seen = _presence_key(others)
                self.show_presence(others, mode, reviewer)
                self.presence_checked.emit(others)
                self._presence_timer.start()

        self.ops.call(presence.announce, mode.value, reviewer, on_done=done)

    def recheck_presence(self) -> None:
        """Look again who else has the project open (every ``PRESENCE_RECHECK_MS``).

        So the window that opened first is told too, and a notice goes away once the other
        window closes. Only a change is shown: a dismissed notice stays dismissed.
        """
        presence, mode, reviewer = self.presence, self.mode, self.reviewer
        if presence is None:
            self._presence_timer.stop()
            return

        def done(others: list[PresenceRecord]) -> None:
            if self.presence is not presence:
                return
            key = _presence_key(others)
            if key != self._presence_seen:
                self._presence_seen = key
                self.show_presence(others, mode, reviewer)
                self.presence_checked.emit(others)

        self.ops.call(presence.others, on_done=done)

    def show_presence(self, others: list[PresenceRecord], mode: Mode, reviewer: str | None) -> None:
        """Show what ``others`` means for this window (nothing when it is alone)."""
        if self.mode is not mode or (mode is Mode.REVIEW and self.reviewer != reviewer):
            return  # the window has moved on since it asked
        self.presence_banner.show_notice(describe(others, mode.value, reviewer, this_host()))

    def _release_presence(self) -> None:
        """Queued after every announce on the worker, so it always finds the record."""
        self._presence_timer.stop()
        self._presence_seen = frozenset()
        self.presence_banner.clear()
        presence, self.presence = self.presence, None
        if presence is not None:
            self.ops.call(presence.release)

    def _drop_lead_page(self) -> None:
        page = self.project_page
        if page is not None:
            self.pages.removeWidget(page)
            page.setParent(None)
            page.deleteLater()
            self.project_page = None
            for dialog in self.findChildren(QDialog):  # import, overview, settings: lead-only
                if dialog.isVisible():
                    dialog.reject()

    def _end_session(self, close: bool) -> None:
        """Stop the review session (if any); with ``close`` also close the project."""
        view = self.review_view
        if view is not None:
            view.shutdown()
            self.pages.removeWidget(view)
            view.deleteLater()
            self.review_view = None
            self.controller = None
        if close:
            self._drop_lead_page()
        if close and self.opened is not None:
            self.ops.call(close_project, self.opened.project)
            self._release_presence()
            self.opened = None
            self.reviewer = None

    # ------------------------------------------------------------------ window

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        activity = (QEvent.Type.ActivationChange, QEvent.Type.WindowStateChange)
        if event.type() in activity and self.review_view is not None:
            self.review_view.set_window_active(self.isActiveWindow() and not self.isMinimized())

    def shutdown(self) -> None:
        """Finish every pending write, then close the project (called on quit)."""
        self._end_session(close=True)
        tasks.wait_idle(10_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
