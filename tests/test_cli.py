"""The ``ancrage`` command: every group and command has a French help line."""

from __future__ import annotations

import inspect

import click
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
