"""Partner directory, the household's "Partenaires" tab, referrals and tripartite meetings."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from app.audience import can_read
from app.db import db
from app.formatting import today_paris
from app.forms import submit
from app.households.file import open_household_file
from app.http import int_arg
from app.partners import services
from app.partners.forms import (
    ContactForm,
    CorrectionForm,
    MeetingForm,
    PartnerForm,
    ReferralForm,
    ReferralStatusForm,
)
from app.partners.models import PartnerDomain, Referral, ReferralStatus
from app.partners.queries import (
    get_partner_or_404,
    get_referral_or_404,
    household_meetings,
    household_referrals,
    search_partners,
)
from app.partners.services import REFERRAL_TRANSITIONS
from app.permissions import (
    Permission,
    can_edit_partner,
    permission_required,
)
from app.search import MAX_LENGTH as SEARCH_MAX_LENGTH

bp = Blueprint("partners", __name__)

VIEW = Permission.VIEW_PARTNERS
MANAGE = Permission.MANAGE_PARTNERS
REFER = (Permission.VIEW_HOUSEHOLDS, Permission.READ_SOCIAL_CONTENT, Permission.REFER_TO_PARTNERS)
MEET = (Permission.VIEW_HOUSEHOLDS, Permission.READ_SOCIAL_CONTENT, Permission.RECORD_INTERVENTIONS)
PER_PAGE = 30


# --- directory ----------------------------------------------------------------------------


@bp.route("/partenaires/")
@permission_required(VIEW)
def index():
    q = (request.args.get("q") or "").strip()[:SEARCH_MAX_LENGTH]
    domain = request.args.get("domaine") or ""
    if domain not in PartnerDomain.__members__.values():
        domain = ""
    page = db.paginate(
        search_partners(q, domain or None, active_only=not current_user_manages()),
        page=int_arg("page") or 1,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "partners/index.html",
        page=page,
        q=q,
        domain=domain,
        domains=PartnerDomain.choices(),
    )


def current_user_manages() -> bool:
    return MANAGE in current_user.permissions


def _partner_values(form: PartnerForm) -> dict:
    names = ("name", "domain", "kind", "address", "city", "phone", "email", "notes")
    return {name: getattr(form, name).data for name in names}


@bp.route("/partenaires/nouveau", methods=["GET", "POST"])
@permission_required(MANAGE)
def create():
    form = PartnerForm()
    del form.is_active
    done = submit(
        form,
        lambda: services.create_partner(current_user, **_partner_values(form)),
        "Partenaire ajouté à l'annuaire.",
        url_for(".index"),
    )
    return done or render_template("partners/partner_form.html", form=form, partner=None)


def _detail_page(partner, *, contact_form=None, correction_form=None):
    return render_template(
        "partners/detail.html",
        partner=partner,
        can_edit=can_edit_partner(current_user, partner),
        contact_form=contact_form or ContactForm(),
        correction_form=correction_form or CorrectionForm(),
    )


def _editable_partner_or_403(partner_id: int):
    """Anyone who reads the directory sees the entry: editing it is for its owner only."""
    partner = get_partner_or_404(partner_id)
    if not can_edit_partner(current_user, partner):
        abort(403)
    return partner


@bp.route("/partenaires/<int:partner_id>")
@permission_required(VIEW)
def detail(partner_id: int):
    return _detail_page(get_partner_or_404(partner_id))


@bp.route("/partenaires/<int:partner_id>/correction", methods=["POST"])
@permission_required(VIEW)
def propose_correction(partner_id: int):
    """Propose a correction of another organisation's entry to its coordinators."""
    partner = get_partner_or_404(partner_id)
    form = CorrectionForm()
    done = submit(
        form,
        lambda: services.propose_correction(current_user, partner, message=form.message.data),
        "Correction proposée : les coordinateur·rices de l'organisation qui tient cette fiche "
        "l'ont reçue dans leurs rappels.",
        url_for(".detail", partner_id=partner.id),
    )
    return done or _detail_page(partner, correction_form=form)


@bp.route("/partenaires/<int:partner_id>/modifier", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit(partner_id: int):
    partner = _editable_partner_or_403(partner_id)
    form = PartnerForm(obj=partner)
    if not form.is_submitted():
        form.expected_version.data = partner.version
    done = submit(
        form,
        lambda: services.update_partner(
            current_user,
            partner,
            version=form.expected_version.data,
            is_active=form.is_active.data,
            **_partner_values(form),
        ),
        "Partenaire enregistré.",
        url_for(".detail", partner_id=partner.id),
    )
    return done or render_template("partners/partner_form.html", form=form, partner=partner)


@bp.route("/partenaires/<int:partner_id>/contacts", methods=["POST"])
@permission_required(MANAGE)
def add_contact(partner_id: int):
    partner = _editable_partner_or_403(partner_id)
    form = ContactForm()
    done = submit(
        form,
        lambda: services.add_partner_contact(
            current_user,
            partner,
            full_name=form.full_name.data,
            job_title=form.job_title.data,
            phone=form.phone.data,
            email=form.email.data,
        ),
        "Contact ajouté.",
        url_for(".detail", partner_id=partner.id),
    )
    return done or _detail_page(partner, contact_form=form)


# --- the household's tab ------------------------------------------------------------------


@bp.route("/menages/<int:household_id>/partenaires")
@permission_required(Permission.VIEW_HOUSEHOLDS)
def household(household_id: int):
    """Tripartite meetings for everyone who sees the household; referrals only for the support
    team and coordinators."""
    household = open_household_file(household_id)
    social = can_read(current_user, Referral.reason)
    return render_template(
        "partners/household.html",
        household=household,
        meetings=household_meetings(household),
        referrals=household_referrals(household) if social else [],
        social=social,
        today=today_paris(),
    )


def _tab(household) -> str:
    return url_for(".household", household_id=household.id)


def _form_page(household, form, *, title: str, submit_label: str, intro: str = ""):
    return render_template(
        "support/form_page.html",
        household=household,
        form=form,
        title=title,
        submit_label=submit_label,
        intro=intro,
        cancel_url=_tab(household),
    )


def _partner_choices() -> list[tuple[int, str]]:
    partners = db.session.scalars(search_partners()).all()
    return [(0, "— Choisir un partenaire —")] + [
        (p.id, f"{p.domain_label} · {p.name}" + (f" ({p.city})" if p.city else ""))
        for p in partners
    ]


@bp.route("/menages/<int:household_id>/partenaires/orientations/nouvelle", methods=["GET", "POST"])
@permission_required(*REFER)
def refer(household_id: int):
    household = open_household_file(household_id)
    form = ReferralForm()
    form.partner_id.choices = _partner_choices()
    if not form.is_submitted():
        form.referred_on.data = today_paris()
        form.partner_id.data = int_arg("partenaire") or 0
    done = submit(
        form,
        lambda: services.refer_household(
            current_user,
            household,
            partner_id=form.partner_id.data,
            domain=form.domain.data,
            reason=form.reason.data,
            referred_on=form.referred_on.data,
        ),
        "Orientation enregistrée.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title="Orienter vers un partenaire",
        submit_label="Enregistrer l'orientation",
        intro="L'orientation n'est possible qu'avec le consentement du ménage à sa date : "
        "« Santé » pour un partenaire santé ou une orientation sur la santé, sinon "
        "« Situation sociale et accompagnement », pour la catégorie du partenaire "
        "(onglet Consentements).",
    )


@bp.route(
    "/menages/<int:household_id>/partenaires/orientations/<int:referral_id>",
    methods=["GET", "POST"],
)
@permission_required(*REFER)
def update_referral(household_id: int, referral_id: int):
    household = open_household_file(household_id)
    referral = get_referral_or_404(household, referral_id)
    form = ReferralStatusForm()
    form.status.choices = [
        (s, ReferralStatus(s).label) for s in REFERRAL_TRANSITIONS[referral.status]
    ] or [(referral.status, referral.status_label)]
    if not form.is_submitted():
        form.expected_version.data = referral.version
        form.on.data = today_paris()
    done = submit(
        form,
        lambda: services.update_referral_status(
            current_user,
            referral,
            version=form.expected_version.data,
            status=form.status.data,
            on=form.on.data,
            comment=form.comment.data,
        ),
        "Statut de l'orientation enregistré.",
        _tab(household),
    )
    return done or render_template(
        "partners/referral.html", household=household, referral=referral, form=form
    )


@bp.route("/menages/<int:household_id>/partenaires/reunions/nouvelle", methods=["GET", "POST"])
@permission_required(*MEET)
def create_meeting(household_id: int):
    household = open_household_file(household_id)
    form = MeetingForm()
    done = submit(
        form,
        lambda: services.record_meeting(
            current_user,
            household,
            held_on=form.held_on.data,
            attendees=form.attendees.data,
            decisions=form.decisions.data,
            next_meeting_on=form.next_meeting_on.data,
        ),
        "Réunion tripartite enregistrée.",
        _tab(household),
    )
    return done or _form_page(
        household,
        form,
        title="Réunion tripartite",
        submit_label="Enregistrer la réunion",
        intro="Ménage, bailleur et accompagnement. Ce compte rendu est visible par le "
        "personnel du bailleur.",
    )
