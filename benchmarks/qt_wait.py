"""Waiting inside Qt's event loop for the GUI benchmarks (it releases the GIL, as the app's)."""

from __future__ import annotations

from collections.abc import Callable


def spin(until: Callable[[], object], timeout: float = 30.0) -> None:
    """Run the event loop until ``until()`` is true; TimeoutError after ``timeout`` seconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    if until():
        return
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(1)
    poll.timeout.connect(lambda: until() and loop.quit())
    poll.start()
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    limit.start(int(timeout * 1000))
    loop.exec()
    poll.stop()
    limit.stop()
    if not until():
        raise TimeoutError("the review window did not get there in time")
