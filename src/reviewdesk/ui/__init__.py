"""The PySide6 application: the only package that imports Qt (ARCHITECTURE.md §2)."""

from reviewdesk.ui.compat import protect_singletons

protect_singletons()  # before any window exists: see compat.py
