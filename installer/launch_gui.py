"""Frozen entry point of the windowed ``reviewdesk-gui`` executable (no console on Windows).

The same function as ``[project.gui-scripts]``; the desktop entry starts this one.

Qt is imported only after ``freeze_support()``: an import started from the GUI reads large files
in a child process, and a dashboard refresh or an export shares the monitor's windows with one;
both run this executable again, and those children must not load Qt.
"""

if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # in the import's reader process: runs it, then exits

    from reviewdesk.ui.app import entry_point

    entry_point()
