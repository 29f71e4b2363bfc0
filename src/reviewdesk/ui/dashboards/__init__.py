"""The lead's dashboards (SPEC §6): the only package that imports pyqtgraph, always after
PySide6. Importing the package itself loads nothing heavy; the modules do."""
