"""Login (password, then the second factor), logout, session lifetime, re-authentication,
two-factor management, password change and reset, account preferences.

Session keys (the Flask session is a signed cookie; the per-user token in Flask-Login's id
makes logout final):
- ``auth_pending``: between a correct password and the second factor (user id, session token,
  time, next page). The user is NOT logged in yet.
- ``auth_login_at`` / ``auth_seen_at``: login time and last request, for the absolute and
  idle timeouts (SESSION_ABSOLUTE_TIMEOUT, SESSION_IDLE_TIMEOUT).
- ``auth_fresh_at``: last time the password was typed, for ``reauth_required``.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.audit.services import record
from app.auth import services
from app.auth.forms import (
    ActionForm,
    ChangePasswordForm,
    CodeForm,
    EnrolForm,
    ForgotPasswordForm,
    LoginForm,
    ReauthForm,
    ResetPasswordForm,
)
from app.db import db, takes_write_lock_late
from app.errors import DomainError
from app.forms import apply_domain_error, commit_service, press, submit
from app.users.models import User

bp = Blueprint("auth", __name__)

PENDING = "auth_pending"
LOGIN_AT = "auth_login_at"
SEEN_AT = "auth_seen_at"
FRESH_AT = "auth_fresh_at"


def safe_next(target: str | None) -> str | None:
    """Only a local path may follow login: no scheme, no host, no protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


# --- session lifetime -------------------------------------------------------------------------


def _start_session(user: User) -> None:
    """A new session for ``user`` (session fixation: the old one is cleared first)."""
    session.clear()
    login_user(user)
    now = time.time()
    session[LOGIN_AT] = session[SEEN_AT] = session[FRESH_AT] = now


def _expiry_reason(now: float) -> str | None:
    cfg = current_app.config
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return "unknown_start"
    if now - login_at > cfg["SESSION_ABSOLUTE_TIMEOUT"].total_seconds():
        return "absolute"
    if now - seen_at > cfg["SESSION_IDLE_TIMEOUT"].total_seconds():
        return "idle"
    return None


@bp.before_app_request
def _enforce_session_lifetime():
    """End a session idle for SESSION_IDLE_TIMEOUT or older than SESSION_ABSOLUTE_TIMEOUT
    (ASVS V7.3). Runs before every other hook that looks at the user."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    reason = _expiry_reason(now)
    if reason is None:
        session[SEEN_AT] = now
        return None
    user = current_user._get_current_object()
    record(user, "auth.session_expired", target=user, details={"reason": reason})
    db.session.commit()
    logout_user()
    session.clear()
    flash(
        _("Votre session a expiré après une période d'inactivité. Reconnectez-vous.")
        if reason == "idle"
        else _("Votre session a expiré. Reconnectez-vous."),
        "info",
    )
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=safe_next(target)))


def reauth_required(max_age: timedelta | None = None):
    """View decorator: the password must have been typed within ``max_age`` (default
    REAUTH_MAX_AGE, 10 minutes), else the user confirms it first and comes back.

    Put it under ``permission_required`` on export routes and account-security changes::

        @bp.route("/export")
        @permission_required(Permission.EXPORT_DATA)
        @reauth_required()
        def export(): ...
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            limit = max_age or current_app.config["REAUTH_MAX_AGE"]
            fresh_at = session.get(FRESH_AT)
            if not isinstance(fresh_at, int | float) or (
                time.time() - fresh_at > limit.total_seconds()
            ):
                flash(_("Pour continuer, confirmez votre mot de passe."), "info")
                return redirect(url_for("auth.reauthenticate", next=_come_back_to()))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _come_back_to() -> str | None:
    """Where to return after re-authentication: this page for a GET; for a POST (the form's
    data cannot be replayed), the page that showed the form."""
    if request.method == "GET":
        return safe_next(request.full_path.rstrip("?"))
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@bp.route("/mon-compte/confirmer", methods=["GET", "POST"])
@takes_write_lock_late  # argon2 runs before the write lock (see login below)
@login_required
def reauthenticate():
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        try:
            services.reauthenticate(
                current_user._get_current_object(), form.password.data, ip=request.remote_addr
            )
        except DomainError as error:
            db.session.commit()  # keep the failed attempt: it feeds the throttling
            apply_domain_error(form, error)
            return render_template("auth/reauthenticate.html", form=form), 401
        db.session.commit()
        session[FRESH_AT] = time.time()
        return redirect(safe_next(form.next.data) or url_for("auth.account"))
    return render_template("auth/reauthenticate.html", form=form)


# --- login: password, then second factor -----------------------------------------------------


@bp.route("/connexion", methods=["GET", "POST"])
@takes_write_lock_late
def login():
    """Password step. ``takes_write_lock_late``: the throttle counts and the argon2 check run
    before SQLite's write lock, which is taken at the ``login_attempt`` insert. The counts may
    then be a few milliseconds stale (a concurrent failure may be missed by one attempt):
    acceptable for a limit of several failures; the writes are plain inserts and the
    user's row carries no decision read earlier."""
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
        next_page = safe_next(form.next.data)
        if services.needs_second_factor_step(user):
            session[PENDING] = {
                "user_id": user.id,
                "token": user.session_token,
                "at": time.time(),
                "next": next_page,
            }
            if services.has_totp(user):
                return redirect(url_for("auth.second_factor"))
            return redirect(url_for("auth.enrol_at_login"))
        return _finish_login(user, next_page, second_factor=False)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _finish_login(user: User, next_page: str | None, *, second_factor: bool):
    temporary = user.is_password_temporary
    return commit_service(
        lambda: services.complete_login(user, second_factor=second_factor),
        (_("Choisissez votre mot de passe personnel avant de continuer."), "info")
        if temporary
        else None,
        url_for("auth.change_password") if temporary else next_page or url_for("home.index"),
        then=lambda _result: _start_session(user),
    )


def _pending_user() -> User | None:
    """The half-authenticated user: correct password, second factor still to come; None when
    absent, too old (LOGIN_PENDING_TIMEOUT) or when the account changed meanwhile."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    age = time.time() - float(pending.get("at") or 0)
    if age > current_app.config["LOGIN_PENDING_TIMEOUT"].total_seconds():
        return None
    user = db.session.get(User, pending.get("user_id") or 0)
    if user is None or not user.is_active or user.session_token != pending.get("token"):
        return None
    return user


def _restart_login():
    session.pop(PENDING, None)
    flash(_("Reprenez la connexion depuis le début."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/connexion/code", methods=["GET", "POST"])
@takes_write_lock_late  # a code is used once by a conditional UPDATE, not by an earlier read
def second_factor():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user = _pending_user()
    if user is None:
        return _restart_login()
    if not services.has_totp(user):
        return redirect(url_for("auth.enrol_at_login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.verify_second_factor(user, form.code.data, ip=request.remote_addr)
        except services.SecondFactorRefused as error:
            db.session.commit()  # keep the failed attempt: it feeds the throttling
            apply_domain_error(form, error)
            if error.field is None:
                flash(error.message, "error")
            return render_template("auth/second_factor.html", form=form), 401
        next_page = session[PENDING].get("next")
        return _finish_login(user, next_page, second_factor=True)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/second_factor.html", form=form), status


@bp.route("/connexion/double-authentification", methods=["GET", "POST"])
def enrol_at_login():
    """Forced enrolment for the roles that must use two-factor login."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user = _pending_user()
    if user is None:
        return _restart_login()
    if services.has_totp(user):
        return redirect(url_for("auth.second_factor"))
    return _enrolment(user, at_login=True)


def _enrolment(user: User, *, at_login: bool):
    """Show the secret (text, URI and QR code), then check a first code. On success the
    recovery codes are shown once, in this response, and never again."""
    form = EnrolForm()
    secret = services.start_totp_enrolment(user)
    db.session.commit()
    if form.validate_on_submit():
        try:
            codes = services.confirm_totp_enrolment(user, form.code.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            if at_login:
                next_page = session[PENDING].get("next")
                services.complete_login(user, second_factor=True)
                db.session.commit()
                _start_session(user)
            else:
                fresh_at = session.get(FRESH_AT)
                _start_session(user)  # the token rotated: keep this session, end the others
                session[FRESH_AT] = fresh_at
                next_page = None
            return render_template(
                "auth/recovery_codes.html",
                codes=codes,
                just_enrolled=True,
                continue_url=(
                    url_for("auth.change_password")
                    if user.is_password_temporary
                    else next_page or url_for("home.index")
                )
                if at_login
                else url_for("auth.two_factor"),
            )
    uri = services.provisioning_uri(user, secret)
    return render_template(
        "auth/enrol_totp.html",
        form=form,
        at_login=at_login,
        mandatory=services.requires_second_factor(user),
        secret=secret,
        account_name=user.email,
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        uri=uri,
        qr_code=services.qr_code_data_uri(uri),
        action=url_for("auth.enrol_at_login" if at_login else "auth.enable_totp"),
    ), (400 if form.errors else 200)


# --- two-factor management on the account page -----------------------------------------------


@bp.route("/mon-compte/double-authentification")
@login_required
def two_factor():
    user = current_user._get_current_object()
    return render_template(
        "auth/two_factor.html",
        user=user,
        enabled=services.has_totp(user),
        mandatory=services.requires_second_factor(user),
        remaining=services.remaining_recovery_codes(user),
        action_form=ActionForm(),
    )


@bp.route("/mon-compte/double-authentification/activer", methods=["GET", "POST"])
@login_required
@reauth_required()
def enable_totp():
    user = current_user._get_current_object()
    if services.has_totp(user):
        return redirect(url_for("auth.two_factor"))
    return _enrolment(user, at_login=False)


@bp.route("/mon-compte/double-authentification/codes-de-secours", methods=["POST"])
@login_required
@reauth_required()
def regenerate_recovery_codes():
    return press(
        ActionForm(),
        lambda: services.regenerate_recovery_codes(current_user._get_current_object()),
        None,
        None,
        # Shown once, in the response to the POST.
        page=lambda codes: render_template(
            "auth/recovery_codes.html",
            codes=codes,
            just_enrolled=False,
            continue_url=url_for("auth.two_factor"),
        ),
        refused_to=url_for("auth.two_factor"),
        invalid=None,
    )


@bp.route("/mon-compte/double-authentification/desactiver", methods=["POST"])
@login_required
@reauth_required()
def disable_totp():
    user = current_user._get_current_object()
    return press(
        ActionForm(),
        lambda: services.disable_totp(user),
        _("La double authentification est désactivée."),
        url_for("auth.two_factor"),
        invalid=None,
        then=lambda _result: _keep_this_session(user),
    )


def _keep_this_session(user: User) -> None:
    """The token rotated: keep this session (and its freshness), end the others."""
    fresh_at = session.get(FRESH_AT)
    _start_session(user)
    session[FRESH_AT] = fresh_at


# --- logout, password change and reset -------------------------------------------------------


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    return commit_service(
        lambda: services.logout(current_user._get_current_object()),
        _("Vous êtes déconnecté·e."),
        url_for("auth.login"),
        then=lambda _result: _end_session(),
    )


def _end_session() -> None:
    logout_user()
    session.clear()


@bp.route("/mon-compte/mot-de-passe", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    done = submit(
        form,
        lambda: services.change_password(
            user,
            current_password=form.current_password.data,
            new_password=form.new_password.data,
        ),
        _("Votre mot de passe a été changé. Vos autres sessions sont fermées."),
        url_for("home.index"),
        # The token rotated: keep this session, end the others.
        then=lambda _result: _start_session(user),
    )
    return done or render_template("auth/change_password.html", form=form)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot_password():
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    form = ForgotPasswordForm()
    done = submit(
        form,
        lambda: services.request_password_reset(form.email.data, ip=request.remote_addr),
        # The same answer whether the account exists or not (no account enumeration).
        (
            _(
                "Si un compte actif correspond à cette adresse, un e-mail vient de lui être "
                "envoyé avec un lien valable une heure. Pensez à regarder dans les indésirables."
            ),
            "info",
        ),
        url_for("auth.login"),
        then=_send_reset_link,
    )
    if done:
        return done
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


def _send_reset_link(found) -> None:
    if found is not None:
        user, token = found
        link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
            "auth.reset_password", token=token
        )
        _send_in_background(user.email, *services.reset_email(user, link))


def _send_in_background(to: str, subject: str, body: str) -> None:
    """Send outside the request, so the answer takes the same time whether an e-mail goes out
    or not. A failure is logged (without the link) and the user can ask again."""
    from app.mail import send_mail

    app = current_app._get_current_object()

    def send():
        with app.app_context():
            try:
                send_mail(to, subject, body)
            except Exception:
                app.logger.exception("Password reset e-mail could not be sent")

    threading.Thread(target=send, name="reset-mail", daemon=True).start()


@bp.route("/mot-de-passe-oublie/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if current_user.is_authenticated:
        return redirect(url_for("auth.change_password"))
    if services.valid_reset_token(token) is None:
        return render_template("auth/reset_password.html", form=None), 400
    form = ResetPasswordForm()
    done = submit(
        form,
        lambda: services.reset_password(token, form.new_password.data),
        _(
            "Votre mot de passe est changé et vos sessions ouvertes sont fermées. "
            "Connectez-vous avec votre nouveau mot de passe."
        ),
        url_for("auth.login"),
        then=lambda _result: session.clear(),
    )
    if done:
        return done
    if form.is_submitted() and not form.errors:
        # Valid, yet refused with no field to show it on (flashed): the link no longer works.
        return render_template("auth/reset_password.html", form=None), 400
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form), status


# --- account page ----------------------------------------------------------------------------


@bp.route("/mon-compte/")
@login_required
def account():
    user = current_user._get_current_object()
    return render_template("auth/account.html", user=user, totp_enabled=services.has_totp(user))
