"""Moving items through the workflow: facts from the database in, the rules of
``workflows.machine`` applied, the new state and its event recorded.

The rules live in ``workflows``; this module only reads an item into ``ItemFacts`` and writes
the outcome back, inside the caller's transaction. A conflicting concurrent transition makes
the transaction retry, and the retry checks the rules again against the new state.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pyramid.traversal import find_root

from heritage.resources.events import APP_AGENT, organization_agent
from heritage.security import ADMIN
from workflows.machine import (
    DEFAULT_REQUIRED_FIELDS,
    ItemFacts,
    Transition,
    TransitionRequest,
    build_event,
    check,
)
from workflows.states import (
    DEFERRED,
    DESCRIPTION,
    PRESERVATION,
    PUBLISHED,
    REJECTED,
    SELECTED,
    WITHDRAWN,
)

#: The PREMIS event type (Library of Congress vocabulary) a forward move is recorded as;
#: other moves, and every send-back, are a "metadata modification" (of the workflow state).
#: Passing QA is a person's validation of the masters; approving rights and access takes
#: the item into the preservation repository (accession); publishing disseminates it.
EVENT_TYPES: dict[str, str] = {
    SELECTED: "appraisal",
    REJECTED: "appraisal",
    DEFERRED: "appraisal",
    DESCRIPTION: "validation",
    PRESERVATION: "accession",
    PUBLISHED: "dissemination",
    WITHDRAWN: "policy assignment",
}
#: Event types done in the holding institution's name: it is an agent of them too.
INSTITUTION_EVENTS = frozenset({"accession", "dissemination", "policy assignment"})


def event_type(transition: Transition) -> str:
    """Return the PREMIS event type that records ``transition``."""
    if transition.send_back:
        return "metadata modification"
    return EVENT_TYPES.get(transition.target, "metadata modification")


def roles_for(user: Any, item: Any) -> frozenset[str]:
    """Return the user's roles that count for this item (its institution's, and admin)."""
    if user is None:
        return frozenset()
    institution_id = item.institution.__name__
    return frozenset(role for role, inst in user.roles if role == ADMIN or inst == institution_id)


def preservation_missing(item: Any) -> tuple[str, ...]:
    """Return what the item's preservation record lacks (empty: complete).

    Every file needs its fixity, a PRONOM identification and its technical metadata, and
    an ingestion event, and must not have failed its last fixity audit; the item needs at
    least one file.
    """
    missing: list[str] = []
    if not len(item.files):
        missing.append("the item has no files")
    audits = getattr(find_root(item), "audits", None) if item.__parent__ is not None else None
    failed = set(audits.failed_files(item.item_id)) if audits is not None else set()
    ingested = {o for e in item.events if e["type"] == "ingestion" for o in e["objects"]}
    for f in item.files:
        ref = f"{item.item_id}/{f.__name__}"
        lacks = [
            what
            for what, ok in (
                ("checksum", bool(f.sha256)),
                ("format identification", bool(f.format.get("puid"))),
                ("technical metadata", bool(f.techmd)),
                ("ingestion event", ref in ingested),
                ("a passed fixity audit (the last one failed)", f.__name__ not in failed),
            )
            if not ok
        ]
        if lacks:
            missing.append(f"file {f.__name__}: {', '.join(lacks)}")
    return tuple(missing)


def facts_for(item: Any) -> ItemFacts:
    files = list(item.files)
    return ItemFacts(
        state=item.state,
        file_count=len(files),
        files_failing_qa=tuple(
            f.__name__
            for f in files
            if f.qa and not f.qa.get("passed", True) and not getattr(f, "qa_exception", "")
        ),
        metadata_present=frozenset(k for k, v in item.metadata.items() if v),
        required_fields=tuple(
            getattr(item.institution, "required_fields", DEFAULT_REQUIRED_FIELDS)
        ),
        rights=item.rights,
        access=item.access,
        indigenous=bool(getattr(item, "indigenous", False)),
        consultation=getattr(item, "consultation", ""),
        preservation_missing=preservation_missing(item),
        file_names=tuple(f.__name__ for f in files),
    )


def make_request(data: dict[str, Any]) -> TransitionRequest:
    """Return a TransitionRequest from checked input (see ``validation.transition_schema``)."""
    return TransitionRequest(
        data["to"],
        today=date.today(),
        note=data.get("note", ""),
        qa_signoff=bool(data.get("qa_signoff", False)),
        defer_until=data.get("defer_until"),
        rescan=tuple(data.get("rescan", ())),
    )


def apply_transition(
    item: Any, roles: frozenset[str], request: TransitionRequest, agent: str
) -> tuple[Transition, dict[str, Any]]:
    """Check and make the transition; return it and the event recorded.

    :raises workflows.machine.NotAllowed, RoleRequired, GuardFailed: nothing changes then.
    """
    transition = check(facts_for(item), roles, request)
    event = build_event(transition, request, agent=agent, when=datetime.now(UTC))
    item.set_state(transition.target)
    if transition.target == DEFERRED and request.defer_until:
        item.deferred_until = request.defer_until.isoformat()
    kind = event_type(transition)
    agents = [{"type": "person", "name": agent}, APP_AGENT]
    if kind in INSTITUTION_EVENTS and item.institution is not None:
        agents.append(organization_agent(item.institution))
    record = item.events.record(
        kind,
        agents=agents,
        objects=(item.item_id,),
        detail=f"{transition.source} → {transition.target}",
        note=event.note,
        workflow=event.as_dict(),
    )
    return transition, record
