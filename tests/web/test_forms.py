"""Invalid input for every form: 400, the message next to its field, the values kept
(never the password), and nothing saved."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from node.models import Profile, Resident
from node.runtime import appkeys
from support.nodes import RunningNode
from support.web import PASSWORD, PROFILE_FORM, Visitor, last_mail_to, link_in, mail_dir

VALID_REGISTRATION = {
    "email": "anna@example.org",
    "password": PASSWORD,
    "display_name": "Anna",
    "kind": "person",
    "age_confirmed": "1",
}

REGISTRATION_CASES: list[tuple[dict[str, Any], str]] = [
    ({"email": ""}, "email"),
    ({"email": "anna"}, "email"),
    ({"email": "anna@localhost"}, "email"),
    ({"email": "an na@example.org"}, "email"),
    ({"email": "a" * 250 + "@example.org"}, "email"),
    ({"password": ""}, "password"),
    ({"password": "short"}, "password"),
    ({"password": "x" * 1025}, "password"),
    ({"password": "password123"}, "password"),
    ({"password": "Sommer2024!"}, "password"),
    ({"password": "12345678"}, "password"),
    ({"password": "01021990"}, "password"),
    ({"password": "aaaaaaaaaa"}, "password"),
    ({"password": "anna@example.org"}, "password"),
    ({"password": "MeinZwilling!!"}, "password"),
    ({"display_name": ""}, "display_name"),
    ({"display_name": "   "}, "display_name"),
    ({"display_name": "x" * 81}, "display_name"),
    ({"display_name": "Anna\x00"}, "display_name"),
    ({"kind": ""}, "kind"),
    ({"kind": "robot"}, "kind"),
    ({"age_confirmed": None}, "age_confirmed"),
    ({"kind": "club", "age_confirmed": None}, "holder_confirmed"),
]


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **change}
    return {key: value for key, value in merged.items() if value is not None}


def assert_field_error(html: str, field: str) -> None:
    assert 'class="error-summary"' in html
    assert f'href="#f-{field}"' in html
    assert f'id="f-{field}-error"' in html
    described = f'aria-describedby="f-{field}-error"' in html or (
        f'f-{field}-hint f-{field}-error"' in html
    )
    assert described, field
    assert 'aria-invalid="true"' in html


async def _count(node: RunningNode, model: type) -> int:
    async with node.app[appkeys.DATABASE].write() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_registration_errors(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        for change, field in REGISTRATION_CASES:
            data = _merge(VALID_REGISTRATION, change)
            response = await visitor.submit("/register", data)
            assert response.status_code == 400, change
            assert_field_error(response.text, field)
            if field != "email":
                assert 'value="anna@example.org"' in response.text, change
            assert PASSWORD not in response.text
    assert await _count(node, Resident) == 0
    assert not mail_dir(node).exists() or not list(mail_dir(node).iterdir())


async def test_login_reset_and_language_form_errors(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        response = await visitor.submit("/login", {"email": "", "password": ""})
        assert response.status_code == 400
        assert_field_error(response.text, "email")
        assert 'id="f-password-error"' in response.text
        response = await visitor.submit("/login", {"email": "anna@example.org", "password": ""})
        assert response.status_code == 400 and 'value="anna@example.org"' in response.text
        response = await visitor.submit("/password/forgotten", {"email": "not an address"})
        assert response.status_code == 400
        assert_field_error(response.text, "email")
        response = await visitor.submit("/language", {"language": "xx"}, page="/")
        assert response.status_code == 400
        response = await visitor.submit("/verify", {"token": "made-up"}, page="/")
        assert response.status_code == 400
        response = await visitor.submit(
            "/password/reset", {"token": "made-up", "password": PASSWORD}, page="/"
        )
        assert response.status_code == 400


async def test_new_password_errors(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        await anna.submit("/password/forgotten", {"email": "anna@example.org"})
        link = link_in(last_mail_to(node, "anna@example.org"), "/password/reset")
        token = link.split("token=")[1]
        for password in ("", "short", "qwertzuiop", "anna@example.org"):
            response = await anna.submit(
                "/password/reset", {"token": token, "password": password}, page=link
            )
            assert response.status_code == 400, password
            assert_field_error(response.text, "password")
            assert f'name="token" value="{token}"' in response.text
    async with Visitor(node) as again:
        assert (await again.login("anna@example.org", PASSWORD)).status_code == 303


PROFILE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"interests": []}, "interests"),
    ({"interests": ["sport.nothing"]}, "interests"),
    ({"interests": ["sport"]}, "interests"),
    (
        {
            "spoken-1-language": "",
            "spoken-1-level": "",
            "spoken-2-language": "",
            "spoken-2-level": "",
        },
        "languages",
    ),
    ({"spoken-1-level": ""}, "languages"),
    ({"spoken-1-language": ""}, "languages"),
    ({"spoken-2-language": "de"}, "languages"),
    ({"spoken-1-level": "Z9"}, "languages"),
    ({"spoken-1-language": "xx"}, "languages"),
    ({"learning-1": "de"}, "learning"),
    ({"learning-1": "es", "learning-2": "es"}, "learning"),
    ({"learning-1": "zz"}, "learning"),
    ({"age_band": ""}, "age_band"),
    ({"age_band": "grades-1-4"}, "age_band"),
    ({"occupation": "2"}, "occupation"),
    ({"occupation": "99"}, "occupation"),
    ({"about": "x" * 2001}, "about"),
    ({"about": "hello\x07"}, "about"),
]


def _all_interests() -> list[str]:
    from matching.taxonomy import load_taxonomy

    return list(load_taxonomy().interests[:21])


async def test_profile_errors(node: RunningNode) -> None:
    cases = [*PROFILE_CASES, ({"interests": _all_interests()}, "interests")]
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        token = await anna.token("/profile/wizard")
        for change, field in cases:
            data = {**PROFILE_FORM, **change, "csrf_token": token}
            response = await anna.client.post("/profile", data=data)
            assert response.status_code == 400, (change, response.status_code)
            assert f'id="f-{field}-error"' in response.text, change
            assert f'href="#f-{field}"' in response.text, change
            # What was entered is shown again.
            assert 'value="sport.cycling" checked' in response.text or "interests" in change
    assert await _count(node, Profile) == 0


async def test_settings_errors(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.with_profile("anna@example.org")
        response = await anna.submit("/settings/preferences", {"language": "tlh"}, page="/settings")
        assert response.status_code == 400
        assert_field_error(response.text, "language")
        for data, field in (
            ({"password": PASSWORD}, "confirm"),
            ({"confirm": "1"}, "password"),
            ({"password": "not my password", "confirm": "1"}, "password"),
        ):
            response = await anna.submit("/settings/delete", data, page="/settings")
            assert response.status_code == 400, data
            assert_field_error(response.text, field)
            assert PASSWORD not in response.text
        assert (await anna.get("/dashboard")).status_code == 200
    assert await _count(node, Resident) == 1
