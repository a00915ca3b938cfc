"""Accounts over real HTTP: register, confirm, log in, wizard, log out, reset, throttle,
and answers that do not reveal whether an address is registered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from node.models import AccountToken, LoginThrottle, Profile, Resident, utcnow
from node.runtime import appkeys
from support.nodes import RunningNode
from support.web import (
    PASSWORD,
    PROFILE_FORM,
    Visitor,
    body,
    csrf_token,
    last_mail_to,
    link_in,
    mails_to,
    without_csrf,
)


async def test_register_verify_login_wizard_logout_login(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        response = await anna.register("Anna@Example.org", name="Anna Schmidt")
        assert response.status_code == 200
        assert "Bitte sehen Sie in Ihre E-Mails" in response.text
        mail = last_mail_to(node, "anna@example.org")
        assert "Anna Schmidt" in body(mail) and "MeinZwilling" in mail["Subject"]
        assert mail["From"].addresses[0].addr_spec == node.config.mail.sender

        # Not confirmed yet: the right password is not enough, a new link is sent.
        response = await anna.login("anna@example.org")
        assert response.status_code == 400
        assert "Bitte bestätigen Sie zuerst" in response.text
        assert len(mails_to(node, "anna@example.org")) == 2

        assert (await anna.verify("anna@example.org")).status_code == 200
        response = await anna.login("ANNA@example.org")
        assert response.status_code == 303
        assert response.headers["Location"] == "/profile/wizard"

        wizard = await anna.get("/profile/wizard")
        assert wizard.status_code == 200
        assert "Schritt 1 von 3" in wizard.text
        token = csrf_token(wizard.text)
        step = {"csrf_token": token, "step": "interests", "action": "next"}
        interests = {"interests": ["sport.cycling", "music_making.choir"]}
        response = await anna.client.post("/profile/wizard", data={**step, **interests})
        assert response.status_code == 200 and "Schritt 2 von 3" in response.text
        assert 'type="hidden" name="interests" value="sport.cycling"' in response.text

        languages = {"spoken-1-language": "de", "spoken-1-level": "native", "learning-1": "fr"}
        step = {"csrf_token": token, "step": "languages", "action": "next"}
        response = await anna.client.post(
            "/profile/wizard", data={**step, **interests, **languages}
        )
        assert response.status_code == 200 and "Schritt 3 von 3" in response.text

        about = {"age_band": "30-39", "occupation": "23", "about": "Radfahren!", "show_about": "1"}
        step = {"csrf_token": token, "step": "about", "action": "finish"}
        response = await anna.client.post(
            "/profile/wizard", data={**step, **interests, **languages, **about}
        )
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/dashboard")

        async with node.app[appkeys.DATABASE].write() as session:
            resident = await session.scalar(select(Resident))
            assert resident is not None
            profile = await session.get(Profile, resident.id)
        assert profile is not None and profile.completed
        assert profile.interests == ["music_making.choir", "sport.cycling"]
        assert profile.languages == {"de": "native"} and profile.learning == ["fr"]
        assert (profile.age_band, profile.occupation, profile.about) == (
            "30-39",
            "23",
            "Radfahren!",
        )

        dashboard = await anna.get("/dashboard")
        assert dashboard.status_code == 200 and "Hallo, Anna Schmidt" in dashboard.text

        response = await anna.submit("/logout", {}, page="/dashboard")
        assert response.status_code == 303
        assert (await anna.get("/dashboard")).status_code == 303

        response = await anna.login("anna@example.org")
        assert response.status_code == 303 and response.headers["Location"] == "/dashboard"


async def test_wizard_step_errors_keep_the_step_and_save_nothing(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        token = await anna.token("/profile/wizard")
        response = await anna.client.post(
            "/profile/wizard", data={"csrf_token": token, "step": "interests", "action": "next"}
        )
        assert response.status_code == 400
        assert "Wählen Sie mindestens ein Interesse." in response.text
        assert 'id="f-interests-error"' in response.text
        # Finishing with an earlier step in error sends the visitor back to that step.
        response = await anna.client.post(
            "/profile/wizard",
            data={"csrf_token": token, "step": "about", "action": "finish", "age_band": "30-39"},
        )
        assert response.status_code == 400 and "Schritt 1 von 3" in response.text
        async with node.app[appkeys.DATABASE].write() as session:
            assert await session.scalar(select(func.count()).select_from(Profile)) == 0


async def test_password_reset(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        other = Visitor(node)
        response = await other.submit("/password/forgotten", {"email": "anna@example.org"})
        assert response.status_code == 200
        link = link_in(last_mail_to(node, "anna@example.org"), "/password/reset")

        page = await other.get(link)
        assert page.status_code == 200 and 'autocomplete="new-password"' in page.text
        token = link.split("token=")[1]
        new_password = "violet tramway umbrella"
        weak = await other.client.post(
            "/password/reset",
            data={
                "csrf_token": csrf_token(page.text),
                "token": token,
                "password": "anna@example.org",
            },
        )
        assert weak.status_code == 400 and 'aria-invalid="true"' in weak.text
        done = await other.client.post(
            "/password/reset",
            data={"csrf_token": csrf_token(page.text), "token": token, "password": new_password},
        )
        assert done.status_code == 200 and "Passwort geändert" in done.text
        assert "geändert" in last_mail_to(node, "anna@example.org")["Subject"]

        # Every session of the account ended, the old password is dead, the new one works.
        assert (await anna.get("/dashboard")).status_code == 303
        assert (await other.login("anna@example.org", PASSWORD)).status_code == 400
        assert (await other.login("anna@example.org", new_password)).status_code == 303

        # The link is single-use.
        again = await other.client.post(
            "/password/reset",
            data={
                "csrf_token": await other.token(),
                "token": token,
                "password": "another fine phrase",
            },
        )
        assert again.status_code == 400 and "funktioniert nicht mehr" in again.text
        assert (await other.get(link)).status_code == 400
        await other.client.aclose()


async def test_expired_reset_link_is_refused(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        await anna.submit("/password/forgotten", {"email": "anna@example.org"})
        link = link_in(last_mail_to(node, "anna@example.org"), "/password/reset")
        async with node.app[appkeys.DATABASE].write() as session:
            await session.execute(
                update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert (await anna.get(link)).status_code == 400
        response = await anna.client.post(
            "/password/reset",
            data={
                "csrf_token": await anna.token(),
                "token": link.split("token=")[1],
                "password": "violet tramway umbrella",
            },
        )
        assert response.status_code == 400
    async with Visitor(node) as again:
        assert (await again.login("anna@example.org", PASSWORD)).status_code == 303


async def test_known_and_unknown_addresses_get_the_same_answers(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
    async with Visitor(node) as visitor:
        for path, known, unknown in (
            (
                "/login",
                {"email": "anna@example.org", "password": "wrong password here"},
                {"email": "nobody@example.org", "password": "wrong password here"},
            ),
            ("/password/forgotten", {"email": "anna@example.org"}, {"email": "nobody@example.org"}),
            (
                "/register",
                {
                    "email": "anna@example.org",
                    "password": PASSWORD,
                    "display_name": "A",
                    "kind": "person",
                    "age_confirmed": "1",
                },
                {
                    "email": "nobody@example.org",
                    "password": PASSWORD,
                    "display_name": "A",
                    "kind": "person",
                    "age_confirmed": "1",
                },
            ),
        ):
            first = await visitor.submit(path, known)
            second = await visitor.submit(path, unknown)
            assert first.status_code == second.status_code, path
            assert without_csrf(first.text).replace("anna@", "X@") == without_csrf(
                second.text
            ).replace("nobody@", "X@"), path
    # The registered address was told it already has an account; nothing else changed.
    assert "bereits ein Konto" in last_mail_to(node, "anna@example.org")["Subject"]
    async with node.app[appkeys.DATABASE].write() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 2


async def test_repeated_failures_slow_the_address(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
    async with Visitor(node, language="fr") as guesser:
        for _ in range(5):
            assert (await guesser.login("anna@example.org", "not the password")).status_code == 400
        early = await guesser.login("anna@example.org", "not the password")
        assert early.status_code == 429 and int(early.headers["Retry-After"]) > 0
        # Too early, the password is not looked at (the delay is in tests/web/test_rate_limits.py).
        right = await guesser.login("anna@example.org", PASSWORD)
        assert right.status_code == 429 and 'id="f-password-error"' in right.text
        # An unknown address is slowed the same way.
        for _ in range(6):
            response = await guesser.login("nobody@example.org", "not the password")
        assert response.status_code == 429
    async with node.app[appkeys.DATABASE].write() as session:
        await session.execute(update(LoginThrottle).values(locked_until=utcnow()))
    async with Visitor(node) as anna:
        assert (await anna.login("anna@example.org", PASSWORD)).status_code == 303
    async with node.app[appkeys.DATABASE].write() as session:
        assert await session.get(LoginThrottle, "anna@example.org") is None


async def test_registration_for_a_school_class_needs_the_adult_holder(node: RunningNode) -> None:
    async with Visitor(node) as teacher:
        data = {
            "email": "klasse@example.org",
            "password": PASSWORD,
            "display_name": "7b",
            "kind": "school_class",
            "age_confirmed": "1",
        }
        response = await teacher.submit("/register", data)
        assert response.status_code == 400 and 'id="f-holder_confirmed-error"' in response.text
        response = await teacher.submit("/register", {**data, "holder_confirmed": "1"})
        assert response.status_code == 200
        await teacher.verify("klasse@example.org")
        await teacher.login("klasse@example.org")
        form = {**PROFILE_FORM, "age_band": "grades-7-9"}
        response = await teacher.submit("/profile", form, page="/profile/wizard")
        assert response.status_code == 303


async def test_opening_the_mailed_link_alone_changes_nothing(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.register("anna@example.org")
        link = link_in(last_mail_to(node, "anna@example.org"), "/verify")
        for _ in range(2):  # a mail scanner may open it, more than once
            assert (await anna.get(link)).status_code == 200
        async with node.app[appkeys.DATABASE].write() as session:
            resident = await session.scalar(select(Resident))
            assert resident is not None and resident.email_verified_at is None
        assert (await anna.verify("anna@example.org")).status_code == 200
