"""The PySide6 application: the only package that imports Qt (ARCHITECTURE.md §2).

The services the main window needs are imported here, before the first Qt import: importing
PySide6 installs an import hook (``shibokensupport.feature``) that reads the source of every
module imported after it, once each, to see whether it uses PySide's ``__feature__`` switches.
For SQLAlchemy's few hundred modules that is a noticeable part of the start-up; imported first,
they are never read. They are needed before the first pair is shown anyway.
"""

import reviewdesk.services.presence
import reviewdesk.services.project
import reviewdesk.services.recent
import reviewdesk.services.review
import reviewdesk.services.ui_settings  # noqa: F401 - see above: before the first Qt import
from reviewdesk.ui.compat import protect_singletons

protect_singletons()  # before any window exists: see compat.py
