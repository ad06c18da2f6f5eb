"""A small world for permission tests: one project with a user of every role, and a second
project run by other organisations whose users must see nothing of the first.

Each domain adds the records its routes need in ``build_world`` (one function per domain),
so the permission matrix can fill every URL."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from app.households.models import HouseholdTeamMember
from app.organisations.models import OrganisationKind
from app.permissions import Role
from tests.factories import (
    make_consent,
    make_household,
    make_landlord,
    make_member,
    make_organisation,
    make_project,
    make_tenancy,
    make_user,
)

# Who knocks on each door. "autre_*" users belong to other organisations and another project.
ROLES = (
    "anonyme",
    "admin",
    "coordinateur",
    "travailleur_social",
    "bailleur",
    "autre_bailleur",
    "autre_travailleur_social",
)


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    w.landlord = make_landlord(name="Bailleur du projet")
    w.association = make_organisation(OrganisationKind.ASSOCIATION, name="Association du projet")
    w.other_landlord = make_landlord(name="Autre bailleur")
    w.other_association = make_organisation(OrganisationKind.ASSOCIATION, name="Autre association")
    w.project = make_project(lead_landlord=w.landlord, name="Projet A")
    w.other_project = make_project(lead_landlord=w.other_landlord, name="Projet B")
    w.users = {
        "admin": make_user(Role.ADMIN, organisation=w.association),
        "coordinateur": make_user(
            Role.COORDINATEUR, organisation=w.association, projects=[w.project]
        ),
        "travailleur_social": make_user(
            Role.TRAVAILLEUR_SOCIAL, organisation=w.association, projects=[w.project]
        ),
        "bailleur": make_user(
            Role.PERSONNEL_BAILLEUR, organisation=w.landlord, projects=[w.project]
        ),
        "autre_bailleur": make_user(
            Role.PERSONNEL_BAILLEUR, organisation=w.other_landlord, projects=[w.other_project]
        ),
        "autre_travailleur_social": make_user(
            Role.TRAVAILLEUR_SOCIAL, organisation=w.other_association, projects=[w.other_project]
        ),
    }
    w.target_user = make_user(Role.TRAVAILLEUR_SOCIAL, organisation=w.association)
    _households(w)
    _housing(w)
    _support(w)
    _reminders(w)
    _api(w)
    _agenda(w)
    _documents(w)
    _evaluation(w)
    return w


def _evaluation(w: SimpleNamespace) -> None:
    """A budget line of Projet A for this year, and a financial aid of w.household."""
    from decimal import Decimal

    from app.evaluation import money
    from app.formatting import today_paris

    today = today_paris()
    w.budget_line = money.create_budget_line(
        w.users["coordinateur"],
        w.project,
        year=today.year,
        today=today,
        funder="etat",
        label=None,
        granted=Decimal("30000"),
        received=Decimal("10000"),
        note=None,
    )
    w.aid = money.record_aid(
        w.users["travailleur_social"],
        w.household,
        today=today,
        kind="fsl_maintien",
        label=None,
        status="demandee",
        requested=Decimal("850"),
        granted=None,
        requested_on=today,
        decided_on=None,
        note=None,
    )


def _documents(w: SimpleNamespace) -> None:
    """An insurance certificate (landlord audience) uploaded by the travailleur social."""
    from tests.factories import make_document

    w.document = make_document(w.household, w.users["travailleur_social"])


def _api(w: SimpleNamespace) -> None:
    """An API client of the landlord (app/api), with its token."""
    from datetime import timedelta

    from app.api.services import create_client
    from app.formatting import today_paris

    created = create_client(
        w.users["bailleur"],
        w.landlord,
        name="Logiciel du bailleur",
        scopes=["rent_accounts:write", "tenancies:read"],
        expires_on=today_paris() + timedelta(days=90),
        today=today_paris(),
    )
    w.api_client, w.api_token = created.client, created.token


def _households(w: SimpleNamespace) -> None:
    """A household of Projet A followed by the travailleur social, housed by Bailleur du
    projet (a current bail glissant), with a second member, a consent and a colleague on its
    support team."""
    w.household = make_household(
        w.project, referent=w.users["travailleur_social"], reference="M-2026-0001"
    )
    w.member = make_member(w.household, "Inès")
    w.consent = make_consent(w.household, "bailleur", "situation_locative")
    w.team_colleague = make_user(
        Role.TRAVAILLEUR_SOCIAL, organisation=w.association, projects=[w.project]
    )
    w.household.team.append(
        HouseholdTeamMember(user_id=w.team_colleague.id, added_on=date(2025, 3, 1))
    )
    w.occupancy = make_tenancy(w.household, w.landlord, lease_type="bail_glissant")


def _housing(w: SimpleNamespace) -> None:
    """A free dwelling of each landlord, a repayment plan on the household's lease, and a
    household of Projet B housed by the other landlord (out of everyone's scope here but the
    autre_* users')."""
    from tests.factories import make_dwelling, make_occupancy, make_repayment_plan

    w.dwelling = make_dwelling(w.landlord)
    w.other_dwelling = make_dwelling(w.other_landlord, city="Saint-Étienne", postal_code="42000")
    w.repayment_plan = make_repayment_plan(w.occupancy)
    w.other_household = make_household(
        w.other_project, referent=w.users["autre_travailleur_social"], reference="M-2026-0900"
    )
    w.other_occupancy = make_occupancy(w.other_household, make_dwelling(w.other_landlord))


def _reminders(w: SimpleNamespace) -> None:
    """A reminder for the travailleur social about w.household, and their calendar token."""
    from app.formatting import today_paris
    from app.reminders.services import create_calendar_feed, create_manual_reminder

    worker = w.users["travailleur_social"]
    w.reminder = create_manual_reminder(
        worker, w.household, title="Appeler le ménage", due_on=today_paris()
    )
    w.calendar_token = create_calendar_feed(worker)


def _support(w: SimpleNamespace) -> None:
    """Support records of the household: an open measure with an objective, a closed one with
    its post-exit checks, a visit, a partner with a referral, a tripartite meeting."""
    from app.support.services import close_measure
    from tests.factories import (
        make_intensity_levels,
        make_intervention,
        make_measure,
        make_meeting,
        make_objective,
        make_partner,
        make_referral,
    )

    worker = w.users["travailleur_social"]
    w.intensity_level = make_intensity_levels(w.project)[0]
    w.measure = make_measure(w.household, type="hlm_accompagnes")
    w.objective = make_objective(w.household)
    closed = make_measure(w.household, type="asll", start_on=date(2024, 1, 10))
    exit_ = close_measure(
        worker,
        closed,
        version=closed.version,
        exit_on=date(2025, 1, 10),
        reason="fin_de_mesure",
        housing_situation="maintenu",
        is_lease_glissed=False,
        handover=None,
        today=date(2025, 1, 10),
    )
    w.closed_measure, w.post_exit_check = closed, exit_.checks[0]
    w.intervention = make_intervention(w.household, author=worker, note="Note réservée")
    # The directory entry belongs to the project's association (its admin and coordinator
    # edit it; the others read it and may propose a correction).
    w.partner = make_partner(
        name="CMP Lyon 8e", domain="sante", owner_organisation_id=w.association.id
    )
    w.referral = make_referral(w.household, w.partner)
    w.meeting = make_meeting(w.household)


def _agenda(w: SimpleNamespace) -> None:
    """Two appointments of the travailleur social with w.household: one at home today, one
    tripartite (with the landlord) tomorrow."""
    from datetime import time, timedelta

    from app.formatting import today_paris
    from tests.factories import make_appointment

    worker = w.users["travailleur_social"]
    w.appointment = make_appointment(w.household, worker)
    w.tripartite_appointment = make_appointment(
        w.household,
        worker,
        day=today_paris() + timedelta(days=1),
        at=time(10, 0),
        with_whom="bailleur",
        mode="bureau",
    )
