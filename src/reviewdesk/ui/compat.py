"""Workarounds for bugs of the Qt binding that the GUI cannot avoid by itself.

PySide6 6.12.0 on CPython 3.11 drops one reference to ``True`` on every ``Signal.emit()`` from
Python, and one to ``None`` on every call from a C++ signal into a Python slot (measured here:
-10 references to ``True`` for 10 emits; 6.11.3 is not affected). A long review session emits
tens of thousands of signals, and when a singleton's count reaches zero CPython aborts with
``bool_dealloc`` or ``none_dealloc``. CPython 3.12 made these singletons immortal, which is
exactly the cure: on an affected interpreter and binding we give them a reference count so large
that no session can run it down. The probe runs once, costs microseconds, and does nothing where
the binding behaves.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

#: Far more references than any session can drop, far below the Py_ssize_t limit.
_HEADROOM = 1 << 40
_applied = False


class _Probe(QObject):
    fired = Signal()


def emit_leaks_references() -> bool:
    """Whether ``Signal.emit()`` drops references to ``True`` in this process."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.fired.emit()
    return sys.getrefcount(True) < before - 4


def protect_singletons() -> bool:
    """Make ``True``, ``False`` and ``None`` effectively immortal where the binding leaks.

    Returns True when the workaround was applied (or already was).
    """
    global _applied
    if _applied:
        return True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False  # immortal already
    if not emit_leaks_references():
        return False
    for singleton in (True, False, None):
        # ob_refcnt is the first field of every object in a release build of CPython.
        ctypes.c_ssize_t.from_address(id(singleton)).value += _HEADROOM
    _applied = True
    return True
