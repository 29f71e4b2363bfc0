"""Frozen entry point of the windowed ``reviewdesk-gui`` executable (no console on Windows).

The same function as ``[project.gui-scripts]``; the desktop entry starts this one.
"""

from reviewdesk.ui.app import entry_point

if __name__ == "__main__":
    entry_point()
