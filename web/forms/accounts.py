"""Forms of the account pages: register, log in, forgotten password, new password,
and the e-mail address check they share."""

from __future__ import annotations

import re

from node.accounts import accounts, passwords
from node.runtime.config import Config
from node.runtime.i18n import Translator
from web.forms.base import Form, FormData, checked, echo, has_control_characters, text
from web.validators import local_target

MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 80
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def email_problem(form: Form, value: str) -> None:
    _ = form.t.gettext
    if not value:
        form.error("email", _("Enter your e-mail address."))
    elif len(value) > MAX_EMAIL_LENGTH or has_control_characters(value) or not _EMAIL.match(value):
        form.error("email", _("Enter an e-mail address in the form name@example.org."))


def new_password_problem(form: Form, field: str, password: str, context: list[str]) -> None:
    _ = form.t.gettext
    for code in passwords.password_problems(password, context):
        form.error(field, password_message(form.t, code))


def password_message(t: Translator, code: str) -> str:
    _ = t.gettext
    if code == passwords.TOO_SHORT:
        return _("Choose a password with at least %(min)s characters.") % {
            "min": passwords.MIN_LENGTH
        }
    if code == passwords.TOO_LONG:
        return _("Choose a password with at most %(max)s characters.") % {
            "max": passwords.MAX_LENGTH
        }
    if code == passwords.CONTEXTUAL:
        return _(
            "This password is too easy to guess from your e-mail address, your name or "
            "the name of the portal. Choose another one."
        )
    return _(
        "This password is on the list of passwords that attackers try first. "
        "Choose another one: a few unusual words in a row work well."
    )


class RegisterForm(Form):
    fields = ("email", "password", "display_name", "kind", "age_confirmed", "holder_confirmed")

    def parse(self, data: FormData, config: Config) -> RegisterForm:
        _ = self.t.gettext
        email = text(data, "email").strip()
        password = text(data, "password")
        display_name = text(data, "display_name").strip()
        kind = text(data, "kind")
        self.values = {
            "email": echo(email),
            "display_name": echo(display_name),
            "kind": kind if kind in accounts.KINDS else "",
            "age_confirmed": checked(data, "age_confirmed"),
            "holder_confirmed": checked(data, "holder_confirmed"),
        }
        email_problem(self, email)
        if not password:
            self.error("password", _("Choose a password."))
        else:
            context = accounts.password_context(config, email, display_name)
            new_password_problem(self, "password", password, context)
        if not display_name:
            self.error("display_name", _("Enter the name others will see once you are in contact."))
        elif len(display_name) > MAX_DISPLAY_NAME_LENGTH:
            self.error(
                "display_name",
                _("Use at most %(max)s characters for the name.")
                % {"max": MAX_DISPLAY_NAME_LENGTH},
            )
        elif has_control_characters(display_name):
            self.error("display_name", _("The name contains characters that cannot be used."))
        if kind not in accounts.KINDS:
            self.error("kind", _("Choose who is taking part."))
        elif kind == "person" and not self.values["age_confirmed"]:
            self.error(
                "age_confirmed",
                _("You can take part on your own from the age of %(age)s.")
                % {"age": config.node.minimum_age},
            )
        elif kind != "person" and not self.values["holder_confirmed"]:
            self.error(
                "holder_confirmed",
                _(
                    "A family, club or school class is registered by an adult (a parent, "
                    "a club officer, a teacher) who holds the account."
                ),
            )
        self.password = password
        return self

    def registration(self, language: str) -> accounts.Registration:
        return accounts.Registration(
            email=self.values["email"],
            password=self.password,
            display_name=self.values["display_name"],
            kind=self.values["kind"],
            language=language,
            adult_declared=self.values["kind"] != "person" and self.values["holder_confirmed"],
        )


class LoginForm(Form):
    fields = ("email", "password")

    def parse(self, data: FormData) -> LoginForm:
        _ = self.t.gettext
        email = text(data, "email").strip()
        self.password = text(data, "password")
        self.values = {"email": echo(email), "next": safe_next(text(data, "next"))}
        email_problem(self, email)
        if not self.password:
            self.error("password", _("Enter your password."))
        return self


class ResetRequestForm(Form):
    fields = ("email",)

    def parse(self, data: FormData) -> ResetRequestForm:
        email = text(data, "email").strip()
        self.values = {"email": echo(email)}
        email_problem(self, email)
        return self


class NewPasswordForm(Form):
    """The form behind a mailed reset link. The password rules that need the account
    (its e-mail address, its name) are checked by the reset service."""

    fields = ("password",)

    def parse(self, data: FormData) -> NewPasswordForm:
        _ = self.t.gettext
        self.token = text(data, "token")[:200]
        self.password = text(data, "password")
        self.values = {"token": self.token}
        if not self.password:
            self.error("password", _("Choose a password."))
        else:
            new_password_problem(self, "password", self.password, [])
        return self


def safe_next(value: str) -> str:
    """A place on this site to go after login; anything else becomes the dashboard."""
    return local_target(value, "")
