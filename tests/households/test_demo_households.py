"""The demo households: realistic mix, rules obeyed (they go through the services), fixed
references for the other domains' demo sections, and loading twice adds nothing."""

from collections import Counter

from sqlalchemy import func, select

from app import demo
from app.db import db
from app.households.models import (
    Adhesion,
    Consent,
    Diagnostic,
    Household,
    Member,
    Orientation,
    StageTransition,
)
from app.users.models import User


def _load():
    organisations = demo._organisations()
    projects = demo._projects(organisations)
    users = demo._users(organisations, projects)
    demo._households(projects, users)
    db.session.commit()
    return projects


def test_demo_households_are_realistic_and_loaded_once(app):
    projects = _load()
    households = db.session.scalars(select(Household).order_by(Household.reference)).all()
    per_project = Counter(h.project_id for h in households)
    assert [per_project[p.id] for p in projects] == [45, 35]
    assert households[0].reference == demo.demo_household_reference(1) == "M-2025-0001"
    assert households[-1].reference == "M-2025-0080"
    stages = Counter(h.stage for h in households)
    assert stages.most_common(1)[0][0] == "maintien" and set(stages) == {
        "orientation",
        "diagnostic",
        "adhesion",
        "acces",
        "installation",
        "maintien",
        "sortie",
        "suivi_post_sortie",
    }
    alone = sum(len(h.members) == 1 for h in households)
    assert 0.25 < alone / len(households) < 0.55
    # Past the adhésion, every household has a référent, a signed contract and consents.
    signed = set(db.session.scalars(select(Adhesion.household_id)))
    past_adhesion = [h for h in households if h.stage not in ("orientation", "diagnostic")]
    assert all(h.referent_id and h.id in signed for h in past_adhesion)
    landlord_consents = set(
        db.session.scalars(
            select(Consent.household_id).where(Consent.data_category == "situation_locative")
        )
    )
    assert len(landlord_consents) > 0.7 * len(past_adhesion)
    transitions = db.session.scalar(select(func.count()).select_from(StageTransition))
    # Loaded outside any request (``ancrage demo``), through the services: every record names
    # the worker who entered it, the service's actor, as it would from a page.
    users = set(db.session.scalars(select(User.id)))
    for model in (Household, Member, Orientation, Diagnostic, Adhesion):
        editors = set(db.session.scalars(select(model.updated_by_id)))
        assert editors and editors <= users, model.__name__

    _load()
    assert db.session.scalar(select(func.count()).select_from(Household)) == 80
    assert db.session.scalar(select(func.count()).select_from(StageTransition)) == transitions
