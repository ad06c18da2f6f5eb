"""The ``ancrage`` command: every group and command has a French help line."""

from __future__ import annotations

import inspect

import click
from click.testing import CliRunner
from flask.cli import ScriptInfo

from app.cli import ancrage_group


def _walk(group: click.Group, ctx: click.Context, prefix: str = ""):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield prefix + name, command
        if isinstance(command, click.Group):
            yield from _walk(command, ctx, prefix + name + " ")


def test_every_group_and_command_has_a_french_help_line(app):
    group = ancrage_group()
    info = ScriptInfo(create_app=lambda: app)
    with group.make_context("ancrage", [], obj=info, resilient_parsing=True) as ctx:
        commands = dict(_walk(group, ctx))
    assert {"db", "serve", "scheduler", "housing import-accounts", "retention run"} <= set(commands)
    for name, command in commands.items():
        help_line = command.get_short_help_str(limit=200)
        assert help_line, f"{name} has no help line"
        # Docstrings are in English (house rule, and Flask's and Flask-Migrate's): the help
        # must come from help=, in French.
        docstring = inspect.getdoc(command.callback) if command.callback else None
        assert not docstring or not help_line.startswith(docstring[:30]), (
            f"{name}: help taken from the English docstring"
        )
    assert commands["serve"].help == "Servir l'application avec gunicorn (production)."


# Words of click's, Flask's and Flask-Migrate's English help that must not show.
ENGLISH = ("Show this message", "[default:", "Migration script", "Revision message", "Method to")


def _help_pages(app) -> dict[str, str]:
    """Every ``ancrage … --help`` page, by command."""
    group = ancrage_group()
    info = ScriptInfo(create_app=lambda: app)
    with group.make_context("ancrage", [], obj=info, resilient_parsing=True) as ctx:
        names = ["", *dict(_walk(group, ctx))]
    runner = CliRunner()
    pages = {}
    for name in names:
        result = runner.invoke(group, [*name.split(), "--help"], obj=info)
        assert result.exit_code == 0, (name, result.output)
        pages[name or "ancrage"] = result.output
    return pages


def test_every_help_page_and_option_is_in_french(app):
    pages = _help_pages(app)
    assert len(pages) > 30
    for name, text in pages.items():
        assert "Afficher cette aide et quitter." in text, name
        for english in ENGLISH:
            assert english not in text, f"{name}: {english!r}"
    assert "Message de la révision." in pages["db revision"]
    assert "Adresse d'écoute (par défaut : 127.0.0.1:8000)." in pages["serve"]


def test_every_option_has_a_help_line(app):
    group = ancrage_group()
    info = ScriptInfo(create_app=lambda: app)
    with group.make_context("ancrage", [], obj=info, resilient_parsing=True) as ctx:
        commands = dict(_walk(group, ctx))
    for name, command in commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts[0]} has no help line"


def test_the_flask_command_shows_our_commands_in_french_too(app):
    runner = app.test_cli_runner()
    for args in (["backup", "--help"], ["db", "upgrade", "--help"], ["serve", "--help"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert "Afficher cette aide et quitter." in result.output
        assert "Show this message" not in result.output


def test_a_failing_command_says_erreur_not_error(app):
    from tests.factories import make_user

    user = make_user(email="deja@example.org")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            *("create-admin", "--email", user.email, "--name", "Admin"),
            *("--organisation", "Ancrage", "--password", "trois chevaux bleus dansent"),
        ],
    )
    assert result.exit_code == 1
    assert "Erreur : Un compte existe déjà pour deja@example.org." in result.output
    assert "Error" not in result.output
