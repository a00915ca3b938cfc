"""Two-factor sign-in over real HTTP: set up from the QR code a phone reads, the
login's second step, single-use recovery codes, a code refused the second time,
switching it off, the data export and the account deletion."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import numpy as np
import pyotp
import zxingcpp
from sqlalchemy import func, select

from node.accounts.appkeys import TWO_FACTOR_SEAL
from node.models import LoginChallenge, LoginSession, RecoveryCode, Resident, TwoFactor
from node.runtime import appkeys
from support.contacts import add_account
from support.nodes import RunningNode
from support.two_factor import SETUP_PATH, Authenticator, key_on
from support.web import PASSWORD, Visitor

ANNA = "anna@oldenburg.example"
PAGE = "/settings/security"


def qr_text(html: str) -> str:
    """Read the page's QR code as a phone does: draw segno's SVG path into pixels and
    let a barcode reader decode them."""
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg, "no inline SVG on the page"
    size = int(re.search(r'd="M0 0h(\d+)', svg.group(0)).group(1))  # type: ignore[union-attr]
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg.group(0))
    assert path
    grid = np.full((size, size), 255, np.uint8)
    x = y = 0.0
    for command, a, b in re.findall(r"([MmHh])(-?[\d.]+)(?: (-?[\d.]+))?", path.group(1)):
        if command in "Mm":
            x, y = (float(a), float(b)) if command == "M" else (x + float(a), y + float(b))
        else:
            grid[int(y), int(x) : int(x + float(a))] = 0
            x += float(a)
    image = np.kron(grid, np.ones((8, 8), np.uint8))
    [found] = zxingcpp.read_barcodes(image)
    return found.text


async def _count(node: RunningNode, table: type) -> int:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_set_up_log_in_with_codes_and_switch_off(node: RunningNode) -> None:
    await add_account(node, ANNA)
    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        setup = await anna.get(SETUP_PATH)
        assert setup.status_code == 200
        secret = key_on(setup.text)
        uri = qr_text(setup.text)
        assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
        assert "MeinZwilling" in uri
        assert "style=" not in setup.text and "<script" not in setup.text
        assert key_on((await anna.get(SETUP_PATH)).text) == secret  # same until confirmed
        phone = Authenticator(secret)
        totp = pyotp.TOTP(secret)

        async def enable(password: str, code: str) -> int:
            answer = await anna.submit(
                f"{SETUP_PATH}/enable", {"password": password, "code": code}, page=SETUP_PATH
            )
            return answer.status_code

        wrong = str((int(totp.now()) + 1) % 1_000_000).zfill(6)
        assert await enable(PASSWORD, wrong) == 400
        assert await enable("not my password", totp.now()) == 400
        assert await _count(node, RecoveryCode) == 0
        first_code = await phone.code()
        enabled = await anna.submit(
            f"{SETUP_PATH}/enable", {"password": PASSWORD, "code": first_code}, page=SETUP_PATH
        )
        assert enabled.status_code == 200
        codes = re.findall(r"<li><code>([0-9a-z-]{14})</code></li>", enabled.text)
        assert len(set(codes)) == 10
        assert "Wiederherstellungscodes" in enabled.text
        again = await anna.get(SETUP_PATH)
        assert not any(code in again.text for code in codes)  # shown once only
        assert "10 unbenutzte" in again.text

    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        stored = json.dumps(
            [str(h) for h in (await session.scalars(select(RecoveryCode.code_hash))).all()]
        )
        row = await session.scalar(select(TwoFactor))
    assert row is not None and row.enabled_at is not None
    assert row.secret.startswith("v1:") and secret not in row.secret  # sealed at rest
    assert node.app[TWO_FACTOR_SEAL].open(row.secret, row.resident_id) == secret
    assert not any(code in stored or code.replace("-", "") in stored for code in codes)

    async with Visitor(node) as later:
        first = await later.login(ANNA)
        assert first.status_code == 303 and first.headers["Location"] == "/login/code"
        assert later.session_cookie() is None
        assert (await later.get("/settings")).status_code == 303  # not logged in yet
        form = await later.get("/login/code")
        assert form.status_code == 200 and "sechsstellige" in form.text
        reused = await later.submit("/login/code", {"code": first_code})
        assert reused.status_code == 400 and "schon verwendet" in reused.text
        assert (await later.submit("/login/code", {"code": "12345x"})).status_code == 400
        assert later.session_cookie() is None
        right = await later.submit("/login/code", {"code": await phone.code()})
        assert right.status_code == 303 and later.session_cookie()
        assert (await later.get("/settings")).status_code == 200
        # The step just used is refused a second time, on the page that checks codes too.
        refused = await later.submit(
            f"{SETUP_PATH}/recovery-codes",
            {"code": totp.generate_otp(phone.last_step)},
            page=SETUP_PATH,
        )
        assert refused.status_code == 400

    for visitor_codes in ([codes[0]], [codes[1].upper().replace("-", " ")]):
        async with Visitor(node) as lost_phone:
            assert (await lost_phone.login(ANNA)).status_code == 303
            used = await lost_phone.submit("/login/code", {"code": visitor_codes[0]})
            assert used.status_code == 303
    async with Visitor(node) as again_lost:
        assert (await again_lost.login(ANNA)).status_code == 303
        assert (await again_lost.submit("/login/code", {"code": codes[0]})).status_code == 400
        assert again_lost.session_cookie() is None
    assert await _count(node, RecoveryCode) == 8

    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        assert (await anna.submit("/login/code", {"code": codes[2]})).status_code == 303
        renewed = await anna.submit(
            f"{SETUP_PATH}/recovery-codes", {"code": await phone.code()}, page=SETUP_PATH
        )
        assert renewed.status_code == 200
        fresh = re.findall(r"<li><code>([0-9a-z-]{14})</code></li>", renewed.text)
        assert len(fresh) == 10 and not set(fresh) & set(codes)
        assert await _count(node, RecoveryCode) == 10
        no_code = await anna.submit(
            f"{SETUP_PATH}/disable", {"password": PASSWORD, "code": ""}, page=SETUP_PATH
        )
        assert no_code.status_code == 400
        off = await anna.submit(
            f"{SETUP_PATH}/disable", {"password": PASSWORD, "code": fresh[0]}, page=SETUP_PATH
        )
        assert off.status_code == 303 and off.headers["Location"] == f"{PAGE}?done=disabled"
    assert await _count(node, TwoFactor) == 0 and await _count(node, RecoveryCode) == 0
    async with Visitor(node) as plain:
        assert (await plain.login(ANNA)).headers["Location"] != "/login/code"


async def test_a_login_challenge_is_its_own_short_lived_cookie(node: RunningNode) -> None:
    await add_account(node, ANNA)
    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        phone = Authenticator(key_on((await anna.get(SETUP_PATH)).text))
        await anna.submit(
            f"{SETUP_PATH}/enable",
            {"password": PASSWORD, "code": await phone.code()},
            page=SETUP_PATH,
        )
    async with Visitor(node) as stranger:
        # Without the challenge cookie the code page sends back to the login.
        assert (await stranger.get("/login/code")).headers["Location"] == "/login"
        answer = await stranger.submit("/login", {"email": ANNA, "password": PASSWORD})
        cookie = answer.headers["Set-Cookie"]
        assert "zw-login-code-oldenburg=" in cookie and "HttpOnly" in cookie
        assert "Max-Age=300" in cookie and "SameSite=Strict" in cookie
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        [challenge] = (await session.scalars(select(LoginChallenge))).all()
    assert challenge.expires_at > datetime.now(UTC)
    assert challenge.id not in cookie  # only the hash is stored


async def test_export_keeps_the_secret_and_deletion_removes_everything(
    node: RunningNode,
) -> None:
    await add_account(node, ANNA)
    async with Visitor(node) as anna:
        assert (await anna.login(ANNA)).status_code == 303
        setup = await anna.get(SETUP_PATH)
        phone = Authenticator(key_on(setup.text))
        enabled = await anna.submit(
            f"{SETUP_PATH}/enable",
            {"password": PASSWORD, "code": await phone.code()},
            page=SETUP_PATH,
        )
        codes = re.findall(r"<li><code>([0-9a-z-]{14})</code></li>", enabled.text)
        exported = await anna.get("/settings/export")
        assert exported.status_code == 200
        assert node.app is not None
        async with node.app[appkeys.DATABASE].read() as session:
            hashes = (await session.scalars(select(RecoveryCode.code_hash))).all()
        assert phone.secret not in exported.text
        assert not any(h in exported.text for h in hashes)
        assert not any(code in exported.text for code in codes)
        document = exported.json()
        assert document["two_factor"]["enabled_at"] is not None
        assert document["two_factor"]["recovery_codes_left"] == len(codes) == 10
        # Each session with its coarse device label, never the User-Agent itself.
        assert document["sessions"] and all("device" in row for row in document["sessions"])
        assert "python-httpx" not in exported.text
        # A pending challenge of a second browser, then the account goes.
        async with Visitor(node) as other:
            assert (await other.login(ANNA)).headers["Location"] == "/login/code"
        gone = await anna.submit(
            "/settings/delete", {"password": PASSWORD, "confirm": "1"}, page="/settings"
        )
        assert gone.status_code == 200
    for table in (Resident, TwoFactor, RecoveryCode, LoginChallenge, LoginSession):
        assert await _count(node, table) == 0, table
