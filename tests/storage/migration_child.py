"""Child process for the interrupted-migration test: ``python -m tests.storage.migration_child F``.

Imports everything the upgrade needs (Alembic included) first and prints ``ready``, so the parent
times and kills only the upgrade itself: the pre-migration backup, the Alembic run in one
transaction, the commit and the close. Prints ``done`` when the file is open at the head revision.
Nothing here slows the migration down or changes what it does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command, config, script

from reviewdesk.domain.clock import FixedClock
from reviewdesk.storage.store import open_store

#: Loaded by the upgrade anyway; imported up front so that the parent times only the work.
PRELOADED = (command, config, script)


def main(path: Path) -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    store = open_store(path, FixedClock())
    store.close()
    sys.stdout.write(f"done {store.migrated_backup}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
