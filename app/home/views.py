from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.navigation import navigation_for_current_user

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    """Send each person to the first area of their role; the welcome page is the fallback."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("home.welcome"))


@bp.route("/accueil")
@login_required
def welcome():
    return render_template("home/welcome.html", areas=navigation_for_current_user())
