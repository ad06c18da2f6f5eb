"""Every route × every role (and users of other organisations), with the exact status.

A route missing from ``MATRIX`` fails ``test_every_route_is_in_the_matrix``: adding a view
means deciding, here, who may reach it.

Statuses: 200 page shown (for a POST with empty data: the form shown again with its errors),
302 redirect (anonymous → login, or an action done), 403 the role lacks the permission,
404 the record is outside the user's scope (never a 403 that would confirm it exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.world import ROLES, build_world


@dataclass(frozen=True)
class Case:
    path: str  # formatted with the world: "/admin/projets/{w.project.id}/modifier"
    expect: dict[str, int] = field(default_factory=dict)
    data: dict | None = None


def only(
    *roles: str, ok: int = 200, refused: int = 403, anonymous: int = 302, **exceptions: int
) -> dict[str, int]:
    """``roles`` get ``ok``; other logged-in roles ``refused``; anonymous is sent to login."""
    expect = {role: (ok if role in roles else refused) for role in ROLES}
    expect["anonyme"] = anonymous
    expect.update(exceptions)
    return expect


def everyone(ok: int = 200, anonymous: int = 302) -> dict[str, int]:
    return only(*ROLES, ok=ok, anonymous=anonymous)


ADMIN = ("admin",)
# Everyone who works with households, in any organisation (lists, creation forms).
HOUSEHOLD_STAFF = (
    "coordinateur",
    "travailleur_social",
    "bailleur",
    "autre_bailleur",
    "autre_travailleur_social",
)
H = "/menages/{w.household.id}"
API_MANAGERS = ("admin", "bailleur", "autre_bailleur")


def household_file(ok: int = 200, *, landlord: bool = True) -> dict[str, int]:
    """A page of w.household: its coordinator and référent (and, when ``landlord``, the staff
    of the landlord housing it) get ``ok``; users of other organisations 404 (it is outside
    their scope); the administrator lacks VIEW_HOUSEHOLDS."""
    return only(
        "coordinateur",
        "travailleur_social",
        *(("bailleur",) if landlord else ()),
        ok=ok,
        autre_bailleur=404,
        autre_travailleur_social=404,
    )


def household_social(ok: int = 200) -> dict[str, int]:
    """A page with social content or an edit of w.household: landlord staff lack the
    permission (403, checked before the scope, so it confirms nothing); a social worker of
    another organisation has it but the household is outside their scope (404)."""
    return only("coordinateur", "travailleur_social", ok=ok, autre_travailleur_social=404)


def my_reminder(ok: int = 200) -> dict[str, int]:
    """w.reminder, addressed to the travailleur social: anyone else who may see reminders
    gets 404 (it is not theirs); the administrator lacks VIEW_REMINDERS."""
    return only(
        "travailleur_social",
        ok=ok,
        coordinateur=404,
        bailleur=404,
        autre_bailleur=404,
        autre_travailleur_social=404,
    )


# Housing: landlord actions on w.household's lease; dwelling managers.
HOUSING_LANDLORD = only("bailleur", autre_bailleur=404)
DWELLING_MANAGERS = ("coordinateur", "bailleur", "autre_bailleur")


MATRIX: dict[str, Case] = {
    # auth and home
    "auth.login GET": Case("/connexion", everyone(ok=302, anonymous=200)),
    "auth.login POST": Case("/connexion", everyone(ok=302, anonymous=400)),
    "auth.logout POST": Case("/deconnexion", everyone(ok=302)),
    "auth.change_password GET": Case("/mon-compte/mot-de-passe", everyone()),
    "auth.change_password POST": Case("/mon-compte/mot-de-passe", everyone()),
    "auth.account GET": Case("/mon-compte/", everyone()),
    "home.index GET": Case("/", everyone(ok=302, anonymous=302)),
    "home.welcome GET": Case("/accueil", everyone()),
    # second factor: reachable only half-authenticated (after the password); anyone else is
    # sent back to the login page, or home when already logged in.
    "auth.second_factor GET": Case("/connexion/code", everyone(ok=302)),
    "auth.second_factor POST": Case("/connexion/code", everyone(ok=302)),
    "auth.enrol_at_login GET": Case("/connexion/double-authentification", everyone(ok=302)),
    "auth.enrol_at_login POST": Case("/connexion/double-authentification", everyone(ok=302)),
    # password reset: for logged-out people; a bad link answers 400
    "auth.forgot_password GET": Case("/mot-de-passe-oublie", everyone(ok=302, anonymous=200)),
    "auth.forgot_password POST": Case("/mot-de-passe-oublie", everyone(ok=302, anonymous=400)),
    "auth.reset_password GET": Case(
        "/mot-de-passe-oublie/lien-inconnu", everyone(ok=302, anonymous=400)
    ),
    "auth.reset_password POST": Case(
        "/mot-de-passe-oublie/lien-inconnu", everyone(ok=302, anonymous=400)
    ),
    "auth.reauthenticate GET": Case("/mon-compte/confirmer", everyone()),
    "auth.reauthenticate POST": Case("/mon-compte/confirmer", everyone()),
    # two-factor management: administrators and coordinators enrolled at login (enabling
    # again redirects; new recovery codes are shown; turning it off is refused); the others
    # have not enabled it (the empty enrolment form is refused with 400).
    "auth.two_factor GET": Case("/mon-compte/double-authentification", everyone()),
    "auth.enable_totp GET": Case(
        "/mon-compte/double-authentification/activer", only(*ROLES, admin=302, coordinateur=302)
    ),
    "auth.enable_totp POST": Case(
        "/mon-compte/double-authentification/activer",
        only(*ROLES, ok=400, admin=302, coordinateur=302),
    ),
    "auth.regenerate_recovery_codes POST": Case(
        "/mon-compte/double-authentification/codes-de-secours",
        only(*ROLES, ok=302, admin=200, coordinateur=200),
    ),
    "auth.disable_totp POST": Case(
        "/mon-compte/double-authentification/desactiver", everyone(ok=302)
    ),
    # audit: who consulted a file (coordinators, in scope); the whole log (administrators)
    "households.access_log GET": Case(
        "/menages/{w.household.id}/consultations", only("coordinateur")
    ),
    "audit.index GET": Case("/admin/journal", only(*ADMIN)),
    # administration
    "organisations.index GET": Case("/admin/organisations/", only(*ADMIN)),
    "organisations.create GET": Case("/admin/organisations/nouvelle", only(*ADMIN)),
    "organisations.create POST": Case("/admin/organisations/nouvelle", only(*ADMIN)),
    "organisations.edit GET": Case("/admin/organisations/{w.landlord.id}/modifier", only(*ADMIN)),
    "organisations.edit POST": Case("/admin/organisations/{w.landlord.id}/modifier", only(*ADMIN)),
    "organisations.toggle_active POST": Case(
        "/admin/organisations/{w.other_association.id}/activation", only(*ADMIN, ok=302)
    ),
    "projects.index GET": Case("/admin/projets/", only(*ADMIN)),
    "projects.create GET": Case("/admin/projets/nouveau", only(*ADMIN)),
    "projects.create POST": Case("/admin/projets/nouveau", only(*ADMIN)),
    "projects.edit GET": Case("/admin/projets/{w.project.id}/modifier", only(*ADMIN)),
    "projects.edit POST": Case("/admin/projets/{w.project.id}/modifier", only(*ADMIN)),
    "users.index GET": Case("/admin/utilisateurs/", only(*ADMIN)),
    "users.create GET": Case("/admin/utilisateurs/nouveau", only(*ADMIN)),
    "users.create POST": Case("/admin/utilisateurs/nouveau", only(*ADMIN)),
    "users.edit GET": Case("/admin/utilisateurs/{w.target_user.id}/modifier", only(*ADMIN)),
    "users.edit POST": Case("/admin/utilisateurs/{w.target_user.id}/modifier", only(*ADMIN)),
    "users.toggle_active POST": Case(
        "/admin/utilisateurs/{w.target_user.id}/activation", only(*ADMIN, ok=302)
    ),
    "users.reset_password POST": Case(
        "/admin/utilisateurs/{w.target_user.id}/reinitialiser-mot-de-passe", only(*ADMIN)
    ),
    "users.reset_totp POST": Case(
        "/admin/utilisateurs/{w.target_user.id}/reinitialiser-double-authentification",
        only(*ADMIN, ok=302),
    ),
    # households
    "households.index GET": Case("/menages/", only(*HOUSEHOLD_STAFF)),
    "households.index POST": Case("/menages/", only(*HOUSEHOLD_STAFF, ok=302)),
    "households.create GET": Case(
        "/menages/nouveau", only("coordinateur", "travailleur_social", "autre_travailleur_social")
    ),
    "households.create POST": Case(
        "/menages/nouveau", only("coordinateur", "travailleur_social", "autre_travailleur_social")
    ),
    "households.show GET": Case(H, household_file()),
    "households.members GET": Case(H + "/composition", household_file()),
    "households.team GET": Case(H + "/equipe", household_file()),
    "households.edit GET": Case(H + "/modifier", household_social()),
    "households.edit POST": Case(H + "/modifier", household_social()),
    "households.add_member GET": Case(H + "/composition/ajouter", household_social()),
    "households.add_member POST": Case(H + "/composition/ajouter", household_social()),
    "households.edit_member GET": Case(
        H + "/composition/{w.member.id}/modifier", household_social()
    ),
    "households.edit_member POST": Case(
        H + "/composition/{w.member.id}/modifier", household_social()
    ),
    # Without the record's version the removal is refused (flash and back to the list).
    "households.remove_member POST": Case(
        H + "/composition/{w.member.id}/retirer", household_social(ok=302)
    ),
    "households.orientation GET": Case(H + "/orientation", household_social()),
    "households.orientation POST": Case(H + "/orientation", household_social()),
    "households.diagnostic GET": Case(H + "/diagnostic", household_social()),
    "households.diagnostic POST": Case(H + "/diagnostic", household_social()),
    "households.adhesion GET": Case(H + "/adhesion", household_social()),
    "households.adhesion POST": Case(H + "/adhesion", household_social()),
    "households.consents GET": Case(H + "/consentements", household_social()),
    "households.give_consent POST": Case(H + "/consentements/sante/sante", household_social()),
    "households.withdraw_consent POST": Case(
        H + "/consentements/{w.consent.id}/retrait", household_social()
    ),
    # Naming the référent is the coordination's job (REASSIGN_HOUSEHOLDS).
    "households.assign_referent POST": Case(H + "/referent", only("coordinateur")),
    "households.add_team_member POST": Case(H + "/equipe/ajouter", household_social()),
    "households.remove_team_member POST": Case(
        H + "/equipe/{w.team_colleague.id}/retirer", household_social(ok=302)
    ),
    "households.move_stage GET": Case(H + "/etape", household_social()),
    "households.move_stage POST": Case(H + "/etape", household_social()),
    # reminders: everyone who works with households has an inbox and a calendar; a reminder
    # addressed to someone else is a 404 (w.reminder is the travailleur social's); the
    # household tab follows the household's scope; thresholds are the administrator's.
    "reminders.inbox GET": Case("/rappels/", only(*HOUSEHOLD_STAFF)),
    "reminders.done POST": Case("/rappels/{w.reminder.id}/fait", my_reminder(ok=302)),
    "reminders.bulk_done POST": Case("/rappels/fait", only(*HOUSEHOLD_STAFF, ok=302)),
    "reminders.postpone GET": Case("/rappels/{w.reminder.id}/reporter", my_reminder()),
    "reminders.postpone POST": Case("/rappels/{w.reminder.id}/reporter", my_reminder()),
    "reminders.household GET": Case(H + "/rappels", household_file()),
    "reminders.household POST": Case(H + "/rappels", household_file()),
    "reminders.settings GET": Case("/admin/rappels", only(*ADMIN)),
    "reminders.settings POST": Case("/admin/rappels", only(*ADMIN)),
    "reminders.calendar GET": Case("/rappels/calendrier", only(*HOUSEHOLD_STAFF)),
    "reminders.calendar POST": Case("/rappels/calendrier", only(*HOUSEHOLD_STAFF)),
    "reminders.revoke_calendar POST": Case(
        "/rappels/calendrier/revoquer", only(*HOUSEHOLD_STAFF, ok=302)
    ),
    # The secret address is the credential: no session needed, whoever asks.
    "agenda.feed GET": Case("/calendrier/{w.calendar_token}.ics", everyone(anonymous=200)),
    # Health checks answer everyone, logged in or not. The world's database is built from the
    # models (never stamped by Alembic) and no scheduler runs: not ready (tests/health).
    "health.alive GET": Case("/sante", everyone(anonymous=200)),
    "health.ready GET": Case("/sante/pret", everyone(ok=503, anonymous=503)),
    # Prometheus metrics: only with the configured bearer token (none here), a 404 otherwise.
    "metrics.expose GET": Case("/metrics", everyone(ok=404, anonymous=404)),
    # pilotage: coordinators only (VIEW_CASELOADS, VIEW_INDICATORS, EXPORT_DATA); the empty
    # reassignment form is shown again with its errors. The printable synthesis follows the
    # household's visibility (landlord staff get its tenancy-only version).
    "reports.caseloads GET": Case("/pilotage/", only("coordinateur")),
    "reports.caseload_list GET": Case("/pilotage/menages", only("coordinateur")),
    "reports.stalled GET": Case("/pilotage/dossiers-en-souffrance", only("coordinateur")),
    "reports.reassign POST": Case("/pilotage/reaffecter", only("coordinateur")),
    "reports.indicators GET": Case("/pilotage/indicateurs", only("coordinateur")),
    "reports.export_indicators GET": Case(
        "/pilotage/indicateurs/export.xlsx", only("coordinateur")
    ),
    "reports.export_caseload GET": Case("/pilotage/menages/export.csv", only("coordinateur")),
    "reports.household_synthesis GET": Case(H + "/synthese", household_file()),
    # Évaluation: the yearly bilan, for the coordinators of the project (VIEW_EVALUATION,
    # WRITE_BILAN); the empty text form saves an empty section (302).
    "bilan.index GET": Case("/evaluation/", only("coordinateur")),
    "bilan.project GET": Case(
        "/evaluation/bilan/projet/{w.project.id}?annee=2026", only("coordinateur")
    ),
    "bilan.association GET": Case("/evaluation/bilan/association", only("coordinateur")),
    "bilan.save_text POST": Case(
        "/evaluation/bilan/projet/{w.project.id}/2026/contexte", only("coordinateur", ok=302)
    ),
    "bilan.project_document GET": Case(
        "/evaluation/bilan/projet/{w.project.id}/2026/bilan.docx", only("coordinateur")
    ),
    "bilan.association_document GET": Case(
        "/evaluation/bilan/association/2026/bilan.pdf", only("coordinateur")
    ),
    # Coordinators of the project only (a coordinator of another project: 404, tested in
    # tests/evaluation/test_drilldown.py); landlord staff and the administrator lack
    # VIEW_EVALUATION.
    "evaluation_drilldown.households GET": Case(
        "/evaluation/menages/outcomes.status_exit/total?projet={w.project.id}&year=2025",
        only("coordinateur"),
    ),
    # Right of access: coordinators only (the permission is checked before the scope).
    "retention.subject_access GET": Case(H + "/droit-d-acces", only("coordinateur")),
    "retention.subject_access_json GET": Case(H + "/droit-d-acces.json", only("coordinateur")),
    "retention.subject_access_zip GET": Case(H + "/droit-d-acces.zip", only("coordinateur")),
    # support: the household's Accompagnement tab and its forms (social content)
    "support.household GET": Case(H + "/accompagnement", household_social()),
    **{
        f"support.{endpoint} {method}": Case(H + "/accompagnement" + path, household_social())
        for endpoint, path in (
            ("open_measure", "/mesures/nouvelle"),
            ("renew_measure", "/mesures/{w.measure.id}/renouveler"),
            ("change_intensity", "/mesures/{w.measure.id}/intensite"),
            ("record_review", "/mesures/{w.measure.id}/bilan"),
            ("close_measure", "/mesures/{w.measure.id}/sortie"),
            ("add_objective", "/objectifs/nouveau"),
            ("update_objective", "/objectifs/{w.objective.id}"),
            ("record_check", "/verifications/{w.post_exit_check.id}"),
        )
        for method in ("GET", "POST")
    },
    # intensity levels: coordinators only
    "support.intensity_levels_page GET": Case("/accompagnement/intensites/", only("coordinateur")),
    "support.create_intensity_level GET": Case(
        "/accompagnement/intensites/nouveau", only("coordinateur")
    ),
    "support.create_intensity_level POST": Case(
        "/accompagnement/intensites/nouveau", only("coordinateur")
    ),
    "support.edit_intensity_level GET": Case(
        "/accompagnement/intensites/{w.intensity_level.id}/modifier", only("coordinateur")
    ),
    "support.edit_intensity_level POST": Case(
        "/accompagnement/intensites/{w.intensity_level.id}/modifier", only("coordinateur")
    ),
    # interventions: the visit form and corrections (social content)
    "interventions.create GET": Case(H + "/visites/nouvelle", household_social()),
    "interventions.create POST": Case(H + "/visites/nouvelle", household_social()),
    "interventions.correct GET": Case(
        H + "/visites/{w.intervention.id}/corriger", household_social()
    ),
    "interventions.correct POST": Case(
        H + "/visites/{w.intervention.id}/corriger", household_social()
    ),
    # w.intervention is the travailleur social's: its author and the coordinator may flag it
    # as entered twice (a POST always comes back to the visits, done or refused).
    "interventions.mark_duplicate GET": Case(
        H + "/visites/{w.intervention.id}/doublon", household_social()
    ),
    "interventions.mark_duplicate POST": Case(
        H + "/visites/{w.intervention.id}/doublon", household_social(302)
    ),
    "interventions.unmark_duplicate POST": Case(
        H + "/visites/{w.intervention.id}/doublon/annuler", household_social(302)
    ),
    # partners: the directory (VIEW_PARTNERS / MANAGE_PARTNERS, not scoped to a project)
    "partners.index GET": Case(
        "/partenaires/",
        only("admin", "coordinateur", "travailleur_social", "autre_travailleur_social"),
    ),
    "partners.detail GET": Case(
        "/partenaires/{w.partner.id}",
        only("admin", "coordinateur", "travailleur_social", "autre_travailleur_social"),
    ),
    "partners.create GET": Case("/partenaires/nouveau", only("admin", "coordinateur")),
    "partners.create POST": Case("/partenaires/nouveau", only("admin", "coordinateur")),
    "partners.edit GET": Case(
        "/partenaires/{w.partner.id}/modifier", only("admin", "coordinateur")
    ),
    "partners.edit POST": Case(
        "/partenaires/{w.partner.id}/modifier", only("admin", "coordinateur")
    ),
    "partners.add_contact POST": Case(
        "/partenaires/{w.partner.id}/contacts", only("admin", "coordinateur")
    ),
    # Anyone who reads the directory may propose a correction (empty form: shown again).
    "partners.propose_correction POST": Case(
        "/partenaires/{w.partner.id}/correction",
        only("admin", "coordinateur", "travailleur_social", "autre_travailleur_social"),
    ),
    # partners: the household's tab (meetings shown to the landlord), referrals and meetings
    "partners.household GET": Case(H + "/partenaires", household_file()),
    # Documents: an empty upload is refused (400, the form shown again); w.document is an
    # insurance certificate (landlord audience) uploaded by the travailleur social, whom
    # the coordinator may also delete for; landlord staff see it but may not delete it.
    "documents.household GET": Case(H + "/documents", household_file()),
    "documents.household POST": Case(H + "/documents", household_file(ok=400)),
    "documents.download GET": Case(H + "/documents/{w.document.id}", household_file()),
    "documents.replace GET": Case(H + "/documents/{w.document.id}/remplacer", household_file()),
    "documents.replace POST": Case(H + "/documents/{w.document.id}/remplacer", household_file()),
    "documents.delete GET": Case(
        H + "/documents/{w.document.id}/supprimer", {**household_file(), "bailleur": 403}
    ),
    "documents.delete POST": Case(
        H + "/documents/{w.document.id}/supprimer", {**household_file(), "bailleur": 403}
    ),
    "partners.refer GET": Case(H + "/partenaires/orientations/nouvelle", household_social()),
    "partners.refer POST": Case(H + "/partenaires/orientations/nouvelle", household_social()),
    "partners.update_referral GET": Case(
        H + "/partenaires/orientations/{w.referral.id}", household_social()
    ),
    "partners.update_referral POST": Case(
        H + "/partenaires/orientations/{w.referral.id}", household_social()
    ),
    "partners.create_meeting GET": Case(H + "/partenaires/reunions/nouvelle", household_social()),
    "partners.create_meeting POST": Case(H + "/partenaires/reunions/nouvelle", household_social()),
    # housing: the household's Logement tab and lease forms (MANAGE_LEASES: coordination,
    # référent and the landlord housing it); landlord actions (RECORD_GLA_ACTIONS) are the
    # landlord's only; another organisation's user gets 404 for w.household.
    **{
        f"housing.{endpoint} {method}": Case(H + path, expect)
        for endpoint, path, methods, expect in (
            ("household", "/logement", ("GET",), household_file()),
            ("start_occupancy", "/logement/bail/nouveau", ("GET", "POST"), household_file()),
            *(
                (name, "/logement/bail/{w.occupancy.id}/" + slug, ("GET", "POST"), household_file())
                for name, slug in (
                    ("end_occupancy", "fin"),
                    ("record_lease_review", "bilan"),
                    ("record_glissement", "glissement"),
                )
            ),
            *(
                (name, "/logement/" + slug, ("GET", "POST"), HOUSING_LANDLORD)
                for name, slug in (
                    ("record_gla_action", "gla/nouvelle"),
                    ("record_procedure_stage", "procedure/nouvelle"),
                    ("start_repayment_plan", "plan/nouveau"),
                )
            ),
            (
                "set_repayment_plan_status",
                "/logement/plan/{w.repayment_plan.id}/statut",
                ("POST",),
                only("bailleur", ok=302, autre_bailleur=404),
            ),
        )
        for method in methods
    },
    # housing: dashboard (VIEW_TENANCIES), dwelling stock (MANAGE_DWELLINGS: landlord staff
    # and coordinators, for their projects' landlords), import (landlord staff only).
    "housing.dashboard GET": Case("/logements/", only(*HOUSEHOLD_STAFF)),
    "housing.dwellings GET": Case("/logements/parc", only(*DWELLING_MANAGERS)),
    "housing.dashboard POST": Case("/logements/", only(*HOUSEHOLD_STAFF, ok=302)),
    "housing.dwellings POST": Case("/logements/parc", only(*DWELLING_MANAGERS, ok=302)),
    "housing.create_dwelling GET": Case("/logements/parc/nouveau", only(*DWELLING_MANAGERS)),
    "housing.create_dwelling POST": Case("/logements/parc/nouveau", only(*DWELLING_MANAGERS)),
    "housing.edit_dwelling GET": Case(
        "/logements/parc/{w.dwelling.id}/modifier",
        only("coordinateur", "bailleur", autre_bailleur=404),
    ),
    "housing.edit_dwelling POST": Case(
        "/logements/parc/{w.dwelling.id}/modifier",
        only("coordinateur", "bailleur", autre_bailleur=404),
    ),
    "housing.import_accounts GET": Case("/logements/import", only("bailleur", "autre_bailleur")),
    "housing.import_accounts POST": Case("/logements/import", only("bailleur", "autre_bailleur")),
    # API clients (app/api): administrators (every landlord's) and landlord staff (their own).
    "api_clients.index GET": Case("/logements/clients-api/", only(*API_MANAGERS)),
    "api_clients.create GET": Case("/logements/clients-api/nouveau", only(*API_MANAGERS)),
    "api_clients.create POST": Case("/logements/clients-api/nouveau", only(*API_MANAGERS)),
    "api_clients.revoke POST": Case(
        "/logements/clients-api/{w.api_client.id}/revoquer",
        only("admin", "bailleur", ok=302, autre_bailleur=404),
    ),
    # The JSON API answers bearer tokens only: a browser session is a 401, never a redirect.
    "api_v1.get_tenancies GET": Case("/api/v1/tenancies", everyone(ok=401, anonymous=401)),
    "api_v1.post_rent_lines POST": Case(
        "/api/v1/rent-account-lines", everyone(ok=401, anonymous=401)
    ),
    "api_docs.openapi_json GET": Case("/api/v1/openapi.json", everyone(anonymous=200)),
    "api_docs.reference GET": Case("/api/v1/", everyone(anonymous=200)),
    # Landlord staff's export of their followed tenancies (each gets their own landlord's).
    "reports.export_tenancies GET": Case(
        "/logements/export.csv", only("bailleur", "autre_bailleur")
    ),
    # The national evaluation export (aggregates only): the project's coordinator, any
    # project for the administrator; every project and the side-by-side page: administrator.
    "evaluation_national.export_project GET": Case(
        "/evaluation/nationale/projets/{w.project.id}/export.zip?annee=2025",
        only("coordinateur", "admin"),
    ),
    "evaluation_national.export_all GET": Case(
        "/evaluation/nationale/export.zip?annee=2025", only("admin")
    ),
    "evaluation_national.compare GET": Case("/evaluation/comparaison", only("admin")),
    # agenda: « Ma semaine » for everyone who works with households; appointments are the
    # support team's (w.appointment is at home: landlord staff do not see it, 404)
    "agenda.week GET": Case("/agenda/", only(*HOUSEHOLD_STAFF)),
    "agenda.plan GET": Case(
        "/agenda/rendez-vous/nouveau",
        only("coordinateur", "travailleur_social", "autre_travailleur_social"),
    ),
    "agenda.plan POST": Case(
        "/agenda/rendez-vous/nouveau",
        only("coordinateur", "travailleur_social", "autre_travailleur_social"),
    ),
    "agenda.plan_for_household GET": Case(H + "/rendez-vous/nouveau", household_social()),
    "agenda.plan_for_household POST": Case(H + "/rendez-vous/nouveau", household_social()),
    "agenda.household GET": Case(H + "/rendez-vous", household_file()),
    "agenda.appointment GET": Case(
        "/agenda/rendez-vous/{w.appointment.id}",
        only(
            "coordinateur",
            "travailleur_social",
            bailleur=404,
            autre_bailleur=404,
            autre_travailleur_social=404,
        ),
    ),
    "agenda.missed POST": Case(
        "/agenda/rendez-vous/{w.appointment.id}/non-honore", household_social(ok=302)
    ),
    "agenda.cancel POST": Case(
        "/agenda/rendez-vous/{w.appointment.id}/annuler", household_social(ok=302)
    ),
    # The situation (publics, resources, APL, debts), from the household file header.
    "households.situation GET": Case(H + "/situation", household_social()),
    "households.situation POST": Case(H + "/situation", household_social()),
    # The preview of a staged extract: no file of that hash for this landlord → 404 (the
    # scope of a real staged file: tests/housing/test_import_extracts.py).
    "housing.import_preview GET": Case(
        "/logements/import/" + "0" * 64, only("bailleur", "autre_bailleur", ok=404)
    ),
    "housing.confirm_import POST": Case(
        "/logements/import/" + "0" * 64, only("bailleur", "autre_bailleur", ok=404)
    ),
    # Evaluation: a project's budget lines and places (its coordinators), the household's
    # financial aid (support team and coordinators; never landlord staff).
    "funding.index GET": Case("/financement/", only("coordinateur")),
    "funding.project GET": Case("/financement/projets/{w.project.id}", only("coordinateur")),
    "funding.project POST": Case("/financement/projets/{w.project.id}", only("coordinateur")),
    "funding.places POST": Case("/financement/projets/{w.project.id}/places", only("coordinateur")),
    "funding.edit_line GET": Case("/financement/lignes/{w.budget_line.id}", only("coordinateur")),
    "funding.edit_line POST": Case("/financement/lignes/{w.budget_line.id}", only("coordinateur")),
    "funding.delete_line POST": Case(
        "/financement/lignes/{w.budget_line.id}/supprimer", only("coordinateur", ok=302)
    ),
    "funding.household GET": Case(H + "/aides", household_social()),
    "funding.new_aid GET": Case(H + "/aides/nouvelle", household_social()),
    "funding.new_aid POST": Case(H + "/aides/nouvelle", household_social()),
    "funding.edit_aid GET": Case(H + "/aides/{w.aid.id}", household_social()),
    "funding.edit_aid POST": Case(H + "/aides/{w.aid.id}", household_social()),
    "funding.delete_aid POST": Case(H + "/aides/{w.aid.id}/supprimer", household_social(ok=302)),
}


def _routes(app) -> set[str]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.add(f"{rule.endpoint} {method}")
    return found


def test_every_route_is_in_the_matrix(app):
    missing = _routes(app) - MATRIX.keys()
    assert not missing, f"Routes absent from the permission matrix: {sorted(missing)}"
    stale = MATRIX.keys() - _routes(app)
    assert not stale, f"Matrix entries for routes that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_route_answers_each_role_as_expected(route, app, make_client):
    case = MATRIX[route]
    assert set(case.expect) == set(ROLES), f"{route}: give a status for every role"
    world = build_world()
    method = route.rsplit(" ", 1)[1]
    path = case.path.format(w=world)
    answers = {}
    for role in ROLES:
        client = make_client()
        if role != "anonyme":
            client.login(world.users[role])
        if method == "GET":
            response = client.get(path)
        else:
            response = client.open(
                path, method=method, data={"csrf_token": client.csrf_token(), **(case.data or {})}
            )
        answers[role] = response.status_code
    assert answers == case.expect
