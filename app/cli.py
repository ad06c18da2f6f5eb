"""Command-line entry points: ``ancrage …`` (the installed command, ``main`` below) and
``flask --app wsgi …`` in a checkout. Commands commit; services never do.

Help lines are in French, like the commands' output (``help=``; docstrings stay English)."""

from __future__ import annotations

import copy
import os
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command
from sqlalchemy import select

from app.db import db
from app.errors import CommandError
from app.scheduler import scheduler_command


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(backup)
    app.cli.add_command(rotate_totp_keys)
    app.cli.add_command(demo)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(serve)
    migrations = app.cli.commands.get("db")  # Flask-Migrate's group
    if migrations is not None:
        migrations = _french(
            migrations,
            "Migrations du schéma de la base (db upgrade à chaque version).",
            MIGRATION_OPTION_HELP,
        )
        migrations.commands = {
            name: _french(command, MIGRATION_HELP.get(name, command.help), MIGRATION_OPTION_HELP)
            for name, command in migrations.commands.items()
        }
        app.cli.add_command(migrations)
    for command in app.cli.commands.values():
        _french_help_option(command)


# Flask-Migrate's subcommands, in French.
MIGRATION_HELP = {
    "branches": "Afficher les points de branchement des révisions.",
    "check": "Vérifier s'il reste des changements du modèle sans révision.",
    "current": "Afficher la révision actuelle de la base.",
    "downgrade": "Revenir à une révision antérieure.",
    "edit": "Modifier un fichier de révision.",
    "heads": "Afficher les dernières révisions (têtes) des migrations.",
    "history": "Lister les révisions dans l'ordre chronologique.",
    "init": "Créer un dossier de migrations (inutile ici : il existe).",
    "list-templates": "Lister les modèles de dossier de migrations.",
    "merge": "Fusionner deux révisions en une nouvelle.",
    "migrate": "Générer une révision à partir des modèles (alias de revision --autogenerate).",
    "revision": "Créer un fichier de révision.",
    "show": "Afficher une révision.",
    "stamp": "Inscrire une révision dans la base sans lancer de migration.",
    "upgrade": "Mettre la base à jour jusqu'à une révision (par défaut la dernière).",
}


# Flask-Migrate's options, in French (by parameter name).
MIGRATION_OPTION_HELP = {
    "directory": "Dossier des migrations (par défaut : celui de l'application).",
    "x_arg": "Argument supplémentaire transmis à env.py.",
    "multidb": "Prendre en charge plusieurs bases.",
    "template": "Modèle de dossier de migrations (par défaut : flask).",
    "package": "Créer des fichiers __init__.py vides dans les dossiers de migrations.",
    "message": "Message de la révision.",
    "autogenerate": "Remplir la révision d'après la différence entre la base et les modèles.",
    "sql": "Écrire le SQL sur la sortie standard au lieu de l'exécuter.",
    "head": "Révision de tête (ou <branche>@head) sur laquelle fonder la nouvelle.",
    "splice": "Accepter une révision qui n'est pas une tête comme point de départ.",
    "branch_label": "Étiquette de branche de la nouvelle révision.",
    "version_path": "Dossier des révisions à utiliser (parmi ceux de la configuration).",
    "rev_id": "Identifiant imposé de la révision (au lieu d'un identifiant généré).",
    "tag": "Étiquette libre transmise à env.py.",
    "rev_range": "Intervalle de révisions, au format [début]:[fin].",
    "verbose": "Sortie détaillée.",
    "indicate_current": "Signaler la révision actuelle.",
    "resolve_dependencies": "Traiter les dépendances comme des révisions précédentes.",
    "purge": "Vider la table alembic_version avant d'inscrire la révision.",
}

# Flask's routes command, in French.
ROUTES_OPTION_HELP = {
    "sort": "Ordre des routes (match : l'ordre dans lequel Flask les essaie).",
    "all_methods": "Montrer aussi les méthodes HEAD et OPTIONS.",
}

HELP_OPTION_TEXT = "Afficher cette aide et quitter."


def main() -> None:
    """The ``ancrage`` console script: every command of ``flask --app wsgi`` plus ``serve``,
    from any directory (settings from the environment and ANCRAGE_INSTANCE_PATH)."""
    ancrage_group().main(prog_name="ancrage")


class _AncrageGroup(FlaskGroup):
    """Flask's group without the commands installed packages plug into every ``flask``
    (entry point ``flask.commands``: Flask-Limiter's ``limiter``, in English, about settings
    that are ours): ``ancrage`` lists only the application's commands, in French."""

    def _load_plugin_commands(self) -> None:
        self._loaded_plugin_commands = True


def ancrage_group() -> FlaskGroup:
    from app import create_app

    cli = _AncrageGroup(
        name="ancrage",
        create_app=create_app,
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
        set_debug_flag=False,
        help="Ancrage : suivi des ménages en logement HLM accompagné. Réglages : variables "
        "d'environnement (DATABASE_URL, SECRET_KEY…) et dossier d'instance "
        "(ANCRAGE_INSTANCE_PATH, qui contient config.py).",
    )
    # The application is always create_app(): Flask's --app, --env-file and --debug options
    # would only mislead an operator.
    cli.params = [param for param in cli.params if param.name not in {"app", "env_file", "debug"}]
    click.version_option(
        package_name="ancrage",
        prog_name="ancrage",
        message="%(prog)s %(version)s",
        help="Afficher la version installée.",
    )(cli)
    cli.add_command(_french(shell_command, "Console Python dans le contexte de l'application."))
    cli.add_command(
        _french(
            routes_command, "Lister les adresses (routes) de l'application.", ROUTES_OPTION_HELP
        )
    )
    _french_help_option(cli)
    return cli


def _french(
    command: click.Command, help_line: str, option_help: dict[str, str] | None = None
) -> click.Command:
    """A copy of a third-party command (Flask's, Flask-Migrate's) with a French help line
    and, from ``option_help`` (parameter name → text), French help for its options."""
    command = copy.copy(command)
    command.help = command.short_help = help_line
    command.params = [_french_param(param, option_help or {}) for param in command.params]
    return command


def _french_param(param: click.Parameter, option_help: dict[str, str]) -> click.Parameter:
    if not isinstance(param, click.Option) or param.name not in option_help:
        return param
    param = copy.copy(param)
    param.help = option_help[param.name]
    return param


def _french_help_option(command: click.Command) -> None:
    """Replace click's English ``--help`` option ("Show this message and exit.") by the same
    option with a French line, on ``command`` and every command under it (once)."""
    if command.add_help_option:
        command.add_help_option = False
        command.params = [*command.params]  # a copied command shares its original's list
        click.help_option("--help", help=HELP_OPTION_TEXT)(command)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _french_help_option(sub)


def default_workers() -> int:
    """Single-threaded (sync) workers: two per core and one more, gunicorn's rule, so that
    a worker waiting on the database leaves the core to another. Threaded workers crashed
    under load (segmentation faults and "double free or corruption" in the worker, with
    psycopg 3.2 and 3.3 and with SQLAlchemy's compiled extensions removed; not with sync
    workers): docs/operations.md, "Sizing"."""
    # The CPUs this process may use (a container's limit), not the host's; at most 17.
    return min(2 * len(os.sched_getaffinity(0)) + 1, 17)


# Seconds a threaded (gthread) worker keeps an idle connection open; sync workers close each
# one after its response. nginx keeps its upstream connections (``keepalive`` in
# deploy/nginx/ancrage.conf) for up to 60 s; with gunicorn's default of 2 s
# a request nginx sends on a connection gunicorn has just closed fails with a 502, and nginx
# does not retry a POST. Idle connections wait in the gthread worker's poller, not a thread.
KEEPALIVE_SECONDS = 75


@click.command("serve", help="Servir l'application avec gunicorn (production).")
@click.option(
    "--bind", default="127.0.0.1:8000", help="Adresse d'écoute (par défaut : 127.0.0.1:8000)."
)
@click.option(
    "--workers",
    default=lambda: default_workers(),
    type=int,
    help="Nombre de processus (par défaut : 2 × le nombre de cœurs + 1).",
)
@click.option(
    "--threads",
    default=1,
    help="Fils d'exécution par processus (par défaut : 1, voir docs/operations.md).",
)
@click.option("--timeout", default=60, help="Délai maximal d'une requête, en s (par défaut : 60).")
def serve(bind: str, workers: int, threads: int, timeout: int) -> None:
    """Serve the application with gunicorn (production). Each worker builds its own app, so no
    database connection crosses a fork; the access log stays off (app/logs.py writes one
    line per request without the query string)."""
    from gunicorn.app.base import BaseApplication

    from app import metrics

    # Metrics shared by the workers (PROMETHEUS_MULTIPROC_DIR): start from the files of the
    # processes still running, and mark each worker dead when it exits (app/metrics.py).
    metrics.forget_dead_processes()

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "timeout": timeout,
                "keepalive": KEEPALIVE_SECONDS,
                "worker_class": "gthread" if threads > 1 else "sync",
                # gunicorn ≥ 23's control socket is one path per user: two deployments (or
                # a test run) would share it.
                "control_socket_disable": True,
                "child_exit": metrics.worker_exited,
            }.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            from app import create_app

            return create_app()

    Server().run()


@click.command("create-admin", help="Créer le premier compte administrateur.")
@click.option("--email", prompt="Adresse e-mail", help="Adresse e-mail du compte.")
@click.option("--name", "full_name", prompt="Prénom et nom", help="Prénom et nom.")
@click.option(
    "--organisation",
    prompt="Organisation",
    default="Administration Ancrage",
    help="Organisation du compte, créée si besoin (par défaut : Administration Ancrage).",
)
@click.password_option(
    "--password",
    prompt="Mot de passe (12 caractères au moins)",
    confirmation_prompt="Confirmez le mot de passe",
    help="Mot de passe (demandé s'il n'est pas donné).",
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
        raise CommandError(problem)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise CommandError(f"Un compte existe déjà pour {email}.")
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


@click.command(
    "demo", help="Charger les données de démonstration (sans doublon) et afficher les comptes."
)
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


@click.group(
    "backup",
    help="Sauvegarder la base, vérifier ou restaurer une sauvegarde, faire la rotation.",
)
def backup() -> None:
    """Back up the database, verify or restore a backup, rotate the backup folder."""


KEY_FILE_HELP = (
    "Fichier de clé de chiffrement (par défaut : BACKUP_KEY_FILE ; sans clé, pas de chiffrement)."
)


@backup.command(
    "create",
    help="Sauvegarder la base (SQLite : copie en ligne vérifiée ; PostgreSQL : pg_dump) et "
    "les fichiers des documents dans une archive avec leurs empreintes, fichier 0600 dans un "
    "dossier 0700, chiffré si une clé est configurée.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier de sauvegarde (par défaut : BACKUP_DIR/ancrage-<date>.sqlite3|.dump.tar[.enc]).",
)
@click.option("--key-file", type=click.Path(path_type=Path), help=KEY_FILE_HELP)
@click.option(
    "--rotate/--no-rotate",
    default=False,
    help="Faire ensuite la rotation du dossier (BACKUP_KEEP_DAILY, BACKUP_KEEP_WEEKLY).",
)
def backup_create(output: Path | None, key_file: Path | None, rotate: bool) -> None:
    """SQLite: online backup API + integrity check; PostgreSQL: pg_dump --format=custom."""
    from app.backups import services

    config = current_app.config
    url = config["SQLALCHEMY_DATABASE_URI"]
    folder = services.backup_folder(config, current_app.instance_path)
    with _backup_errors():
        key = services.configured_key(config, key_file)
        if output is None:
            name = services.backup_name(url, datetime.now(UTC), encrypted=key is not None)
            output = folder / name
        result = services.create_backup(
            url,
            output,
            key=key,
            documents=services.documents_folder(config, current_app.instance_path),
        )
        rotation = None
        if rotate:
            rotation = services.rotate_backups(
                folder,
                keep_daily=int(config["BACKUP_KEEP_DAILY"]),
                keep_weekly=int(config["BACKUP_KEEP_WEEKLY"]),
            )
    state = "chiffrée" if result.encrypted else "non chiffrée"
    click.echo(f"Sauvegarde écrite ({state}) : {result.path}")
    click.echo(f"  documents : {result.documents} fichier(s) avec leur empreinte")
    for name in result.skipped:
        click.echo(
            f"  Attention : le document {name} ne correspond plus à son empreinte sur le "
            "disque (fichier abîmé) ; il n'a pas été sauvegardé.",
            err=True,
        )
    for table, count in result.counts.items():
        click.echo(f"  {table}: {count}")
    if rotation is not None:
        click.echo(
            f"Rotation : {len(rotation.kept)} sauvegarde(s) gardée(s), "
            f"{len(rotation.deleted)} supprimée(s)."
        )


@backup.command(
    "verify",
    help="Vérifier une sauvegarde sans toucher à la base : empreinte, déchiffrement, contenu.",
)
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--key-file", type=click.Path(path_type=Path), help=KEY_FILE_HELP)
def backup_verify(path: Path, key_file: Path | None) -> None:
    """Check a backup's checksum, decryption and content (exit status 1 when damaged)."""
    from app.backups import services

    with _backup_errors():
        key = services.configured_key(current_app.config, key_file)
        result = services.verify_backup(path, key=key)
    kind = "SQLite" if result.kind == "sqlite" else "PostgreSQL (pg_dump)"
    state = "chiffrée" if result.encrypted else "non chiffrée"
    click.echo(f"Sauvegarde valide : {path} ({kind}, {state}).")
    if result.documents is None:
        click.echo("  Sauvegarde de la base seule (sans les documents).")
    else:
        click.echo(f"  documents : {result.documents} fichier(s), empreintes vérifiées")
    for table, count in result.counts.items():
        click.echo(f"  {table}: {count}")


@backup.command(
    "restore",
    help="Restaurer une sauvegarde dans une base vide et ses documents dans un dossier vide, "
    "après vérification de chaque empreinte, et afficher le nombre de lignes.",
)
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--into",
    help="Base cible, vide (URL SQLAlchemy) ; par défaut la base configurée.",
)
@click.option(
    "--documents-into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier des documents, absent ou vide ; par défaut DOCUMENTS_FOLDER.",
)
@click.option("--key-file", type=click.Path(path_type=Path), help=KEY_FILE_HELP)
def backup_restore(
    path: Path, into: str | None, documents_into: Path | None, key_file: Path | None
) -> None:
    """Restore a backup into an empty database (and its documents into an empty folder) and
    print its row counts."""
    from app.backups import services

    config = current_app.config
    target = into or config["SQLALCHEMY_DATABASE_URI"]
    documents = documents_into or services.documents_folder(config, current_app.instance_path)
    with _backup_errors():
        key = services.configured_key(config, key_file)
        counts = services.restore_backup(path, target, key=key, documents=documents)
    click.echo("Restauration terminée :")
    for table, count in counts.items():
        click.echo(f"  {table}: {count}")


@backup.command(
    "rotate",
    help="Supprimer les anciennes sauvegardes du dossier : garder la plus récente de chacun "
    "des BACKUP_KEEP_DAILY derniers jours et des BACKUP_KEEP_WEEKLY dernières semaines.",
)
@click.option("--daily", type=int, help="Jours gardés (par défaut : BACKUP_KEEP_DAILY).")
@click.option("--weekly", type=int, help="Semaines gardées (par défaut : BACKUP_KEEP_WEEKLY).")
def backup_rotate(daily: int | None, weekly: int | None) -> None:
    """Keep the newest backup of each of the last N days and M weeks; delete the rest."""
    from app.backups import services

    config = current_app.config
    folder = services.backup_folder(config, current_app.instance_path)
    with _backup_errors():
        result = services.rotate_backups(
            folder,
            keep_daily=config["BACKUP_KEEP_DAILY"] if daily is None else daily,
            keep_weekly=config["BACKUP_KEEP_WEEKLY"] if weekly is None else weekly,
        )
    for path in result.deleted:
        click.echo(f"  supprimée : {path.name}")
    click.echo(
        f"Rotation de {folder} : {len(result.kept)} sauvegarde(s) gardée(s), "
        f"{len(result.deleted)} supprimée(s)."
    )


@backup.command(
    "generate-key",
    help="Créer un fichier de clé de chiffrement (0600) ; gardez-en une copie hors du serveur.",
)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_generate_key(path: Path) -> None:
    """Write a new random 32-byte key (base64) into a new 0600 file."""
    from app.backups import services

    with _backup_errors():
        services.generate_key_file(path)
    click.echo(
        f"Clé écrite : {path}. Sans elle, les sauvegardes chiffrées sont illisibles : "
        "gardez-en une copie hors du serveur."
    )


@contextmanager
def _backup_errors():
    """Every failure of a backup command ends in one French line and exit status 1."""
    from app.backups.services import BackupError

    try:
        yield
    except BackupError as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        where = f" : {error.filename}" if error.filename else ""
        raise CommandError(f"Erreur de fichier{where} ({error.strerror or error}).") from error


@click.command(
    "rotate-totp-keys",
    help="Rechiffrer les secrets de double authentification avec la SECRET_KEY actuelle.",
)
def rotate_totp_keys() -> None:
    """Re-encrypt the TOTP secrets with the current SECRET_KEY (the old key must be listed in
    SECRET_KEY_FALLBACKS while this runs)."""
    from app.auth.services import rotate_totp_keys as rotate

    count = rotate()
    db.session.commit()
    click.echo(f"{count} secret(s) TOTP rechiffré(s) avec la clé actuelle.")
