"""Reveal-after-submit: tell a reviewer which model wrote which side of a pair they labeled.

Off by default and switched on per project by the lead (SPEC §4). A reveal is only possible for
a pair the reviewer has already labeled, and every reveal is an audit event, so the lead can see
who un-blinded themselves, on what, and when.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewdesk.domain.errors import UserError
from reviewdesk.services.project import Project
from reviewdesk.services.review import _parse_handle, _reviewer_id
from reviewdesk.storage import repositories as repo
from reviewdesk.storage.lead_queries import item_models


@dataclass(frozen=True)
class Revealed:
    left_model: str
    right_model: str


def reveal_pair(project: Project, reviewer: str, handle: str) -> Revealed:
    """The models behind the left and right side of a labeled pair; appends a ``reveal`` audit."""
    if not project.settings().reveal_after_submit:
        raise UserError("this project does not allow revealing the sources after a label")
    entry_id, left = _parse_handle(handle)
    with project.store.write() as uow:
        session = uow.session
        reviewer_id = _reviewer_id(session, reviewer)
        entry = repo.get_entry(session, entry_id)
        if entry is None:
            raise UserError("this pair is no longer in the queue")
        labeled = [e for e in repo.events_for(session, entry_id, reviewer_id) if e.kind == "label"]
        if not labeled:
            raise UserError("sources can be revealed only after you have labeled the pair")
        models = item_models(session, entry.item_id)
        revealed = Revealed(left_model=models[left.value], right_model=models[left.other.value])
        repo.append_audit(
            session,
            "reveal",
            reviewer,
            {"entry_id": entry_id, "item": entry.item_key, "left_slot": left.value},
            project.clock.now(),
        )
    return revealed
