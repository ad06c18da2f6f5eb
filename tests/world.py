"""A small world for permission tests: one project with a user of every role, and a second
project run by other organisations whose users must see nothing of the first.

Each domain adds the records its routes need in ``build_world`` (one function per domain),
so the permission matrix can fill every URL."""

from __future__ import annotations

from types import SimpleNamespace

from app.organisations.models import OrganisationKind
from app.permissions import Role
from tests.factories import make_landlord, make_organisation, make_project, make_user

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
    return w
