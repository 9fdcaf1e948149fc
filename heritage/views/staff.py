"""Staff pages: login, logout and the dashboard."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.security import forget, remember
from pyramid.view import view_config

from heritage.views.helpers import pick
from workflows.machine import STATE_LABELS, queue_states
from workflows.states import STATES


def _safe_came_from(request: Any, came_from: str | None) -> str:
    """Return a local path to go back to after login; never another site (open redirect)."""
    if (
        came_from
        and came_from.startswith("/")
        and not came_from.startswith("//")
        and "\\" not in came_from
    ):
        return request.application_url + came_from
    return request.route_url("dashboard")


@view_config(route_name="login", renderer="heritage:templates/login.jinja2")
def login(request: Any) -> Any:
    came_from = request.params.get("came_from", "")
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip().lower()
        password = request.POST.get("password", "")
        user = request.root.users.authenticate(username, password)
        if user is not None:
            headers = remember(request, user.username)
            return HTTPFound(_safe_came_from(request, came_from), headers=headers)
        error = "Unknown username or wrong password."
        request.response.status_int = 400
    return {"came_from": came_from, "error": error, "username": username}


@view_config(route_name="logout", request_method="POST")
def logout(request: Any) -> Any:
    return HTTPFound(request.route_url("home"), headers=forget(request))


@view_config(route_name="dashboard", renderer="heritage:templates/dashboard.jinja2")
def dashboard(request: Any) -> dict[str, Any]:
    """Counts per workflow state for each institution the user works for (all, for admins)."""
    user = request.identity
    if user is None:
        raise HTTPForbidden()
    institutions = request.root.institutions
    if user.is_admin:
        mine = list(institutions.values())
    else:
        mine = [institutions[i] for i in user.institutions() if i in institutions]
    if not mine:
        raise HTTPForbidden()
    queues = []  # "what is waiting for me": per institution and role, from the counters
    for role, inst_id in user.roles:
        insts = mine if inst_id is None else [institutions[inst_id]]
        for inst in insts:
            counts = inst.counts()
            waiting = {s: counts.get(s, 0) for s in queue_states(role)}
            if any(waiting.values()):
                queues.append({"role": role, "institution": inst, "waiting": waiting})
    failures, failure_total, last_audit = _fixity(request.root, user, mine)
    return {
        "user": user,
        "queues": queues,
        "failures": failures,
        "failure_total": failure_total,
        "last_audit": last_audit,
        "state_labels": STATE_LABELS,
        "lang": request.locale_name,
        "rows": [{"institution": inst, "counts": inst.counts()} for inst in mine],
        "states": STATES,
        "pick": pick,
    }


#: Failures listed on the dashboard; the rest are counted ("and N more").
DASHBOARD_FAILURES = 50


def _fixity(root: Any, user: Any, mine: list[Any]) -> tuple[list[dict], int, Any]:
    """Return the current fixity failures the user may see, their number, and the last
    audit run that covered their institutions (every one, for admins)."""
    audits = getattr(root, "audits", None)
    if audits is None:
        return [], 0, None
    names = None if user.is_admin else [inst.__name__ for inst in mine]
    failures, total = audits.current_failures(names, limit=DASHBOARD_FAILURES)
    last = None
    for run in audits.recent_runs(len(audits.runs)):
        if names is None or not run.institution or run.institution in names:
            last = run
            break
    return failures, total, last
