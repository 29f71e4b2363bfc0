"""What the crash and concurrency tests share: the project they label and the file check."""

from __future__ import annotations

from pathlib import Path

from reviewdesk.domain.progress import run_to_completion
from reviewdesk.services.importing import import_file
from reviewdesk.services.project import create_project
from reviewdesk.services.queue import build_queue
from tests.conftest import native_item, write_jsonl


def contested_project(folder: Path, seed: int, entries: int = 400) -> Path:
    """A closed project of ``entries`` contested items (two judges split), overlap 2.

    Built once per test module; each trial labels a copy. Closed cleanly, so it is one file.
    """
    records = [
        native_item(
            f"i{n:04d}",
            judgments=[
                {"judge": "j1", "kind": "llm", "verdict": "A"},
                {"judge": "j2", "kind": "llm", "verdict": "B"},
            ],
        )
        for n in range(entries)
    ]
    path = folder / "t.reviewdesk"
    with create_project(path, seed=seed) as project:
        run_to_completion(import_file(project, write_jsonl(folder / "in.jsonl", records)))
        build_queue(project, audit_rate=0.0, overlap=2)
    assert not Path(f"{path}-wal").exists()
    return path
