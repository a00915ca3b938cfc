"""Forms of the account security page and of the login's second step."""

from __future__ import annotations

from web.forms.accounts import password_message
from web.forms.base import Form, FormData, text

MAX_CODE_LENGTH = 64


class ChangePasswordForm(Form):
    """Current password, new password and its confirmation. The rules that need the
    account (its address and name) are checked by the service."""

    fields = ("current_password", "new_password", "confirm_password")

    def parse(self, data: FormData) -> ChangePasswordForm:
        _ = self.t.gettext
        self.current = text(data, "current_password")
        self.new = text(data, "new_password")
        confirmation = text(data, "confirm_password")
        if not self.current:
            self.error("current_password", _("Enter your current password."))
        if not self.new:
            self.error("new_password", _("Choose a new password."))
        elif confirmation != self.new:
            self.error("confirm_password", _("The two new passwords are not the same."))
        return self

    def wrong_password(self) -> None:
        self.error("current_password", self.t.gettext("That is not your current password."))

    def weak(self, codes: list[str]) -> None:
        for code in codes:
            self.error("new_password", password_message(self.t, code))


def _code(form: Form, data: FormData, name: str = "code") -> str:
    value = text(data, name).strip()[:MAX_CODE_LENGTH]
    if not value:
        form.error(name, form.t.gettext("Enter the code."))
    return value


class CodeForm(Form):
    """One code: from the app (six digits) or, where allowed, a recovery code."""

    fields: tuple[str, ...] = ("code",)

    def parse(self, data: FormData) -> CodeForm:
        self.code = _code(self, data)
        return self

    def wrong_code(self) -> None:
        self.error("code", self.t.gettext("This code is not right, or it was already used."))

    def refused(self, unreadable: bool) -> None:
        """A refused code; ``unreadable`` when the account's secret no longer opens (the
        node secret changed), where trying more codes from the app cannot help."""
        if not unreadable:
            self.wrong_code()
            return
        self.error(
            "code",
            self.t.gettext(
                "Codes from your app can no longer be checked for this account. Use a"
                " recovery code, then set up two-factor sign-in again, or ask the city's"
                " IT team to switch it off."
            ),
        )


class PasswordAndCodeForm(CodeForm):
    """Enabling and disabling two-factor sign-in: the password and a code from the app."""

    fields = ("password", "code")

    def parse(self, data: FormData) -> PasswordAndCodeForm:
        self.password = text(data, "password")
        if not self.password:
            self.error("password", self.t.gettext("Enter your password to confirm."))
        self.code = _code(self, data)
        return self

    def wrong_password(self) -> None:
        self.error("password", self.t.gettext("That is not your password."))
