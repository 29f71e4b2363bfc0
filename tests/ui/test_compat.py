"""A long session must not exhaust the refcounts of True/None (PySide6 6.12.0 on CPython 3.11)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import reviewdesk.ui  # applies the workaround where the binding needs it
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
app = QCoreApplication([])
class A(QObject):
    s = Signal(object)
a = A()
a.s.connect(lambda x: None)
for _ in range(200_000):
    a.s.emit(1)
timer, hits = QTimer(), []
timer.timeout.connect(lambda: hits.append(1))
timer.start(0)
while len(hits) < 30_000:
    app.processEvents()
print("survived")
"""


def test_many_signals_do_not_crash_the_interpreter() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "survived"
