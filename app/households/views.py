"""Household pages: the list, the file (header, tabs, Parcours timeline), the household's
and its members' forms (here); the path's forms (``views_path``), consents
(``views_consents``), référent and team (``views_team``) — one blueprint, ``households``.

Every view loads the household through ``open_household_file`` (a household outside the
viewer's scope is a 404; a GET is a recorded read), checks the permission, validates the
form, calls one service, commits, flashes and redirects through ``app.forms.submit`` /
``press`` (the one view pattern); a ``DomainError`` rolls back and shows the form again.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from app.audience import can_read
from app.db import db
from app.formatting import today_paris
from app.forms import VersionedForm, cents_to_euros, euros_to_cents, press, submit
from app.households import services
from app.households.file import open_household_file
from app.households.file_registry import provided
from app.households.forms import (
    HouseholdCreateForm,
    HouseholdEditForm,
    MemberForm,
    SituationForm,
)
from app.households.models import Household, HouseholdStage
from app.households.queries import (
    PER_PAGE,
    ListFilters,
    current_occupancies,
    file_header,
    file_page_loads,
    household_list,
    household_timeline,
    landlord_choices,
    referent_choices,
    team_candidates,
    visible_households,
)
from app.http import int_arg
from app.permissions import Permission, has_permission, permission_required
from app.projects.models import TargetPublic
from app.search import recalled_search, redirect_to_results

bp = Blueprint("households", __name__, url_prefix="/menages")

VIEW = Permission.VIEW_HOUSEHOLDS
EDIT = Permission.EDIT_HOUSEHOLDS
SOCIAL = Permission.READ_SOCIAL_CONTENT


@bp.app_context_processor
def _file_helpers():
    """``household_header(household)`` for ``households/_file_layout.html``: pages of other
    domains only pass ``household`` to get the header, alerts and tabs."""
    return {"household_header": lambda household: file_header(household, current_user)}


def file_page(endpoint: str, household) -> str:
    return url_for(endpoint, household_id=household.id)


# --- the list --------------------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    return int_arg(name)


LIST_FILTERS = (
    "projet",
    "etape",
    "referent",
    "bailleur",
    "public",
    "anonymisation",
    "tri",
    "ordre",
)


def _list_filters() -> ListFilters:
    """The list's filters read from the URL; an unknown stage or public is ignored."""
    stage = request.args.get("etape") or None
    public = request.args.get("public") or None
    return ListFilters(
        q=recalled_search(),
        project_id=_int_arg("projet"),
        stage=stage if stage in HouseholdStage._value2member_map_ else None,
        referent_id=_int_arg("referent"),
        landlord_id=_int_arg("bailleur"),
        target_public=public if public in TargetPublic._value2member_map_ else None,
        sort=request.args.get("tri", "reference"),
        descending=request.args.get("ordre") == "desc",
    )


@bp.route("/", methods=["GET", "POST"])
@permission_required(VIEW)
def index():
    if request.method == "POST":  # the search form posts: the typed name stays out of the URL
        return redirect_to_results("households.index", request.form, LIST_FILTERS)
    filters = _list_filters()
    query = household_list(current_user, filters)
    # Coordinators: closed files due for anonymisation within 60 days (app.retention).
    due_for_anonymisation = provided("due_for_anonymisation")
    may_see_retention = due_for_anonymisation is not None and has_permission(
        current_user, Permission.EXPORT_SUBJECT_ACCESS
    )
    due_only = may_see_retention and request.args.get("anonymisation") == "60j"
    if due_only:
        query = query.where(
            Household.id.in_(list(due_for_anonymisation(query, today_paris())) or [-1])
        )
    page = db.paginate(
        query,
        page=int_arg("page") or 1,
        per_page=PER_PAGE,
        error_out=False,
    )
    households = list(page.items)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    due_on = (
        due_for_anonymisation(
            visible_households(current_user).where(Household.id.in_([h.id for h in households])),
            today_paris(),
        )
        if may_see_retention and households
        else {}
    )
    return render_template(
        "households/index.html",
        may_see_retention=may_see_retention,
        due_only=due_only,
        due_on=due_on,
        page=page,
        households=households,
        occupancies=current_occupancies(h.id for h in households),
        filters=filters,
        args=args,
        stages=HouseholdStage,
        projects=current_user.projects,
        referents=referent_choices(current_user),
        landlords=landlord_choices(current_user),
        publics=list(TargetPublic) if can_read(current_user, Household.target_publics) else [],
        is_filtered=bool(filters.q)
        or any(v for k, v in args.items() if k not in ("tri", "ordre", "recherche")),
    )


# --- creation and edition --------------------------------------------------------------------


@bp.route("/nouveau", methods=["GET", "POST"])
@permission_required(EDIT)
def create():
    form = HouseholdCreateForm()
    form.project_id.choices = [(p.id, p.name) for p in current_user.projects]
    candidates = {
        user.id: user for project in current_user.projects for user in team_candidates(project.id)
    }
    form.referent_id.choices = [(0, "— Personne pour l'instant —")] + [
        (u.id, u.full_name) for u in sorted(candidates.values(), key=lambda u: u.full_name)
    ]
    if request.method == "GET":
        form.referent_id.data = current_user.id if current_user.id in candidates else 0
    done = submit(
        form,
        lambda: services.create_household(
            current_user,
            next((p for p in current_user.projects if p.id == form.project_id.data), None),
            head_first_name=form.head_first_name.data,
            head_last_name=form.head_last_name.data,
            head_birth_on=form.head_birth_on.data,
            phone=form.phone.data,
            email=form.email.data,
            current_address=form.current_address.data,
            referent=candidates.get(form.referent_id.data),
            situation=_situation(form),
        ),
        lambda household: f"Ménage {household.reference} créé.",
        lambda household: file_page("households.show", household),
    )
    return done or render_template("households/create.html", form=form)


def _situation(form) -> dict:
    """The situation fields of a creation, edit or situation form, as the service takes them."""
    return {
        "monthly_income_cents": euros_to_cents(form.monthly_income_euros.data),
        "income_sources": form.income_sources.data,
        "apl_cents": euros_to_cents(form.apl_euros.data),
        "is_apl_paid_to_landlord": form.is_apl_paid_to_landlord.data,
        "debts_cents": euros_to_cents(form.debts_euros.data),
        "has_overindebtedness_file": form.has_overindebtedness_file.data,
        "target_publics": form.target_publics.data,
    }


def _fill_situation(form, household) -> None:
    form.expected_version.data = household.version
    form.monthly_income_euros.data = cents_to_euros(household.monthly_income_cents)
    form.apl_euros.data = cents_to_euros(household.apl_cents)
    form.debts_euros.data = cents_to_euros(household.debts_cents)
    form.income_sources.data = [s.value for s in household.income_source_list]
    form.target_publics.data = [t.value for t in household.target_public_list]


@bp.route("/<int:household_id>/situation", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def situation(household_id: int):
    """Publics, resources, APL and debts, reached from the file header on every tab."""
    household = open_household_file(household_id)
    form = SituationForm(obj=household)
    if not form.is_submitted():
        _fill_situation(form, household)
    done = submit(
        form,
        lambda: services.update_situation(
            current_user,
            household,
            expected_version=form.expected_version.data,
            **_situation(form),
        ),
        "Situation du ménage enregistrée.",
        file_page("households.show", household),
    )
    return done or render_template("households/situation_form.html", household=household, form=form)


@bp.route("/<int:household_id>/modifier", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def edit(household_id: int):
    household = open_household_file(household_id)
    form = HouseholdEditForm(obj=household)
    if not form.is_submitted():
        _fill_situation(form, household)
    done = submit(
        form,
        lambda: services.update_household(
            current_user,
            household,
            expected_version=form.expected_version.data,
            phone=form.phone.data,
            email=form.email.data,
            current_address=form.current_address.data,
            **_situation(form),
            difficulties=form.difficulties.data,
            housing_application_number=form.housing_application_number.data,
            housing_application_expires_on=form.housing_application_expires_on.data,
        ),
        "Fiche du ménage enregistrée.",
        file_page("households.members", household),
    )
    return done or render_template("households/edit.html", household=household, form=form)


# --- the file --------------------------------------------------------------------------------


@bp.route("/<int:household_id>")
@permission_required(VIEW)
def show(household_id: int):
    household = open_household_file(household_id)
    # The timeline and the header share the leases and procedure stages they both show.
    with file_page_loads():
        return render_template(
            "households/show.html",
            household=household,
            events=household_timeline(household, current_user),
        )


@bp.route("/<int:household_id>/composition")
@permission_required(VIEW)
def members(household_id: int):
    household = open_household_file(household_id)
    return render_template(
        "households/members.html", household=household, action_form=VersionedForm()
    )


def _member_or_404(household, member_id: int):
    """Members load through their household (already scoped)."""
    return next((m for m in household.members if m.id == member_id), None) or abort(404)


@bp.route("/<int:household_id>/composition/ajouter", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def add_member(household_id: int):
    household = open_household_file(household_id)
    form = MemberForm()
    if not form.is_submitted():
        form.relation.data = "enfant" if household.members else "demandeur"
    done = submit(
        form,
        lambda: services.add_member(
            current_user,
            household,
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            birth_on=form.birth_on.data,
            relation=form.relation.data,
            is_head=form.is_head.data,
        ),
        lambda member: f"{member.full_name} ajouté·e.",
        file_page("households.members", household),
    )
    return done or render_template(
        "households/member_form.html", household=household, form=form, member=None
    )


@bp.route("/<int:household_id>/composition/<int:member_id>/modifier", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def edit_member(household_id: int, member_id: int):
    household = open_household_file(household_id)
    member = _member_or_404(household, member_id)
    form = MemberForm(obj=member)
    if not form.is_submitted():
        form.expected_version.data = member.version
    done = submit(
        form,
        lambda: services.update_member(
            current_user,
            household,
            member,
            expected_version=form.expected_version.data,
            first_name=form.first_name.data,
            last_name=form.last_name.data,
            birth_on=form.birth_on.data,
            relation=form.relation.data,
            is_head=form.is_head.data,
        ),
        lambda _result: f"{member.full_name} enregistré·e.",
        file_page("households.members", household),
    )
    return done or render_template(
        "households/member_form.html", household=household, form=form, member=member
    )


@bp.route("/<int:household_id>/composition/<int:member_id>/retirer", methods=["POST"])
@permission_required(EDIT, SOCIAL)
def remove_member(household_id: int, member_id: int):
    household = open_household_file(household_id)
    member = _member_or_404(household, member_id)
    form = VersionedForm()
    return press(
        form,
        lambda: services.remove_member(
            current_user, household, member, expected_version=form.expected_version.data
        ),
        f"{member.full_name} ne fait plus partie du ménage.",
        file_page("households.members", household),
    )


# The file's other pages are routes of this same blueprint, in sibling modules.
from app.households import (  # noqa: E402, F401
    views_access_log,
    views_consents,
    views_path,
    views_team,
)
