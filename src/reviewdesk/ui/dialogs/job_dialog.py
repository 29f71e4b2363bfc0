"""A dialog that runs one job at a time off the UI thread, with progress and cancel.

The import, export and erasure dialogs share this: the progress bar and its label (made by
``ui.widgets.job_progress_widgets``), showing a job's progress, and a Cancel button that
cancels the running job or, with none running, closes the dialog.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QProgressBar

from reviewdesk.domain.progress import Progress
from reviewdesk.ui import tasks
from reviewdesk.ui.widgets import show_job_progress


class JobDialog(QDialog):
    """Subclasses set ``progress``/``progress_label`` and keep the running job in ``_task``."""

    #: Cut long progress labels to this many characters (None: show them whole).
    PROGRESS_MAX_CHARS: int | None = None

    progress: QProgressBar
    progress_label: QLabel
    _task: tasks.Task | None = None

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.progress_label.setText("Canceling…")

    def _cancel_or_close(self) -> None:
        if self._task is not None:
            self.cancel()
        else:
            self.reject()

    def _on_progress(self, progress: Progress) -> None:
        show_job_progress(self.progress, self.progress_label, progress, self.PROGRESS_MAX_CHARS)
