"""The workflow of an item, defined once as data: transitions, the roles and conditions of each.

ARCHITECTURE.md, "Workflow"::

    nominated → selected → capture → qa → description → rights-review → preservation → published
         ↘ rejected / deferred      qa ↘ capture (rescan)                      published → withdrawn

Any work step may also *send back* an item to an earlier work step with a note saying what to
fix (QA → capture for a rescan of named pages, rights-review → description, …); the note is
for the people whose queue the item returns to (:func:`queue_roles`).

The caller (the web layer) builds :class:`ItemFacts` from the database and a
:class:`TransitionRequest` from the form, asks :func:`check` — which answers with the
:class:`Transition` or raises :class:`NotAllowed`, :class:`RoleRequired` or :class:`GuardFailed`
with every unmet condition — then changes the state and records :func:`build_event`.
:func:`available` lists the buttons to show, each with what still stands in its way.

Roles are the institution roles of ``heritage.security.ROLES`` plus ``admin``, who may do
every transition. Nothing here touches Pyramid or ZODB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from workflows import guards
from workflows.guards import Condition
from workflows.states import (
    CAPTURE,
    DEFERRED,
    DESCRIPTION,
    NOMINATED,
    PRESERVATION,
    PUBLISHED,
    QA,
    REJECTED,
    RIGHTS_REVIEW,
    SELECTED,
    STATES,
    WITHDRAWN,
)

ADMIN = "admin"
CURATOR = "curator"
DIGITIZER = "digitizer"
CATALOGUER = "cataloguer"
RIGHTS_OFFICER = "rights-officer"
#: Institution roles; ``admin`` may do every transition besides.
ROLES: tuple[str, ...] = (CURATOR, DIGITIZER, CATALOGUER, RIGHTS_OFFICER)

#: The road from nomination to publication, in order; send-backs go to an earlier step of it.
MAIN_SEQUENCE: tuple[str, ...] = (
    NOMINATED,
    SELECTED,
    CAPTURE,
    QA,
    DESCRIPTION,
    RIGHTS_REVIEW,
    PRESERVATION,
    PUBLISHED,
)
#: The steps where work is done on the item, which may send it back to an earlier one.
WORK_STEPS: tuple[str, ...] = (CAPTURE, QA, DESCRIPTION, RIGHTS_REVIEW, PRESERVATION)
#: States nothing leaves: a rejection stands (nominate the object afresh to reconsider it).
TERMINAL_STATES = frozenset({REJECTED})

#: Dublin Core elements that must have a value before rights review, unless the institution
#: sets its own list. Rights are decided in rights review itself, so not required here.
DEFAULT_REQUIRED_FIELDS: tuple[str, ...] = ("title", "date", "type", "language")

LANGUAGES: tuple[str, ...] = ("en", "ms", "id")

#: The name of each state in the interface languages.
# The same names as the interface catalogues (heritage/locale), so a page never shows one
# stage under two words.
STATE_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        NOMINATED: {"en": "Nominated", "ms": "Dicalonkan", "id": "Diusulkan"},
        SELECTED: {"en": "Selected", "ms": "Dipilih", "id": "Terpilih"},
        CAPTURE: {"en": "Capture", "ms": "Pendigitalan", "id": "Digitalisasi"},
        QA: {"en": "Quality check", "ms": "Semakan kualiti", "id": "Pemeriksaan mutu"},
        DESCRIPTION: {"en": "Cataloguing", "ms": "Pengkatalogan", "id": "Pengatalogan"},
        RIGHTS_REVIEW: {"en": "Rights review", "ms": "Semakan hak", "id": "Pemeriksaan hak"},
        PRESERVATION: {"en": "Preservation", "ms": "Pemeliharaan", "id": "Pelestarian"},
        PUBLISHED: {"en": "Published", "ms": "Diterbitkan", "id": "Dipublikasikan"},
        WITHDRAWN: {"en": "Withdrawn", "ms": "Ditarik balik", "id": "Ditarik"},
        REJECTED: {"en": "Rejected", "ms": "Ditolak", "id": "Ditolak"},
        DEFERRED: {"en": "Deferred", "ms": "Ditangguhkan", "id": "Ditunda"},
    }
)

#: Work queues: the states in which an item waits for each role.
ROLE_QUEUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        CURATOR: (NOMINATED, DEFERRED, PRESERVATION),
        DIGITIZER: (SELECTED, CAPTURE, QA),
        CATALOGUER: (DESCRIPTION,),
        RIGHTS_OFFICER: (RIGHTS_REVIEW,),
    }
)


# -- what the caller supplies ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """The plain facts about an item that the guards read, built by the caller from the database.

    :param state: the item's workflow state (one of ``STATES``).
    :param file_count: how many files the item has.
    :param files_failing_qa: names of files whose automatic QA failed and that have no
        signed-off exception.
    :param metadata_present: Dublin Core elements that have at least one value.
    :param required_fields: the institution's required elements (default
        :data:`DEFAULT_REQUIRED_FIELDS`).
    :param rights: the rights statement URI ("" = none chosen).
    :param access: the access level ("" = none chosen).
    :param indigenous: whether the item is Indigenous cultural material.
    :param consultation: the community-consultation decision ("" = none recorded).
    :param preservation_missing: what the preservation record still lacks (empty = complete).
    :param file_names: names of the item's files (to check pages named for a rescan).
    """

    state: str
    file_count: int = 0
    files_failing_qa: tuple[str, ...] = ()
    metadata_present: frozenset[str] = frozenset()
    required_fields: tuple[str, ...] = DEFAULT_REQUIRED_FIELDS
    rights: str = ""
    access: str = ""
    indigenous: bool = False
    consultation: str = ""
    preservation_missing: tuple[str, ...] = ()
    file_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransitionRequest:
    """What a person asks for: the target state and what they supply with it.

    :param target: the state to move the item to.
    :param today: the date of the request (deferral dates must be after it).
    :param note: a note; required for rejecting, withdrawing and every send-back.
    :param qa_signoff: a person confirms they checked the images (QA → description).
    :param defer_until: until when a deferred nomination waits.
    :param rescan: names of the files (pages) to rescan, when sending back to capture.
    """

    target: str
    _: KW_ONLY
    today: date
    note: str = ""
    qa_signoff: bool = False
    defer_until: date | None = None
    rescan: tuple[str, ...] = ()


# -- errors ------------------------------------------------------------------------------------


class WorkflowError(Exception):
    """A transition that cannot be made."""


class NotAllowed(WorkflowError):
    """There is no transition from ``source`` to ``target``; ``reachable`` lists those there are."""

    def __init__(self, source: str, target: str, reachable: tuple[str, ...]) -> None:
        self.source = source
        self.target = target
        self.reachable = reachable
        if reachable:
            text = (
                f"An item in {source} cannot go to {target}; it can go to: {', '.join(reachable)}"
            )
        else:
            text = f"An item in {source} cannot go to {target}; it cannot move on from {source}"
        super().__init__(text)


class RoleRequired(WorkflowError):
    """The person lacks a role that may make ``transition``; ``roles`` lists the roles that may."""

    def __init__(self, transition: Transition) -> None:
        self.transition = transition
        self.roles: tuple[str, ...] = (*sorted(transition.roles), ADMIN)
        super().__init__(
            f"Only {' or '.join(self.roles)} may move an item from "
            f"{transition.source} to {transition.target}"
        )


class GuardFailed(WorkflowError):
    """Conditions of the transition are unmet; ``reasons`` says every one, in staff's words."""

    def __init__(self, reasons: list[str], transition: Transition | None = None) -> None:
        self.reasons = list(reasons)
        self.transition = transition
        super().__init__("; ".join(self.reasons))


# -- transitions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """A move of an item from ``source`` to ``target``.

    :param roles: institution roles that may make it (``admin`` always may).
    :param label: button text by language (en, ms, id).
    :param conditions: what it requires (see :mod:`workflows.guards`).
    :param send_back: it returns the item to an earlier step, with a note saying what to fix.
    """

    source: str
    target: str
    roles: frozenset[str]
    label: Mapping[str, str] = field(compare=False)
    conditions: tuple[Condition, ...] = ()
    send_back: bool = False

    @property
    def key(self) -> str:
        """Return ``source->target``, e.g. for form values and logs."""
        return f"{self.source}->{self.target}"

    @property
    def inputs(self) -> tuple[str, ...]:
        """Return the request fields the form must ask for (``note``, ``qa_signoff``, …)."""
        return tuple(dict.fromkeys(c.asks for c in self.conditions if c.asks))

    @property
    def guard(self) -> Callable[[ItemFacts, TransitionRequest], list[str]] | None:
        """Return the composed guard (``guard(facts, request)`` → reasons), or None."""
        return self.unmet if self.conditions else None

    def allows(self, roles: Iterable[str]) -> bool:
        """Return whether someone holding ``roles`` may make this transition."""
        held = _roles(roles)
        return ADMIN in held or bool(held & self.roles)

    def unmet(self, facts: ItemFacts, request: TransitionRequest) -> list[str]:
        """Return every unmet condition (empty = the transition may be made)."""
        return [reason for c in self.conditions for reason in c.unmet(facts, request)]

    def unmet_now(self, facts: ItemFacts) -> list[str]:
        """Return the unmet conditions about the item itself, before anyone fills in a form."""
        return [reason for c in self.conditions if not c.asks for reason in c.check(facts)]


def _roles(roles: Iterable[str]) -> frozenset[str]:
    # A lone role name is a common slip; "curator" must not become {"c", "u", …}.
    return frozenset((roles,)) if isinstance(roles, str) else frozenset(roles)


def _transition(
    source: str,
    target: str,
    roles: Iterable[str],
    label: dict[str, str],
    *conditions: Condition,
    send_back: bool = False,
) -> Transition:
    return Transition(
        source,
        target,
        frozenset(roles),
        MappingProxyType(label),
        tuple(conditions),
        send_back,
    )


#: What a send-back note must say, by the step the item returns to.
_FIX_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        CAPTURE: "Say what to rescan and why (name the pages)",
        QA: "Say what to check again in the quality check",
        DESCRIPTION: "Say what to fix in the description",
        RIGHTS_REVIEW: "Say what to reconsider in the rights review",
    }
)


def _send_backs() -> tuple[Transition, ...]:
    """Return, for each work step, a send-back to every earlier work step.

    Whoever may move the item on from the step may send it back, and so may the curator.
    Sending back to capture may name the pages to rescan.
    """
    forward_roles: dict[str, frozenset[str]] = {}
    for t in _FORWARD:
        if t.source in WORK_STEPS:
            forward_roles[t.source] = forward_roles.get(t.source, frozenset()) | t.roles
    result = []
    for i, source in enumerate(WORK_STEPS):
        for target in WORK_STEPS[:i]:
            names = STATE_LABELS[target]
            if target == CAPTURE:
                label = {
                    "en": "Send back for rescan",
                    "ms": "Hantar balik untuk imbasan semula",
                    "id": "Kembalikan untuk pemindaian ulang",
                }
                extra: tuple[Condition, ...] = (guards.RESCAN_PAGES,)
            else:
                label = {
                    "en": f"Send back to {names['en'].lower()}",
                    "ms": f"Hantar balik ke {names['ms'].lower()}",
                    "id": f"Kembalikan ke {names['id'].lower()}",
                }
                extra = ()
            result.append(
                _transition(
                    source,
                    target,
                    forward_roles[source] | {CURATOR},
                    label,
                    guards.needs_note(_FIX_MESSAGES[target], "A note saying what to fix"),
                    *extra,
                    send_back=True,
                )
            )
    return tuple(result)


_FORWARD: tuple[Transition, ...] = (
    _transition(
        NOMINATED,
        SELECTED,
        {CURATOR},
        {
            "en": "Select for digitization",
            "ms": "Pilih untuk pendigitalan",
            "id": "Pilih untuk digitalisasi",
        },
    ),
    _transition(
        NOMINATED,
        REJECTED,
        {CURATOR},
        {"en": "Reject", "ms": "Tolak", "id": "Tolak"},
        guards.needs_note("Give a reason for rejecting the item", "A reason for the rejection"),
    ),
    _transition(
        NOMINATED,
        DEFERRED,
        {CURATOR},
        {"en": "Defer", "ms": "Tangguhkan", "id": "Tunda"},
        guards.DEFER_DATE,
    ),
    _transition(
        DEFERRED,
        NOMINATED,
        {CURATOR},
        {"en": "Reconsider", "ms": "Pertimbangkan semula", "id": "Pertimbangkan kembali"},
    ),
    _transition(
        SELECTED,
        CAPTURE,
        {CURATOR, DIGITIZER},
        {"en": "Start capture", "ms": "Mula mengimbas", "id": "Mulai pemindaian"},
    ),
    _transition(
        CAPTURE,
        QA,
        {DIGITIZER},
        {
            "en": "Send to quality check",
            "ms": "Hantar untuk semakan kualiti",
            "id": "Kirim ke pemeriksaan mutu",
        },
        guards.HAS_FILES,
    ),
    _transition(
        QA,
        DESCRIPTION,
        {DIGITIZER, CURATOR},
        {
            "en": "Pass quality check",
            "ms": "Luluskan semakan kualiti",
            "id": "Loloskan pemeriksaan mutu",
        },
        guards.HAS_FILES,
        guards.FILES_PASS_QA,
        guards.QA_SIGNED_OFF,
    ),
    _transition(
        DESCRIPTION,
        RIGHTS_REVIEW,
        {CATALOGUER},
        {
            "en": "Send to rights review",
            "ms": "Hantar untuk semakan hak",
            "id": "Kirim ke peninjauan hak",
        },
        guards.REQUIRED_METADATA,
    ),
    _transition(
        RIGHTS_REVIEW,
        PRESERVATION,
        {RIGHTS_OFFICER},
        {
            "en": "Approve rights and access",
            "ms": "Luluskan hak dan akses",
            "id": "Setujui hak dan akses",
        },
        guards.RIGHTS_STATEMENT,
        guards.ACCESS_LEVEL,
        guards.CULTURAL_PROTOCOL,
    ),
    _transition(
        PRESERVATION,
        PUBLISHED,
        {CURATOR},
        {"en": "Publish", "ms": "Terbitkan", "id": "Terbitkan"},
        guards.PRESERVATION_COMPLETE,
    ),
    _transition(
        PUBLISHED,
        WITHDRAWN,
        {CURATOR},
        {"en": "Withdraw", "ms": "Tarik balik", "id": "Tarik"},
        guards.needs_note("Give a reason for withdrawing the item", "A reason for withdrawing"),
    ),
    _transition(
        WITHDRAWN,
        PUBLISHED,
        {CURATOR},
        {"en": "Publish again", "ms": "Terbitkan semula", "id": "Terbitkan kembali"},
        guards.PRESERVATION_COMPLETE,
    ),
)

#: Every transition there is: forward moves first, then send-backs.
TRANSITIONS: tuple[Transition, ...] = _FORWARD + _send_backs()

_BY_KEY: Mapping[tuple[str, str], Transition] = MappingProxyType(
    {(t.source, t.target): t for t in TRANSITIONS}
)


# -- asking the machine ------------------------------------------------------------------------


def outgoing(state: str) -> tuple[Transition, ...]:
    """Return the transitions out of ``state``, in :data:`TRANSITIONS` order."""
    return tuple(t for t in TRANSITIONS if t.source == state)


def find(source: str, target: str) -> Transition:
    """Return the transition from ``source`` to ``target``.

    :raises NotAllowed: there is none; it names the states reachable from ``source``.
    """
    try:
        return _BY_KEY[source, target]
    except KeyError:
        reachable = tuple(t.target for t in outgoing(source))
        raise NotAllowed(source, target, reachable) from None


def available(facts: ItemFacts, roles: Iterable[str]) -> list[tuple[Transition, list[str]]]:
    """Return the transitions out of the item's state that ``roles`` permit, with what stands
    in the way of each (empty = it can be done now, given what its form asks for).

    Only conditions about the item are evaluated; what the person supplies (a note, a date,
    the QA sign-off) is listed in :attr:`Transition.inputs` for the form to ask.
    """
    return [(t, t.unmet_now(facts)) for t in outgoing(facts.state) if t.allows(roles)]


def check(facts: ItemFacts, roles: Iterable[str], request: TransitionRequest) -> Transition:
    """Return the transition ``request`` asks for, if ``roles`` may make it now.

    :raises NotAllowed: no transition leads from the item's state to ``request.target``.
    :raises RoleRequired: none of ``roles`` may make it.
    :raises GuardFailed: conditions are unmet; ``reasons`` lists every one.
    """
    transition = find(facts.state, request.target)
    if not transition.allows(roles):
        raise RoleRequired(transition)
    reasons = transition.unmet(facts, request)
    if reasons:
        raise GuardFailed(reasons, transition)
    return transition


def queue_states(role: str) -> tuple[str, ...]:
    """Return the states in which items wait for ``role`` (``admin``: every queue)."""
    if role == ADMIN:
        return tuple(s for s in STATES if any(s in q for q in ROLE_QUEUES.values()))
    return ROLE_QUEUES.get(role, ())


def queue_roles(state: str) -> tuple[str, ...]:
    """Return the roles whose queue holds items in ``state`` (who should see a send-back note)."""
    return tuple(role for role, states in ROLE_QUEUES.items() if state in states)


# -- the record of a transition ----------------------------------------------------------------


@dataclass(frozen=True)
class TransitionEvent:
    """The record of a transition made: who, when, from, to, the note and the guard results.

    :param guard_results: the conditions checked, all met when the transition was made.
    :param notify: roles whose queue the item enters, who should see a send-back note.
    """

    agent: str
    when: datetime
    source: str
    target: str
    note: str
    guard_results: tuple[str, ...]
    send_back: bool
    notify: tuple[str, ...]
    defer_until: date | None = None
    qa_signoff: bool = False
    rescan: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the event as JSON-friendly data (dates as ISO 8601 strings)."""
        return {
            "agent": self.agent,
            "when": self.when.isoformat(timespec="seconds"),
            "source": self.source,
            "target": self.target,
            "note": self.note,
            "guard_results": list(self.guard_results),
            "send_back": self.send_back,
            "notify": list(self.notify),
            "defer_until": self.defer_until.isoformat() if self.defer_until else None,
            "qa_signoff": self.qa_signoff,
            "rescan": list(self.rescan),
        }


def build_event(
    transition: Transition, request: TransitionRequest, *, agent: str, when: datetime
) -> TransitionEvent:
    """Return the event recording ``transition`` made by ``agent`` at ``when``.

    Call it after :func:`check` has passed; only the request fields the transition asks for
    are kept (a stray QA sign-off on a withdrawal records nothing).
    """
    inputs = transition.inputs
    return TransitionEvent(
        agent=agent,
        when=when,
        source=transition.source,
        target=transition.target,
        note=request.note.strip(),
        guard_results=tuple(c.text for c in transition.conditions),
        send_back=transition.send_back,
        notify=queue_roles(transition.target) if transition.send_back else (),
        defer_until=request.defer_until if "defer_until" in inputs else None,
        qa_signoff=request.qa_signoff if "qa_signoff" in inputs else False,
        rescan=tuple(request.rescan) if "rescan" in inputs else (),
    )
