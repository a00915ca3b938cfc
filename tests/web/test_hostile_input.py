"""Hostile values in ids, redirect targets and request headers: each has one check,
and every route answers with a 404, the default page or a 403, never a 500."""

from __future__ import annotations

import pytest

from support.contacts import add_account
from support.nodes import RunningNode
from support.two_factor import admin_login
from support.web import Visitor
from web.pages.admin import QUEUE_PATH
from web.validators import local_target

HOSTILE_TARGETS = [
    "/\t/evil.example",
    "/\r\nSet-Cookie: x=1",
    "/\x00/evil.example",
    "//evil.example",
    "/\\evil.example",
    "/\\\\evil.example",
    "https://evil.example",
    "evil.example",
    "javascript:alert(1)",
    "/\u2028/evil.example",
    "/" + "a" * 600,
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_a_hostile_redirect_target_becomes_the_default(target: str) -> None:
    assert local_target(target, "/dashboard") == "/dashboard"


def test_a_local_path_is_kept() -> None:
    assert local_target("/contacts/requests?x=1", "/dashboard") == "/contacts/requests?x=1"


BAD_IDS = ["²", "١٢", "𝟙", "1²", "-1", "0", "2147483648", "99999999999", "9" * 30, "+1", " 1"]


async def test_unicode_digits_and_huge_ids_are_not_found(node: RunningNode) -> None:
    await add_account(node, "clerk@oldenburg.example", role="admin")
    async with Visitor(node) as clerk:
        await admin_login(clerk, "clerk@oldenburg.example")
        token = await clerk.token("/dashboard")
        for raw in BAD_IDS:
            for path in (f"/contacts/{raw}/report", f"/admin/reports/{raw}"):
                assert (await clerk.get(path)).status_code == 404, path
            for action in ("block", "withdraw", "report", "answer"):
                answer = await clerk.client.post(
                    f"/contacts/{raw}/{action}", data={"csrf_token": token, "decision": "accept"}
                )
                assert answer.status_code == 404, (raw, action)
            for path in (
                f"/admin/reports/{raw}/dismiss",
                f"/admin/reports/{raw}/suspend",
                f"{QUEUE_PATH}/{raw}/retry",
                f"{QUEUE_PATH}/{raw}/discard",
                f"/contacts/{raw}/messages",
            ):
                answer = await clerk.client.post(path, data={"csrf_token": token, "body": "x"})
                assert answer.status_code == 404, path
            assert (await clerk.get(f"/contacts/{raw}")).status_code == 404, raw


async def test_a_hostile_next_on_the_contact_forms_goes_to_the_default_page(
    node: RunningNode,
) -> None:
    await add_account(node, "anna@oldenburg.example")
    async with Visitor(node) as anna:
        assert (await anna.login("anna@oldenburg.example")).status_code == 303
        token = await anna.token("/contacts/requests")
        for target in HOSTILE_TARGETS:
            for action in ("/contacts/1/withdraw", "/contacts/1/block", "/contacts/request"):
                answer = await anna.client.post(
                    action, data={"csrf_token": token, "next": target, "actor": "x"}
                )
                assert answer.status_code == 303, (action, target)
                assert answer.headers["Location"].startswith("/contacts/requests?"), target
        kept = await anna.client.post(
            "/contacts/1/withdraw", data={"csrf_token": token, "next": "/contacts"}
        )
        assert kept.headers["Location"].startswith("/contacts?problem=")


async def test_a_hostile_next_on_the_login_form_is_dropped(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        for target in HOSTILE_TARGETS:
            page = await visitor.get("/login", params={"next": target})
            assert page.status_code == 200
            assert 'name="next" value=""' in page.text, target


async def test_forms_sent_from_another_site_are_refused_with_a_valid_token(
    node: RunningNode,
) -> None:
    form = {"language": "de", "next": "/login"}
    async with Visitor(node) as visitor:
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Origin": node.url.replace("127.0.0.1", "localhost")},
            {"Origin": node.url.replace("http://", "https://")},
            {"Origin": node.url + "/login"},
            {"Origin": "http://[::1"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "cross-site", "Origin": node.url},
        ):
            token = await visitor.token("/")
            refused = await visitor.client.post(
                "/language", data={**form, "csrf_token": token}, headers=headers
            )
            assert refused.status_code == 403, headers
            assert "Dieses Formular kam von einer anderen Website" in refused.text, headers
        for headers in (
            {},
            {"Origin": node.url},
            {"Origin": node.url.upper()},
            {"Sec-Fetch-Site": "same-origin", "Origin": node.url},
            {"Sec-Fetch-Site": "none"},
        ):
            token = await visitor.token("/")
            accepted = await visitor.client.post(
                "/language", data={**form, "csrf_token": token}, headers=headers
            )
            assert accepted.status_code == 303, headers
            assert accepted.headers["Location"] == "/login"


async def test_a_hostile_next_on_the_language_form_goes_home(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        for target in HOSTILE_TARGETS:
            token = await visitor.token("/")
            answer = await visitor.client.post(
                "/language", data={"language": "fr", "next": target, "csrf_token": token}
            )
            assert answer.status_code == 303, target
            assert answer.headers["Location"] == "/", target


async def test_a_cross_site_form_without_a_token_is_still_refused(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        refused = await visitor.client.post(
            "/language", data={"language": "fr"}, headers={"Origin": "https://evil.example"}
        )
        assert refused.status_code == 403


async def test_the_server_header_names_no_versions(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        for path in ("/", "/login", "/actor", "/no/such/page", "/static/no-such-file.css"):
            answer = await visitor.get(path)
            server = answer.headers.get("Server", "")
            assert "aiohttp" not in server.lower() and "python" not in server.lower(), path
            assert server == "zwilling", path
