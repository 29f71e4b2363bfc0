"""``python -m reviewdesk`` runs the command line (which opens the GUI when asked)."""

from reviewdesk.cli.main import entry_point

entry_point()
