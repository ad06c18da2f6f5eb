"""Command-line entry points (``flask --app wsgi …``). Commands commit; services never do."""

from __future__ import annotations

import subprocess  # nosec B404
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from app.db import db
from app.scheduler import scheduler_command


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(backup)
    app.cli.add_command(rotate_totp_keys)
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
    click.echo(
        "Administrateur et coordination : la double authentification est obligatoire ; à la "
        "première connexion, enregistrez la clé affichée dans une application d'authentification "
        "(FreeOTP, Aegis, Google Authenticator…)."
    )


@click.group("backup")
def backup() -> None:
    """Back up the database, or restore a backup into a new database."""


@backup.command("create")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier de sauvegarde (par défaut : instance/backups/ancrage-<date>.sqlite3|.dump).",
)
def backup_create(output: Path | None) -> None:
    """SQLite: online backup API + integrity check; PostgreSQL: pg_dump --format=custom."""
    from app.backups.services import BackupError, create_backup, is_sqlite

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if output is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        suffix = ".sqlite3" if is_sqlite(url) else ".dump"
        output = Path(current_app.instance_path) / "backups" / f"ancrage-{stamp}{suffix}"
    try:
        result = create_backup(url, output)
    except (BackupError, subprocess.CalledProcessError) as error:
        raise click.ClickException(_backup_error(error)) from error
    click.echo(f"Sauvegarde écrite : {result.path}")
    for table, count in result.counts.items():
        click.echo(f"  {table}: {count}")


@backup.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    help="Base cible, vide (URL SQLAlchemy) ; par défaut la base configurée.",
)
def backup_restore(path: Path, into: str | None) -> None:
    """Restore a backup into an empty database and print its row counts."""
    from app.backups.services import BackupError, restore_backup

    target = into or current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        counts = restore_backup(path, target)
    except (BackupError, subprocess.CalledProcessError) as error:
        raise click.ClickException(_backup_error(error)) from error
    click.echo("Restauration terminée :")
    for table, count in counts.items():
        click.echo(f"  {table}: {count}")


def _backup_error(error: Exception) -> str:
    if isinstance(error, subprocess.CalledProcessError):
        return (error.stderr or b"").decode(errors="replace").strip() or str(error)
    return str(error)


@click.command("rotate-totp-keys")
def rotate_totp_keys() -> None:
    """Re-encrypt the TOTP secrets with the current SECRET_KEY (the old key must be listed in
    SECRET_KEY_FALLBACKS while this runs)."""
    from app.auth.services import rotate_totp_keys as rotate

    count = rotate()
    db.session.commit()
    click.echo(f"{count} secret(s) TOTP rechiffré(s) avec la clé actuelle.")
