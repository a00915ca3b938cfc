"""Admins need two-factor sign-in: without it every admin page leads to the set-up
page, and city IT can switch it off for a lost phone from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.contacts import add_account
from support.nodes import RunningNode
from support.two_factor import SETUP_PATH, login_with_code, set_up_two_factor
from support.web import Visitor

ROOT = Path(__file__).resolve().parents[2]
CLERK = "clerk@oldenburg.example"
REQUIRED = f"{SETUP_PATH}?required=admin"


def zwilling(node: RunningNode, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "node.cli",
            "--config",
            str(ROOT / "config" / "oldenburg.toml"),
            "--data-dir",
            str(node.config.data_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "ZWILLING_DATABASE_URL": node.config.database_url},
    )


async def test_an_admin_without_two_factor_cannot_see_the_admin_pages(node: RunningNode) -> None:
    await add_account(node, CLERK, role="admin")
    async with Visitor(node) as clerk:
        assert (await clerk.login(CLERK)).status_code == 303
        for path in (
            "/admin",
            "/admin/queue",
            "/admin/reports",
            "/admin/reports/1",
            "/admin/privacy",
        ):
            answer = await clerk.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["Location"] == REQUIRED, path
        token = await clerk.token("/settings")
        for path in ("/admin/queue/1/retry", "/admin/reports/1/suspend"):
            action = await clerk.client.post(path, data={"csrf_token": token})
            assert action.status_code == 303 and action.headers["Location"] == REQUIRED
        explained = await clerk.get(REQUIRED)
        assert "Die Admin-Seiten erfordern die Zwei-Faktor-Anmeldung" in explained.text
        phone = await set_up_two_factor(clerk)
        overview = await clerk.get("/admin")
        assert overview.status_code == 200 and "/admin/queue" in overview.text
    async with Visitor(node) as later:
        await login_with_code(later, CLERK, phone)
        assert (await later.get("/admin")).status_code == 200

        reset = zwilling(node, "admin", "reset-two-factor", "Clerk@Oldenburg.example")
        assert reset.returncode == 0, reset.stderr
        assert f"{CLERK}: two-factor sign-in switched off" in reset.stdout
        assert (await later.get("/admin")).headers["Location"].startswith("/login")
    async with Visitor(node) as found_again:
        plain = await found_again.login(CLERK)
        assert plain.status_code == 303 and plain.headers["Location"] != "/login/code"
        assert (await found_again.get("/admin")).headers["Location"] == REQUIRED
    unknown = zwilling(node, "admin", "reset-two-factor", "nobody@example.org")
    assert unknown.returncode == 1 and "no account with the e-mail address" in unknown.stderr


async def test_switching_it_off_closes_the_admin_pages_again(node: RunningNode) -> None:
    await add_account(node, CLERK, role="admin")
    async with Visitor(node) as clerk:
        assert (await clerk.login(CLERK)).status_code == 303
        phone = await set_up_two_factor(clerk)
        assert (await clerk.get("/admin")).status_code == 200
        setup = await clerk.get(SETUP_PATH)
        assert "Als Admin brauchen Sie die Zwei-Faktor-Anmeldung" in setup.text
        off = await clerk.submit(
            f"{SETUP_PATH}/disable",
            {"password": "lantern orchard seventeen", "code": phone.recovery_codes[0]},
            page=SETUP_PATH,
        )
        assert off.status_code == 303
        assert (await clerk.get("/admin")).headers["Location"] == REQUIRED
