"""The workflow states of an item (ARCHITECTURE.md, "Workflow").

Only the state name is stored on an item; what may happen in each state is defined here in
code, so that a release can change the rules without touching the database.
"""

from __future__ import annotations

NOMINATED = "nominated"
SELECTED = "selected"
CAPTURE = "capture"
QA = "qa"
DESCRIPTION = "description"
RIGHTS_REVIEW = "rights-review"
PRESERVATION = "preservation"
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
REJECTED = "rejected"
DEFERRED = "deferred"

#: In workflow order, for dashboards and reports.
STATES: tuple[str, ...] = (
    NOMINATED,
    SELECTED,
    CAPTURE,
    QA,
    DESCRIPTION,
    RIGHTS_REVIEW,
    PRESERVATION,
    PUBLISHED,
    WITHDRAWN,
    DEFERRED,
    REJECTED,
)
#: States in which the public may see an item (subject to its access level).
PUBLIC_STATES = frozenset({PUBLISHED})
