from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services
from app.auth.forms import ChangePasswordForm, LoginForm, PreferencesForm
from app.db import db
from app.errors import DomainError
from app.forms import apply_domain_error

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a local path may follow login: no scheme, no host, no protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data, form.password.data, ip=request.remote_addr
            )
        except services.LoginRefused as error:
            db.session.commit()  # keep the failed attempt: it feeds the throttling
            flash(error.message, "error")
            return render_template("auth/login.html", form=form), 401
        db.session.commit()
        session.clear()
        login_user(user)
        if user.is_password_temporary:
            flash(_("Choisissez votre mot de passe personnel avant de continuer."), "info")
            return redirect(url_for("auth.change_password"))
        return redirect(safe_next(form.next.data) or url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    services.logout(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Vous êtes déconnecté·e."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/mon-compte/mot-de-passe", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(
                user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            session.clear()
            login_user(user)  # the token rotated: keep this session, end the others
            flash(
                _("Votre mot de passe a été changé. Vos autres sessions sont fermées."), "success"
            )
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/mon-compte/", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    form = PreferencesForm(obj=user)
    if form.validate_on_submit():
        try:
            services.set_locale(user, form.locale.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Vos préférences sont enregistrées."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, user=user)
