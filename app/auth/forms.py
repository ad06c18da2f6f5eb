from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.services import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        "Adresse e-mail",
        validators=[
            DataRequired("Indiquez votre adresse e-mail."),
            Length(max=254, message="L'adresse e-mail est trop longue."),
            Email("Cette adresse e-mail n'est pas valide.", check_deliverability=False),
        ],
    )
    password = PasswordField(
        "Mot de passe",
        validators=[
            DataRequired("Indiquez votre mot de passe."),
            Length(max=MAX_PASSWORD_LENGTH, message="Le mot de passe est trop long."),
        ],
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Mot de passe actuel", validators=[DataRequired("Indiquez votre mot de passe actuel.")]
    )
    new_password = PasswordField(
        "Nouveau mot de passe",
        description="Au moins 12 caractères. Une phrase de plusieurs mots est idéale.",
        validators=[DataRequired("Choisissez un nouveau mot de passe.")],
    )
    confirm = PasswordField(
        "Confirmez le nouveau mot de passe",
        validators=[
            DataRequired("Confirmez le nouveau mot de passe."),
            EqualTo("new_password", "Les deux mots de passe ne sont pas identiques."),
        ],
    )
