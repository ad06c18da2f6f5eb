"""The support section of the demo: realistic, and idempotent."""

from datetime import timedelta

from sqlalchemy import func, select

from app.db import db
from app.demo import load_demo
from app.formatting import today_paris
from app.households.models import Household
from app.interventions.models import Intervention
from app.interventions.queries import last_contacts
from app.partners.models import Partner, Referral, TripartiteMeeting
from app.projects.models import Project
from app.support.models import IntensityLevel, Measure, PostExitCheck, Review
from app.support.queries import household_intensity
from app.users.models import User
from tests.factories import make_household, make_tenancy

MODELS = (
    IntensityLevel,
    Partner,
    Measure,
    Review,
    Intervention,
    Referral,
    TripartiteMeeting,
    PostExitCheck,
)


def counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_demo_support_data_is_realistic_and_loaded_once(app):
    load_demo()
    if db.session.scalar(select(func.count()).select_from(Household)) < 10:
        # The household section may not provide households yet: add some like it would.
        project = db.session.scalar(select(Project).order_by(Project.id))
        worker = db.session.scalar(select(User).where(User.email.like("sophie.martin%")))
        landlord = project.lead_landlord
        for _ in range(12):
            make_tenancy(make_household(project, referent=worker), landlord)
    load_demo()
    first = counts()
    # Each project whose households have measures has its three default levels.
    projects_with_measures = db.session.scalar(
        select(func.count(func.distinct(Household.project_id))).where(
            Household.id.in_(select(Measure.household_id))
        )
    )
    assert first["IntensityLevel"] == 3 * projects_with_measures >= 3
    assert first["Partner"] >= 10
    assert first["Measure"] >= 10 and first["Intervention"] > 100
    assert first["Referral"] >= 3 and first["TripartiteMeeting"] >= 3
    assert first["PostExitCheck"] == 4
    assert _contacts_overdue(today_paris())  # a few households are overdue
    load_demo()
    assert counts() == first


def _contacts_overdue(today) -> list[int]:
    """Supported households whose last contact (else start of support) is older than their
    intensity's rhythm."""
    last = {row.household_id: row.last_contact_on for row in db.session.execute(last_contacts())}
    return [
        row.household_id
        for row in db.session.execute(household_intensity())
        if (last.get(row.household_id) or row.supported_since)
        + timedelta(days=row.contact_every_days)
        < today
    ]
