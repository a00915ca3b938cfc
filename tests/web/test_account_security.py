"""The account security page over real HTTP: changing the password ends the other
sessions and keeps this one, a wrong current password changes nothing, a resident
sees and ends only their own sessions (each with a coarse device label, never the
User-Agent), and every new form needs the CSRF token."""

from __future__ import annotations

import json

from sqlalchemy import select

from node.accounts import security
from node.accounts.sessions import hash_token
from node.models import LoginSession, Resident
from node.runtime import appkeys
from support.contacts import add_account
from support.nodes import RunningNode
from support.web import PASSWORD, Visitor, body, last_mail_to

ANNA = "anna@oldenburg.example"
CARL = "carl@oldenburg.example"
NEW_PASSWORD = "copper kettle meadow ninety"
PAGE = "/settings/security"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def browser(node: RunningNode, user_agent: str = FIREFOX_LINUX, language: str = "de") -> Visitor:
    visitor = Visitor(node, language=language)
    visitor.client.headers["User-Agent"] = user_agent
    return visitor


async def _sessions(node: RunningNode) -> list[LoginSession]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return list((await session.scalars(select(LoginSession))).all())


async def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    node: RunningNode,
) -> None:
    await add_account(node, ANNA)
    async with browser(node) as here, browser(node, CHROME_ANDROID) as there:
        assert (await here.login(ANNA)).status_code == 303
        assert (await there.login(ANNA)).status_code == 303
        before = here.session_cookie()
        changed = await here.submit(
            f"{PAGE}/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
            page=PAGE,
        )
        assert changed.status_code == 303 and changed.headers["Location"] == f"{PAGE}?done=password"
        assert here.session_cookie() not in (None, before)  # a fresh token for this session
        page = await here.get(changed.headers["Location"])
        assert page.status_code == 200 and "Alle anderen Sitzungen wurden abgemeldet" in page.text
        assert (await there.get("/settings")).status_code == 303  # logged out
        rows = await _sessions(node)
        assert len(rows) == 1 and rows[0].device == "Firefox on Linux"
        assert "soeben in Ihren Kontoeinstellungen geändert" in body(last_mail_to(node, ANNA))
    async with browser(node) as later:
        assert (await later.login(ANNA)).status_code == 400
        assert (await later.login(ANNA, NEW_PASSWORD)).status_code == 303


async def test_a_wrong_current_password_changes_nothing(node: RunningNode) -> None:
    await add_account(node, ANNA)
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        stored = await session.scalar(select(Resident.password_hash))
    async with browser(node) as here, browser(node, CHROME_ANDROID) as there:
        assert (await here.login(ANNA)).status_code == 303
        assert (await there.login(ANNA)).status_code == 303
        cookie = here.session_cookie()
        cases = [
            ({"current_password": "not it at all", "new_password": NEW_PASSWORD}, "aktuelles"),
            ({"current_password": PASSWORD, "new_password": "password"}, "Liste"),
            ({"current_password": "", "new_password": NEW_PASSWORD}, "aktuelles Passwort ein"),
        ]
        for fields, words in cases:
            answer = await here.submit(
                f"{PAGE}/password",
                {**fields, "confirm_password": fields["new_password"]},
                page=PAGE,
            )
            assert answer.status_code == 400 and words in answer.text, answer.text
        mismatch = await here.submit(
            f"{PAGE}/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD + "x",
            },
            page=PAGE,
        )
        assert mismatch.status_code == 400 and "nicht gleich" in mismatch.text
        assert here.session_cookie() == cookie
        assert (await there.get("/settings")).status_code == 200  # still logged in
    async with node.app[appkeys.DATABASE].read() as session:
        assert await session.scalar(select(Resident.password_hash)) == stored
    assert len(await _sessions(node)) == 2


async def test_the_list_shows_only_ones_own_sessions_with_a_coarse_label(
    node: RunningNode,
) -> None:
    await add_account(node, ANNA)
    await add_account(node, CARL)
    async with (
        browser(node) as here,
        browser(node, CHROME_ANDROID) as there,
        browser(node, "curl/8.5") as carl,
    ):
        for visitor, email in ((here, ANNA), (there, ANNA), (carl, CARL)):
            assert (await visitor.login(email)).status_code == 303
        page = await here.get(PAGE)
        assert page.status_code == 200
        # The account's language is German: the label is worded in it.
        assert "Firefox unter Linux" in page.text and "Chrome unter Android" in page.text
        assert "Unbekannter Browser" not in page.text  # Carl's
        assert page.text.count("diese Sitzung") == 1
        assert page.text.count("/sessions/") == 2  # one to end, and "everywhere else"
    rows = await _sessions(node)
    stored = json.dumps([[r.device, r.language, r.csrf_token] for r in rows])
    assert "Mozilla" not in stored and "127.0.0.1" not in stored and "curl" not in stored
    assert sorted(r.device or "" for r in rows) == [
        "Chrome on Android",
        "Firefox on Linux",
        "unknown on unknown",
    ]


async def test_a_resident_can_never_end_another_residents_session(node: RunningNode) -> None:
    anna_id = await add_account(node, ANNA)
    await add_account(node, CARL)
    async with browser(node) as anna, browser(node) as carl:
        assert (await anna.login(ANNA)).status_code == 303
        assert (await carl.login(CARL)).status_code == 303
        [carls] = [row for row in await _sessions(node) if row.resident_id != anna_id]
        token = await anna.token(PAGE)
        handle = security.handle_of(carls)
        for raw in (handle, carls.id, "²" * 24, handle.upper(), handle + "0"):
            answer = await anna.client.post(
                f"{PAGE}/sessions/{raw}/end", data={"csrf_token": token}
            )
            assert answer.status_code in (404, 405), raw
        # "Everywhere else" is everywhere else for Anna only.
        everywhere = await anna.client.post(
            f"{PAGE}/sessions/others/end", data={"csrf_token": token}
        )
        assert everywhere.status_code == 303
        assert (await carl.get("/settings")).status_code == 200
        assert (await anna.get("/settings")).status_code == 200


async def test_one_session_or_every_other_one_is_logged_out(node: RunningNode) -> None:
    await add_account(node, ANNA)
    async with (
        browser(node) as here,
        browser(node, CHROME_ANDROID) as phone,
        browser(node, CHROME_ANDROID) as tablet,
    ):
        for visitor in (here, phone, tablet):
            assert (await visitor.login(ANNA)).status_code == 303
        current = here.session_cookie()
        rows = await _sessions(node)
        phone_row = next(r for r in rows if r.id == hash_token(phone.session_cookie() or ""))
        ended = await here.submit(
            f"{PAGE}/sessions/{security.handle_of(phone_row)}/end", {}, page=PAGE
        )
        assert ended.status_code == 303
        assert (await phone.get("/settings")).status_code == 303
        assert (await tablet.get("/settings")).status_code == 200
        others = await here.submit(f"{PAGE}/sessions/others/end", {}, page=PAGE)
        assert others.status_code == 303
        assert (await tablet.get("/settings")).status_code == 303
        assert (await here.get("/settings")).status_code == 200
        assert here.session_cookie() == current
    assert len(await _sessions(node)) == 1


async def test_every_new_form_needs_the_csrf_token(node: RunningNode) -> None:
    await add_account(node, ANNA)
    async with browser(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        for path in (
            f"{PAGE}/password",
            f"{PAGE}/sessions/others/end",
            f"{PAGE}/sessions/{'a' * 24}/end",
            f"{PAGE}/two-factor/enable",
            f"{PAGE}/two-factor/disable",
            f"{PAGE}/two-factor/recovery-codes",
            "/login/code",
        ):
            answer = await anna.client.post(
                path, data={"current_password": PASSWORD, "password": PASSWORD, "code": "1"}
            )
            assert answer.status_code == 403, path
    assert len(await _sessions(node)) == 1
