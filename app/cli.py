"""Command-line entry points (``flask --app wsgi …``). Commands commit; services never do."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from app.db import db
from app.scheduler import scheduler_command


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(demo)
    app.cli.add_command(scheduler_command)


@click.command("create-admin")
@click.option("--email", prompt="Adresse e-mail")
@click.option("--name", "full_name", prompt="Prénom et nom")
@click.option(
    "--organisation", prompt="Organisation", default="Administration Ancrage", show_default=True
)
@click.password_option(
    "--password",
    prompt="Mot de passe (12 caractères au moins)",
    confirmation_prompt="Confirmez le mot de passe",
)
def create_admin(email: str, full_name: str, organisation: str, password: str) -> None:
    """Create the first administrator account."""
    from app.auth.services import password_problem, set_password
    from app.organisations.models import Organisation, OrganisationKind
    from app.permissions import Role
    from app.users.models import User, UserRole

    email = email.strip().lower()
    problem = password_problem(password, email=email)
    if problem:
        raise click.ClickException(problem)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise click.ClickException(f"Un compte existe déjà pour {email}.")
    org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
    if org is None:
        org = Organisation(name=organisation, kind=OrganisationKind.COLLECTIVITE)
        db.session.add(org)
    user = User(
        email=email, full_name=full_name, organisation=org, role_rows=[UserRole(role=Role.ADMIN)]
    )
    set_password(user, password)
    db.session.add(user)
    from app.audit.services import record

    record(None, "user.created", target=user, details={"roles": ["admin"], "via": "cli"})
    db.session.commit()
    click.echo(f"Administrateur {email} créé.")


@click.command("demo")
@click.option("--quiet", is_flag=True, help="Ne pas afficher les comptes de démonstration.")
def demo(quiet: bool) -> None:
    """Load realistic demo data (idempotent) and print the demo accounts."""
    from app.demo import DEMO_PASSWORD, load_demo

    accounts = load_demo()
    db.session.commit()
    if quiet:
        return
    click.echo("\nComptes de démonstration (mot de passe commun : " + DEMO_PASSWORD + ")")
    width = max(len(a.email) for a in accounts)
    for account in accounts:
        click.echo(
            f"  {account.email.ljust(width)}  {account.role_labels} — {account.organisation.name}"
        )
