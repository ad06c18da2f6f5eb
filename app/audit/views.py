"""The audit pages: who consulted a household file (coordinators), the searchable log
(administrators)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request

from app.audit.models import AuditOutcome
from app.audit.queries import (
    OUTCOME_LABELS,
    LogFilters,
    action_choices,
    action_label,
    find_actor,
    search_log,
)
from app.http import int_arg
from app.paging import window
from app.permissions import Permission, permission_required

bp = Blueprint("audit", __name__)


@bp.app_template_filter("audit_action")
def _audit_action(action: str) -> str:
    return action_label(action)


@bp.app_template_filter("audit_outcome")
def _audit_outcome(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)


def _page_number() -> int:
    return int_arg("page") or 1


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/admin/journal")
@permission_required(Permission.VIEW_AUDIT_LOG)
def index():
    outcome = request.args.get("resultat") or None
    action = (request.args.get("action") or "").strip()[:60] or None
    person = find_actor(int_arg("acteur"), request.args.get("personne") or "")
    filters = LogFilters(
        actor_id=person.actor.id if person.actor else None,
        action=action,
        household_id=int_arg("menage"),
        start_on=_date_arg("du"),
        end_on=_date_arg("au"),
        outcome=outcome if outcome in AuditOutcome._value2member_map_ else None,
    )
    # A person searched and not found (or several found) filters nothing yet: no rows
    # rather than the whole journal under a filter the reader believes applied.
    unresolved = bool(person.searched) and person.actor is None
    entries = (
        None
        if unresolved
        else window(
            search_log(filters), page=_page_number(), per_page=current_app.config["PAGE_SIZE"]
        )
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "audit/index.html",
        entries=entries,
        filters=filters,
        person=person,
        args=args,
        candidate_args={k: v for k, v in args.items() if k not in ("personne", "acteur")},
        actions=action_choices(),
        outcomes=OUTCOME_LABELS,
    )
