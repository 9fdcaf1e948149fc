"""What each workflow transition requires, as small checks that answer in words staff understand.

Every check returns the list of its unmet reasons (empty = met), so a failed transition can
report *all* that is missing at once. A :class:`Condition` pairs a check with a sentence that
says what it requires (for help text and for the event that records the transition).

Two kinds of condition:

- *item* conditions look only at :class:`~workflows.machine.ItemFacts` (files, metadata, rights,
  preservation record): ``check(facts)``. They can be shown next to a button before anyone
  clicks it.
- *request* conditions look at what the person supplies with the transition (a note, a date,
  a QA sign-off): ``check(facts, request)``; ``asks`` names that field of
  :class:`~workflows.machine.TransitionRequest`, so the form knows to ask for it.

See ARCHITECTURE.md, "Workflow".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # machine.py imports this module to build its transitions
    from workflows.machine import ItemFacts, TransitionRequest

#: The fields of a TransitionRequest that a condition may ask the person for.
REQUEST_INPUTS: tuple[str, ...] = ("note", "qa_signoff", "defer_until", "rescan")


@dataclass(frozen=True)
class Condition:
    """One thing a transition requires.

    :param text: what is required, as staff read it, e.g. "The item has at least one file".
    :param check: returns the unmet reasons (empty = met); called as ``check(facts)`` for an
        item condition, ``check(facts, request)`` when ``asks`` is set.
    :param asks: the :data:`REQUEST_INPUTS` field the person fills in, or "" for a fact about
        the item.
    """

    text: str
    check: Callable[..., list[str]]
    asks: str = ""

    def __post_init__(self) -> None:
        if self.asks and self.asks not in REQUEST_INPUTS:
            raise ValueError(f"asks must be one of {', '.join(REQUEST_INPUTS)}")

    def unmet(self, facts: ItemFacts, request: TransitionRequest) -> list[str]:
        """Return the reasons this condition is not met by ``facts`` and ``request``."""
        return self.check(facts, request) if self.asks else self.check(facts)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


# -- item conditions ---------------------------------------------------------------------------


def has_files(facts: ItemFacts) -> list[str]:
    """Return a reason unless the item has at least one file."""
    if facts.file_count >= 1:
        return []
    return ["Upload at least one file: this item has none yet"]


def files_pass_qa(facts: ItemFacts) -> list[str]:
    """Return a reason naming the files that failed automatic QA without a signed-off exception."""
    failing = facts.files_failing_qa
    if not failing:
        return []
    count = len(failing)
    return [
        f"{count} {_plural(count, 'file', 'files')} failed automatic QA and "
        f"{_plural(count, 'has', 'have')} no signed-off exception: {', '.join(failing)}"
    ]


def required_metadata(facts: ItemFacts) -> list[str]:
    """Return a reason naming the institution's required fields that have no value."""
    missing = [name for name in facts.required_fields if name not in facts.metadata_present]
    if not missing:
        return []
    return [f"Required fields are missing: {', '.join(missing)}"]


def rights_statement(facts: ItemFacts) -> list[str]:
    """Return a reason unless a rights statement is chosen."""
    return [] if facts.rights.strip() else ["Choose a rights statement"]


def access_level(facts: ItemFacts) -> list[str]:
    """Return a reason unless an access level is chosen."""
    return [] if facts.access.strip() else ["Choose an access level"]


def cultural_protocol(facts: ItemFacts) -> list[str]:
    """Return a reason if Indigenous cultural material has no community-consultation decision.

    Only that a decision is recorded is checked: what it allows is expressed through the
    access level (e.g. ``community``), which the rights officer sets in the same review.
    """
    if not facts.indigenous or facts.consultation.strip():
        return []
    return ["Record the community consultation decision: this is Indigenous cultural material"]


def preservation_complete(facts: ItemFacts) -> list[str]:
    """Return a reason naming what the preservation record still lacks."""
    if not facts.preservation_missing:
        return []
    return [
        "The preservation record is not complete; still missing: "
        + ", ".join(facts.preservation_missing)
    ]


# -- request conditions ------------------------------------------------------------------------


def qa_signed_off(facts: ItemFacts, request: TransitionRequest) -> list[str]:
    """Return a reason unless a person signs off the QA with this request."""
    if request.qa_signoff:
        return []
    return ["Sign off the QA: confirm that you have looked at the images yourself"]


def defer_date(facts: ItemFacts, request: TransitionRequest) -> list[str]:
    """Return a reason unless the request gives a date in the future to defer the item until."""
    if request.defer_until is None:
        return ["Give the date until which the item is deferred"]
    if request.defer_until <= request.today:
        return [
            f"Choose a date after today to defer until: {request.defer_until.isoformat()} "
            "is not in the future"
        ]
    return []


def rescan_pages(facts: ItemFacts, request: TransitionRequest) -> list[str]:
    """Return a reason naming pages to rescan that are not files of the item."""
    unknown = [name for name in request.rescan if name not in facts.file_names]
    if not unknown:
        return []
    return [f"These pages to rescan are not files of this item: {', '.join(unknown)}"]


def needs_note(message: str, text: str = "A note") -> Condition:
    """Return a condition met when the request carries a non-blank note.

    :param message: the reason shown when the note is missing, e.g. "Give a reason for
        withdrawing the item".
    :param text: what is required, e.g. "A reason for withdrawing the item".
    """

    def check(facts: ItemFacts, request: TransitionRequest) -> list[str]:
        return [] if request.note.strip() else [message]

    return Condition(text, check, asks="note")


# -- the conditions the transitions compose ----------------------------------------------------

HAS_FILES = Condition("The item has at least one file", has_files)
FILES_PASS_QA = Condition(
    "Every file passed automatic QA or has a signed-off exception", files_pass_qa
)
QA_SIGNED_OFF = Condition("A person signed off the QA", qa_signed_off, asks="qa_signoff")
REQUIRED_METADATA = Condition(
    "The institution's required metadata fields have values", required_metadata
)
RIGHTS_STATEMENT = Condition("A rights statement is chosen", rights_statement)
ACCESS_LEVEL = Condition("An access level is chosen", access_level)
CULTURAL_PROTOCOL = Condition(
    "For Indigenous cultural material, a community consultation decision is recorded",
    cultural_protocol,
)
PRESERVATION_COMPLETE = Condition("The preservation record is complete", preservation_complete)
DEFER_DATE = Condition("A date in the future to defer the item until", defer_date, "defer_until")
RESCAN_PAGES = Condition("The pages named for rescan are files of the item", rescan_pages, "rescan")
