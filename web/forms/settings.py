"""Forms of the settings page and the language switcher."""

from __future__ import annotations

from node.runtime.i18n import LANGUAGES
from web.forms.accounts import safe_next
from web.forms.base import Form, FormData, checked, text


class LanguageForm(Form):
    """The language switcher in every page's header."""

    fields = ("language",)

    def parse(self, data: FormData) -> LanguageForm:
        language = text(data, "language")
        self.values = {"language": language, "next": safe_next(text(data, "next"))}
        if language not in LANGUAGES:
            self.error("language", self.t.gettext("Choose one of the languages offered."))
        return self


# One switch per kind of notification mail (notices on the portal come anyway).
NOTIFICATION_SWITCHES = ("notify_requests", "notify_acceptances", "notify_messages")


class PreferencesForm(Form):
    fields = ("language", *NOTIFICATION_SWITCHES, "paused")

    def parse(self, data: FormData) -> PreferencesForm:
        language = text(data, "language")
        self.values = {
            "language": language,
            **{name: checked(data, name) for name in NOTIFICATION_SWITCHES},
            "paused": checked(data, "paused"),
        }
        if language not in LANGUAGES:
            self.error("language", self.t.gettext("Choose one of the languages offered."))
        return self


class DeleteAccountForm(Form):
    fields = ("password", "confirm")

    def parse(self, data: FormData) -> DeleteAccountForm:
        _ = self.t.gettext
        self.password = text(data, "password")
        self.values = {"confirm": checked(data, "confirm")}
        if not self.password:
            self.error("password", _("Enter your password to confirm."))
        if not self.values["confirm"]:
            self.error("confirm", _("Tick the box to confirm that you want to delete everything."))
        return self

    def wrong_password(self) -> None:
        self.error("password", self.t.gettext("That is not your password."))
