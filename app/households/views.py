"""Household pages: the list, the file (header, tabs, Parcours timeline) and its forms.

Every view loads the household through ``get_household_or_404`` (a household outside the
viewer's scope is a 404), checks the permission, validates the form, calls one service,
commits, flashes and redirects; a ``DomainError`` rolls back and shows the form again.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.audience import can_read
from app.db import commit_keeping_loaded, db
from app.errors import DomainError
from app.formatting import today_paris
from app.forms import VersionedForm, apply_domain_error, cents_to_euros, euros_to_cents
from app.households import services
from app.households.forms import (
    AdhesionForm,
    ConsentForm,
    DiagnosticForm,
    HouseholdCreateForm,
    HouseholdEditForm,
    MemberForm,
    OrientationForm,
    ReferentForm,
    StageForm,
    TeamMemberForm,
    WithdrawConsentForm,
)
from app.households.models import (
    DIAGNOSTIC_AXES,
    Consent,
    Diagnostic,
    Household,
    HouseholdStage,
)
from app.households.queries import (
    PER_PAGE,
    ListFilters,
    current_occupancies,
    file_header,
    file_page_loads,
    get_household_or_404,
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
from app.retention.queries import due_for_anonymisation
from app.search import recalled_search, redirect_to_results
from app.users.models import User

bp = Blueprint("households", __name__, url_prefix="/menages")

VIEW = Permission.VIEW_HOUSEHOLDS
EDIT = Permission.EDIT_HOUSEHOLDS
SOCIAL = Permission.READ_SOCIAL_CONTENT
EXPIRED = "Le formulaire a expiré. Rechargez la page et recommencez."


@bp.app_context_processor
def _file_helpers():
    """``household_header(household)`` for ``households/_file_layout.html``: pages of other
    domains only pass ``household`` to get the header, alerts and tabs."""
    return {"household_header": lambda household: file_header(household, current_user)}


def open_household_file(household_id: int):
    """Load the household for the viewer (404 outside their scope); a GET shows a page of the
    file, so it is recorded as a read — committed before the page is built, so a read is
    recorded even if the page then fails, without reloading the viewer and the household.
    Every domain's household pages load through this."""
    household = get_household_or_404(current_user, household_id)
    if request.method == "GET":
        services.record_file_read(current_user, household, page=request.endpoint)
        commit_keeping_loaded()
    return household


def _back_to(endpoint: str, household, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(endpoint, household_id=household.id))


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


@bp.route("/", methods=["GET", "POST"])
@permission_required(VIEW)
def index():
    if request.method == "POST":  # the search form posts: the typed name stays out of the URL
        return redirect_to_results("households.index", request.form, LIST_FILTERS)
    stage = request.args.get("etape") or None
    public = request.args.get("public") or None
    filters = ListFilters(
        q=recalled_search(),
        project_id=_int_arg("projet"),
        stage=stage if stage in HouseholdStage._value2member_map_ else None,
        referent_id=_int_arg("referent"),
        landlord_id=_int_arg("bailleur"),
        target_public=public if public in TargetPublic._value2member_map_ else None,
        sort=request.args.get("tri", "reference"),
        descending=request.args.get("ordre") == "desc",
    )
    query = household_list(current_user, filters)
    # Coordinators: closed files due for anonymisation within 60 days (app.retention).
    may_see_retention = has_permission(current_user, Permission.EXPORT_SUBJECT_ACCESS)
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
    if form.validate_on_submit():
        project = next((p for p in current_user.projects if p.id == form.project_id.data), None)
        try:
            household = services.create_household(
                current_user,
                project,
                head_first_name=form.head_first_name.data,
                head_last_name=form.head_last_name.data,
                head_birth_on=form.head_birth_on.data,
                phone=form.phone.data,
                email=form.email.data,
                current_address=form.current_address.data,
                referent=candidates.get(form.referent_id.data),
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.show", household, f"Ménage {household.reference} créé.")
    return render_template("households/create.html", form=form)


@bp.route("/<int:household_id>/modifier", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def edit(household_id: int):
    household = open_household_file(household_id)
    form = HouseholdEditForm(obj=household)
    if not form.is_submitted():
        form.expected_version.data = household.version
        form.monthly_income_euros.data = cents_to_euros(household.monthly_income_cents)
        form.apl_euros.data = cents_to_euros(household.apl_cents)
        form.debts_euros.data = cents_to_euros(household.debts_cents)
        form.income_sources.data = [s.value for s in household.income_source_list]
        form.target_publics.data = [t.value for t in household.target_public_list]
    if form.validate_on_submit():
        try:
            services.update_household(
                current_user,
                household,
                expected_version=form.expected_version.data,
                phone=form.phone.data,
                email=form.email.data,
                current_address=form.current_address.data,
                monthly_income_cents=euros_to_cents(form.monthly_income_euros.data),
                income_sources=form.income_sources.data,
                apl_cents=euros_to_cents(form.apl_euros.data),
                is_apl_paid_to_landlord=form.is_apl_paid_to_landlord.data,
                debts_cents=euros_to_cents(form.debts_euros.data),
                has_overindebtedness_file=form.has_overindebtedness_file.data,
                target_publics=form.target_publics.data,
                difficulties=form.difficulties.data,
                housing_application_number=form.housing_application_number.data,
                housing_application_expires_on=form.housing_application_expires_on.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.members", household, "Fiche du ménage enregistrée.")
    return render_template("households/edit.html", household=household, form=form)


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
    if form.validate_on_submit():
        try:
            member = services.add_member(
                current_user,
                household,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                birth_on=form.birth_on.data,
                relation=form.relation.data,
                is_head=form.is_head.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.members", household, f"{member.full_name} ajouté·e.")
    return render_template(
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
    if form.validate_on_submit():
        try:
            services.update_member(
                current_user,
                household,
                member,
                expected_version=form.expected_version.data,
                first_name=form.first_name.data,
                last_name=form.last_name.data,
                birth_on=form.birth_on.data,
                relation=form.relation.data,
                is_head=form.is_head.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.members", household, f"{member.full_name} enregistré·e.")
    return render_template(
        "households/member_form.html", household=household, form=form, member=member
    )


@bp.route("/<int:household_id>/composition/<int:member_id>/retirer", methods=["POST"])
@permission_required(EDIT, SOCIAL)
def remove_member(household_id: int, member_id: int):
    household = open_household_file(household_id)
    member = _member_or_404(household, member_id)
    form = VersionedForm()
    name = member.full_name
    try:
        if not form.validate_on_submit():
            raise DomainError(EXPIRED)
        services.remove_member(
            current_user, household, member, expected_version=form.expected_version.data
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".members", household_id=household.id))
    return _back_to("households.members", household, f"{name} ne fait plus partie du ménage.")


# --- orientation, diagnostic, adhésion -------------------------------------------------------


@bp.route("/<int:household_id>/orientation", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def orientation(household_id: int):
    household = open_household_file(household_id)
    form = OrientationForm()
    if form.validate_on_submit():
        try:
            services.record_orientation(
                current_user,
                household,
                prescriber=form.prescriber.data,
                prescriber_detail=form.prescriber_detail.data,
                oriented_on=form.oriented_on.data,
                kind=form.kind.data,
                reason=form.reason.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.show", household, "Orientation enregistrée.")
    return render_template("households/orientation_form.html", household=household, form=form)


@bp.route("/<int:household_id>/diagnostic", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def diagnostic(household_id: int):
    household = open_household_file(household_id)
    form = DiagnosticForm()
    form.recommended_intensity.choices = [("", "— À déterminer —"), *services.intensity_choices()]
    latest = db.session.scalar(
        db.select(Diagnostic)
        .where(Diagnostic.household_id == household.id)
        .order_by(Diagnostic.carried_out_on.desc(), Diagnostic.id.desc())
        .limit(1)
    )
    if latest is not None and not form.is_submitted():
        # A new diagnostic starts from the previous one: the worker updates what changed.
        for axis in DIAGNOSTIC_AXES:
            for part in ("level", "comment"):
                getattr(form, f"{axis}_{part}").data = getattr(latest, f"{axis}_{part}")
        form.needs.data = [n.value for n in latest.need_list]
        form.recommended_intensity.data = latest.recommended_intensity or ""
    if form.validate_on_submit():
        try:
            services.record_diagnostic(
                current_user,
                household,
                carried_out_on=form.carried_out_on.data,
                levels={a: getattr(form, f"{a}_level").data for a in DIAGNOSTIC_AXES},
                comments={a: getattr(form, f"{a}_comment").data for a in DIAGNOSTIC_AXES},
                needs=form.needs.data,
                recommended_intensity=form.recommended_intensity.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.show", household, "Diagnostic enregistré.")
    return render_template(
        "households/diagnostic_form.html",
        household=household,
        form=form,
        axes=DIAGNOSTIC_AXES,
        latest=latest,
    )


@bp.route("/<int:household_id>/adhesion", methods=["GET", "POST"])
@permission_required(EDIT, SOCIAL)
def adhesion(household_id: int):
    household = open_household_file(household_id)
    form = AdhesionForm()
    if form.validate_on_submit():
        try:
            services.record_adhesion(
                current_user,
                household,
                signed_on=form.signed_on.data,
                objectives=form.objectives.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.show", household, "Adhésion enregistrée.")
    return render_template("households/adhesion_form.html", household=household, form=form)


# --- consents --------------------------------------------------------------------------------


def _render_consents(household, form, withdraw_forms=None):
    consents = db.session.scalars(
        db.select(Consent)
        .where(Consent.household_id == household.id)
        .order_by(Consent.withdrawn_on.is_not(None), Consent.given_on.desc(), Consent.id.desc())
    ).all()
    withdraw_forms = withdraw_forms or {}
    for consent in consents:
        if consent.withdrawn_on is None and consent.id not in withdraw_forms:
            withdraw_forms[consent.id] = WithdrawConsentForm(prefix=f"retrait-{consent.id}")
    return render_template(
        "households/consents.html",
        household=household,
        form=form,
        consents=consents,
        withdraw_forms=withdraw_forms,
    )


@bp.route("/<int:household_id>/consentements", methods=["GET", "POST"])
@permission_required(VIEW, SOCIAL)
def consents(household_id: int):
    household = open_household_file(household_id)
    form = ConsentForm()
    if request.method == "POST" and not has_permission(current_user, EDIT):
        abort(403)
    if form.validate_on_submit():
        try:
            services.give_consent(
                current_user,
                household,
                partner_category=form.partner_category.data,
                data_category=form.data_category.data,
                given_on=form.given_on.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.consents", household, "Consentement enregistré.")
    return _render_consents(household, form)


@bp.route("/<int:household_id>/consentements/<int:consent_id>/retrait", methods=["POST"])
@permission_required(EDIT, SOCIAL)
def withdraw_consent(household_id: int, consent_id: int):
    household = open_household_file(household_id)
    consent = db.session.scalar(
        db.select(Consent).where(Consent.id == consent_id, Consent.household_id == household.id)
    )
    if consent is None:
        abort(404)
    form = WithdrawConsentForm(prefix=f"retrait-{consent.id}")
    if form.validate_on_submit():
        try:
            services.withdraw_consent(
                current_user, household, consent, withdrawn_on=form.withdrawn_on.data
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to("households.consents", household, "Retrait du consentement noté.")
    return _render_consents(household, ConsentForm(formdata=None), {consent.id: form})


# --- référent and support team ---------------------------------------------------------------


def _render_team(household, referent_form=None, member_form=None):
    candidates = team_candidates(household.project_id)
    in_team = {household.referent_id, *(t.user_id for t in household.team)}
    if referent_form is None:
        referent_form = ReferentForm(formdata=None)
        referent_form.referent_id.data = household.referent_id or 0
        referent_form.expected_version.data = household.version
    referent_form.referent_id.choices = [(0, "— Choisir —")] + [
        (u.id, u.full_name) for u in candidates
    ]
    member_form = member_form or TeamMemberForm(formdata=None)
    member_form.user_id.choices = [(0, "— Choisir —")] + [
        (u.id, u.full_name) for u in candidates if u.id not in in_team
    ]
    return render_template(
        "households/team.html",
        household=household,
        referent_form=referent_form,
        member_form=member_form,
        remove_form=FlaskForm(formdata=None),
    )


@bp.route("/<int:household_id>/equipe")
@permission_required(VIEW)
def team(household_id: int):
    return _render_team(open_household_file(household_id))


def _candidate(household, user_id: int | None) -> User | None:
    return next((u for u in team_candidates(household.project_id) if u.id == user_id), None)


@bp.route("/<int:household_id>/referent", methods=["POST"])
@permission_required(EDIT, Permission.REASSIGN_HOUSEHOLDS)
def assign_referent(household_id: int):
    household = open_household_file(household_id)
    form = ReferentForm()
    form.referent_id.choices = [(u.id, u.full_name) for u in team_candidates(household.project_id)]
    form.referent_id.choices.insert(0, (0, "— Choisir —"))
    if form.validate_on_submit():
        try:
            services.assign_referent(
                current_user,
                household,
                referent=_candidate(household, form.referent_id.data),
                expected_version=form.expected_version.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to(
                "households.team", household, f"Référent·e : {household.referent.full_name}."
            )
    return _render_team(household, referent_form=form)


@bp.route("/<int:household_id>/equipe/ajouter", methods=["POST"])
@permission_required(EDIT)
def add_team_member(household_id: int):
    household = open_household_file(household_id)
    form = TeamMemberForm()
    form.user_id.choices = [(0, "— Choisir —")] + [
        (u.id, u.full_name) for u in team_candidates(household.project_id)
    ]
    if form.validate_on_submit():
        try:
            link = services.add_team_member(
                current_user, household, user=_candidate(household, form.user_id.data)
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to(
                "households.team", household, f"{link.user.full_name} rejoint l'équipe."
            )
    return _render_team(household, member_form=form)


@bp.route("/<int:household_id>/equipe/<int:user_id>/retirer", methods=["POST"])
@permission_required(EDIT)
def remove_team_member(household_id: int, user_id: int):
    household = open_household_file(household_id)
    try:
        if not FlaskForm().validate_on_submit():
            raise DomainError(EXPIRED)
        services.remove_team_member(current_user, household, user_id=user_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".team", household_id=household.id))
    return _back_to("households.team", household, "L'équipe du ménage a été mise à jour.")


# --- the path --------------------------------------------------------------------------------


@bp.route("/<int:household_id>/etape", methods=["GET", "POST"])
@permission_required(EDIT)
def move_stage(household_id: int):
    household = open_household_file(household_id)
    form = StageForm()
    moves = services.allowed_moves(household)
    form.to_stage.choices = [
        (
            s.value,
            s.label + ("" if services.is_forward(household.stage, s) else " (retour)"),
        )
        for s in moves
    ]
    if not form.is_submitted():
        form.expected_version.data = household.version
    if form.validate_on_submit():
        try:
            services.move_stage(
                current_user,
                household,
                to_stage=form.to_stage.data,
                on=form.on.data,
                reason=form.reason.data,
                expected_version=form.expected_version.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _back_to(
                "households.show", household, f"Étape « {household.stage_label} » enregistrée."
            )
    return render_template(
        "households/stage_form.html",
        household=household,
        form=form,
        path_table=services.path_table(),
    )
