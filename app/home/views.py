from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.navigation import navigation_for_current_user
from app.permissions import Role

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    """Send each person to the first area of their role; the welcome page is the fallback."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(_home_endpoint(current_user)))


def _home_endpoint(user) -> str:
    """Social workers start from their week (« Ma semaine »), coordinators from their
    households; landlord staff from the housing dashboard once it exists; administrators
    from the accounts."""
    roles = user.roles
    available = current_app.view_functions
    if Role.TRAVAILLEUR_SOCIAL in roles and "agenda.week" in available:
        return "agenda.week"
    if roles & {Role.COORDINATEUR, Role.TRAVAILLEUR_SOCIAL} and "households.index" in available:
        return "households.index"
    if Role.PERSONNEL_BAILLEUR in roles:
        for endpoint in ("housing.dashboard", "households.index"):
            if endpoint in available:
                return endpoint
    if Role.ADMIN in roles and "users.index" in available:
        return "users.index"
    return "home.welcome"


@bp.route("/accueil")
@login_required
def welcome():
    return render_template("home/welcome.html", areas=navigation_for_current_user())
