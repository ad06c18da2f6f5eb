from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.services import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[
            DataRequired(_l("Indiquez votre adresse e-mail.")),
            Length(max=254, message=_l("L'adresse e-mail est trop longue.")),
            Email(_l("Cette adresse e-mail n'est pas valide."), check_deliverability=False),
        ],
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            DataRequired(_l("Indiquez votre mot de passe.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("Le mot de passe est trop long.")),
        ],
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Indiquez votre mot de passe actuel."))],
    )
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        description=_l("Au moins 12 caractères. Une phrase de plusieurs mots est idéale."),
        validators=[DataRequired(_l("Choisissez un nouveau mot de passe."))],
    )
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            DataRequired(_l("Confirmez le nouveau mot de passe.")),
            EqualTo("new_password", _l("Les deux mots de passe ne sont pas identiques.")),
        ],
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres ou code de secours"),
        description=_l("Le code affiché par votre application d'authentification."),
        validators=[
            DataRequired(_l("Indiquez le code.")),
            Length(max=20, message=_l("Ce code est trop long.")),
        ],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres affiché par l'application"),
        validators=[
            DataRequired(_l("Indiquez le code affiché par l'application.")),
            Length(max=10, message=_l("Ce code est trop long.")),
        ],
    )


class ReauthForm(FlaskForm):
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            DataRequired(_l("Indiquez votre mot de passe.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("Le mot de passe est trop long.")),
        ],
    )
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail de votre compte"),
        validators=[
            DataRequired(_l("Indiquez votre adresse e-mail.")),
            Length(max=254, message=_l("L'adresse e-mail est trop longue.")),
            Email(_l("Cette adresse e-mail n'est pas valide."), check_deliverability=False),
        ],
    )


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        description=_l("Au moins 12 caractères. Une phrase de plusieurs mots est idéale."),
        validators=[
            DataRequired(_l("Choisissez un nouveau mot de passe.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("Le mot de passe est trop long.")),
        ],
    )
    confirm = PasswordField(
        _l("Confirmez le nouveau mot de passe"),
        validators=[
            DataRequired(_l("Confirmez le nouveau mot de passe.")),
            EqualTo("new_password", _l("Les deux mots de passe ne sont pas identiques.")),
        ],
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
