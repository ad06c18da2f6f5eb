"""The one permission vocabulary of Ancrage.

Three layers, all defined here and nowhere else:

1. ``Role`` → ``Permission``: what kind of action a user may take at all
   (``permission_required`` on views, ``has_permission`` in templates).
2. Object scope is a *query*: each domain's ``queries.py`` exposes ``visible_…(user)`` and
   ``get_…_or_404(user, id)`` built on ``household_scope`` below, so a record outside the
   user's scope is a 404 and never a 403 that would confirm it exists.
3. Column-level rules are not here: each column of household data declares its audience
   (``info={"audience": ...}``) and ``app.audience`` says which permission of this vocabulary
   reads each audience — landlord staff never receive social notes, diagnostic or health
   content, in any channel. ``can_read_social_content`` below remains for what a social
   reader may *do* or which rows they reach (the team's reminders, the landlord viewer's
   scope), not for which columns they read.
"""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATEUR = "coordinateur"
    TRAVAILLEUR_SOCIAL = "travailleur_social"
    PERSONNEL_BAILLEUR = "personnel_bailleur"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrateur"),
    Role.COORDINATEUR: _l("Coordinateur·rice"),
    Role.TRAVAILLEUR_SOCIAL: _l("Travailleur·se social·e"),
    Role.PERSONNEL_BAILLEUR: _l("Personnel du bailleur"),
}


class Permission(StrEnum):
    # Administration
    MANAGE_USERS = "manage_users"
    MANAGE_ORGANISATIONS = "manage_organisations"
    MANAGE_PROJECTS = "manage_projects"
    MANAGE_SETTINGS = "manage_settings"
    VIEW_AUDIT_LOG = "view_audit_log"
    # Households
    VIEW_HOUSEHOLDS = "view_households"
    EDIT_HOUSEHOLDS = "edit_households"
    READ_SOCIAL_CONTENT = "read_social_content"  # diagnostic, notes, objectives, health
    # Housing (landlord side)
    VIEW_TENANCIES = "view_tenancies"
    MANAGE_DWELLINGS = "manage_dwellings"
    MANAGE_LEASES = "manage_leases"  # start/end a lease, bail glissant reviews, glissement
    RECORD_GLA_ACTIONS = "record_gla_actions"
    IMPORT_RENT_ACCOUNTS = "import_rent_accounts"
    # Support
    RECORD_INTERVENTIONS = "record_interventions"
    MANAGE_MEASURES = "manage_measures"
    REFER_TO_PARTNERS = "refer_to_partners"
    # Documents of the household file: upload and replace (in the categories the user
    # reads), and delete a document someone else uploaded
    UPLOAD_DOCUMENTS = "upload_documents"
    DELETE_ANY_DOCUMENT = "delete_any_document"
    VIEW_PARTNERS = "view_partners"
    MANAGE_PARTNERS = "manage_partners"
    # Coordination
    VIEW_CASELOADS = "view_caseloads"
    REASSIGN_HOUSEHOLDS = "reassign_households"
    VIEW_INDICATORS = "view_indicators"
    EXPORT_DATA = "export_data"
    EXPORT_SUBJECT_ACCESS = "export_subject_access"
    VIEW_FILE_ACCESS_LOG = "view_file_access_log"  # who consulted a household file
    MANAGE_INTENSITY_LEVELS = "manage_intensity_levels"
    # Everyone who works with households
    VIEW_REMINDERS = "view_reminders"
    # Landlord data exchange (app/api): the API clients of an organisation, and the export
    # of the landlord's followed tenancies
    MANAGE_API_CLIENTS = "manage_api_clients"
    EXPORT_TENANCIES = "export_tenancies"
    # Programme evaluation (app/evaluation): a project's budget lines and places, households'
    # financial aid, the yearly bilan and its texts, the national aggregate export, and the
    # side-by-side comparison of every project (aggregates only, never a household)
    EDIT_FUNDING = "edit_funding"
    RECORD_FINANCIAL_AID = "record_financial_aid"
    VIEW_EVALUATION = "view_evaluation"
    WRITE_BILAN = "write_bilan"
    EXPORT_NATIONAL_EVALUATION = "export_national_evaluation"
    COMPARE_PROJECTS = "compare_projects"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            P.MANAGE_USERS,
            P.MANAGE_ORGANISATIONS,
            P.MANAGE_PROJECTS,
            P.MANAGE_SETTINGS,
            P.VIEW_AUDIT_LOG,
            P.MANAGE_PARTNERS,
            P.VIEW_PARTNERS,
            P.MANAGE_API_CLIENTS,
            P.EXPORT_NATIONAL_EVALUATION,
            P.COMPARE_PROJECTS,
        }
    ),
    Role.COORDINATEUR: frozenset(
        {
            P.VIEW_HOUSEHOLDS,
            P.EDIT_HOUSEHOLDS,
            P.READ_SOCIAL_CONTENT,
            P.VIEW_TENANCIES,
            P.MANAGE_DWELLINGS,
            P.MANAGE_LEASES,
            P.RECORD_INTERVENTIONS,
            P.MANAGE_MEASURES,
            P.REFER_TO_PARTNERS,
            P.VIEW_PARTNERS,
            P.MANAGE_PARTNERS,
            P.UPLOAD_DOCUMENTS,
            P.DELETE_ANY_DOCUMENT,
            P.VIEW_CASELOADS,
            P.REASSIGN_HOUSEHOLDS,
            P.VIEW_INDICATORS,
            P.EXPORT_DATA,
            P.EXPORT_SUBJECT_ACCESS,
            P.VIEW_FILE_ACCESS_LOG,
            P.MANAGE_INTENSITY_LEVELS,
            P.VIEW_REMINDERS,
            P.EDIT_FUNDING,
            P.RECORD_FINANCIAL_AID,
            P.VIEW_EVALUATION,
            P.WRITE_BILAN,
            P.EXPORT_NATIONAL_EVALUATION,
        }
    ),
    Role.TRAVAILLEUR_SOCIAL: frozenset(
        {
            P.VIEW_HOUSEHOLDS,
            P.EDIT_HOUSEHOLDS,
            P.READ_SOCIAL_CONTENT,
            P.VIEW_TENANCIES,
            P.MANAGE_LEASES,
            P.RECORD_INTERVENTIONS,
            P.MANAGE_MEASURES,
            P.REFER_TO_PARTNERS,
            P.VIEW_PARTNERS,
            P.UPLOAD_DOCUMENTS,
            P.VIEW_REMINDERS,
            P.RECORD_FINANCIAL_AID,
        }
    ),
    Role.PERSONNEL_BAILLEUR: frozenset(
        {
            P.VIEW_HOUSEHOLDS,
            P.VIEW_TENANCIES,
            P.MANAGE_DWELLINGS,
            P.MANAGE_LEASES,
            P.RECORD_GLA_ACTIONS,
            P.IMPORT_RENT_ACCOUNTS,
            P.UPLOAD_DOCUMENTS,
            P.VIEW_REMINDERS,
            P.MANAGE_API_CLIENTS,
            P.EXPORT_TENANCIES,
        }
    ),
}


def permissions_for(roles) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)


def has_permission(user, permission: Permission) -> bool:
    return bool(user and user.is_authenticated and permission in user.permissions)


def can_read_social_content(user) -> bool:
    """Support team and coordinators (holders of READ_SOCIAL_CONTENT). For whether a viewer
    reads a column, ask ``app.audience.can_read`` instead."""
    return has_permission(user, Permission.READ_SOCIAL_CONTENT)


def coordinates_project(user, project_id: int | None) -> bool:
    """A project's own settings (its intensity levels) are changed by the coordinators who
    work on that project, and by no one else."""
    return (
        has_permission(user, Permission.MANAGE_INTENSITY_LEVELS)
        and project_id is not None
        and project_id in user.project_ids
    )


def can_edit_partner(user, partner) -> bool:
    """A partner entry is edited by the organisation that created it (its coordinators and
    administrators); an entry without a known owner, by administrators. Everyone else who
    reads the directory may propose a correction to the owner."""
    if not has_permission(user, Permission.MANAGE_PARTNERS):
        return False
    if partner.owner_organisation_id is None:
        return Role.ADMIN in user.roles
    return partner.owner_organisation_id == user.organisation_id


def permission_required(*permissions: Permission):
    """View decorator: the user must be logged in and hold every listed permission."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if not all(p in current_user.permissions for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = frozenset(permissions)
        return wrapped

    return decorator
