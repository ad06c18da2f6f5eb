"""Account management by administrators. Admins never choose a user's password: creation and
reset issue a temporary one, shown once, that the user must replace at first login.

Every change of who may see what is in the journal with its before and after: roles,
projects and organisation (ids and names; nothing sensitive). The coordinators of a project
are told when someone is given access to it, by the listeners named in
``PROJECT_ACCESS_LISTENERS`` (``reminders`` sits above ``users``: named here, imported late,
as the household hub does with its timeline providers)."""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.utils import import_string

from app.audit.services import record
from app.auth.services import generate_temporary_password, set_password
from app.db import db
from app.errors import DomainError, check_version
from app.organisations.models import Organisation
from app.permissions import Role
from app.projects.models import Project
from app.users.models import User, UserRole, new_session_token


def _validated(values: dict, *, exclude_id: int | None = None) -> dict:
    email = values["email"].strip().lower()
    query = select(User.id).where(func.lower(User.email) == email)
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise DomainError("Un compte existe déjà avec cette adresse e-mail.", field="email")
    organisation = db.session.get(Organisation, values["organisation_id"])
    if organisation is None:
        raise DomainError("Choisissez l'organisation de l'utilisateur.", field="organisation_id")
    roles = {Role(r) for r in values.get("roles") or ()}
    if not roles:
        raise DomainError("Choisissez au moins un rôle.", field="roles")
    if Role.PERSONNEL_BAILLEUR in roles and not organisation.is_landlord:
        raise DomainError(
            "Le rôle « Personnel du bailleur » est réservé aux comptes d'un bailleur HLM.",
            field="roles",
        )
    project_ids = set(values.get("project_ids") or ())
    projects = (
        db.session.scalars(select(Project).where(Project.id.in_(project_ids))).all()
        if project_ids
        else []
    )
    if len(projects) != len(project_ids):
        raise DomainError("Un des projets choisis n'existe pas.", field="project_ids")
    return {
        "email": email,
        "full_name": values["full_name"].strip(),
        "phone": values.get("phone"),
        "job_title": values.get("job_title"),
        "organisation_id": organisation.id,
        "roles": roles,
        "projects": projects,
    }


def _apply(user: User, cleaned: dict) -> None:
    roles = cleaned.pop("roles")
    for key, value in cleaned.items():
        setattr(user, key, value)
    user.role_rows = [row for row in user.role_rows if row.role in roles] + [
        UserRole(role=role) for role in roles - user.roles
    ]


# ``module:function(actor, user, projects, *, added_roles=None)``, called when ``user`` is
# added to ``projects`` (``added_roles`` None), or is given ``added_roles`` on ``projects``
# they already belonged to: a new role widens what they may see there.
PROJECT_ACCESS_LISTENERS: tuple[str, ...] = ("app.reminders.services:notify_project_access",)


def _access(user: User) -> dict:
    """What the journal keeps of a user's access: roles, projects, organisation."""
    organisation = (
        db.session.get(Organisation, user.organisation_id) if user.organisation_id else None
    )
    return {
        "roles": sorted(user.roles),
        "projects": [
            {"id": p.id, "name": p.name} for p in sorted(user.projects, key=lambda p: p.id)
        ],
        "organisation": {"id": organisation.id, "name": organisation.name}
        if organisation
        else None,
    }


def _access_changes(before: dict, after: dict) -> dict:
    """``{"roles": {"before": …, "after": …}, …}`` for what changed."""
    return {
        key: {"before": before[key], "after": after[key]}
        for key in after
        if before[key] != after[key]
    }


def _tell_project_coordinators(actor, user: User, projects, *, added_roles=None) -> None:
    if not projects:
        return
    extra = {"added_roles": sorted(added_roles)} if added_roles else {}
    for dotted in PROJECT_ACCESS_LISTENERS:
        import_string(dotted)(actor, user, projects, **extra)


def create_user(actor, **values) -> tuple[User, str]:
    """Create an account; returns it with its temporary password (shown once)."""
    user = User()
    _apply(user, _validated(values))
    temporary = generate_temporary_password()
    set_password(user, temporary, is_temporary=True)
    db.session.add(user)
    db.session.flush()
    access = _access(user)
    record(
        actor,
        "user.created",
        target=user,
        details={
            **access,
            "changes": _access_changes({"roles": [], "projects": [], "organisation": None}, access),
        },
    )
    _tell_project_coordinators(actor, user, list(user.projects))
    return user, temporary


def update_user(actor, user: User, *, version, **values) -> User:
    check_version(user, version)
    before = _access(user)
    previous_projects = set(user.project_ids)
    previous_roles = set(user.roles)
    _apply(user, _validated(values, exclude_id=user.id))
    after = _access(user)
    changes = _access_changes(before, after)
    if changes:
        # Fewer rights must take effect now, not at the user's next login.
        user.session_token = new_session_token()
    record(actor, "user.updated", target=user, details={**after, "changes": changes})
    _tell_project_coordinators(
        actor, user, [p for p in user.projects if p.id not in previous_projects]
    )
    # A role added widens their access to the projects they were already on: those
    # projects' coordinators are told too (the new projects' notice names every role).
    added_roles = set(user.roles) - previous_roles
    if added_roles:
        _tell_project_coordinators(
            actor,
            user,
            [p for p in user.projects if p.id in previous_projects],
            added_roles=added_roles,
        )
    return user


def set_user_active(actor, user: User, *, is_active: bool, version) -> None:
    check_version(user, version)
    if user.id == getattr(actor, "id", None) and not is_active:
        raise DomainError("Vous ne pouvez pas désactiver votre propre compte.")
    user.is_active = is_active
    user.session_token = new_session_token()
    record(actor, "user.activated" if is_active else "user.deactivated", target=user)


def reset_password(actor, user: User) -> str:
    """Issue a new temporary password and end the user's sessions; returns it (shown once)."""
    temporary = generate_temporary_password()
    set_password(user, temporary, is_temporary=True)
    record(actor, "user.password_reset", target=user)
    return temporary
