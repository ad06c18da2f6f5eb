from sqlalchemy import func, select

from app.auth.services import authenticate
from app.demo import DEMO_PASSWORD, load_demo
from app.organisations.models import Organisation
from app.permissions import Role
from app.projects.models import Project
from app.users.models import User


def _counts(db):
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Organisation, Project, User)
    )


def test_demo_is_realistic_and_loading_it_twice_duplicates_nothing(app):
    from app.db import db

    accounts = load_demo()
    first = _counts(db)
    assert first[1] == 2 and 10 <= first[2] <= 14
    landlords = db.session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.kind == "bailleur")
    )
    assert landlords == 3
    roles = {role for account in accounts for role in account.roles}
    assert roles == set(Role)
    load_demo()
    assert _counts(db) == first
    for account in accounts:
        assert authenticate(account.email, DEMO_PASSWORD, ip=None) == account


def test_no_account_exists_until_the_demo_is_loaded(app):
    from app.db import db

    assert db.session.scalar(select(func.count()).select_from(User)) == 0
