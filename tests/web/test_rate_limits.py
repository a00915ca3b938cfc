"""Rate limits and login throttling over real HTTP: mailboxes cannot be flooded
through the city's sender, a client that asks too often gets 429 with Retry-After,
and wrong passwords slow the next attempt down without ever refusing the right one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from node.accounts import accounts, limits
from node.models import LoginThrottle, utcnow
from node.retention.purge import purge
from node.runtime import appkeys
from node.runtime.config import LimitsSection
from support.nodes import RunningNode
from support.web import PASSWORD, Visitor, mails_to, without_csrf

LIMITS = {
    "trusted_proxies": ["127.0.0.1", "::1"],
    "mails_per_address_per_hour": 2,
    "requests_per_client_per_hour": 8,
    "login_free_attempts": 5,
    "login_client_free_attempts": 3,
    "login_first_delay_seconds": 30,
}


@pytest.fixture
def node_overrides() -> dict[str, dict[str, object]]:
    return {"limits": LIMITS}


class Clock:
    """A clock the test moves by hand instead of waiting."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def behind_proxy(visitor: Visitor, client: str) -> Visitor:
    visitor.client.headers["X-Forwarded-For"] = f"10.9.9.9, {client}"
    return visitor


async def test_reset_mails_per_address_are_capped_and_look_the_same(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
    before = len(mails_to(node, "anna@example.org"))
    pages = {}
    for address, client in (
        ("anna@example.org", "198.51.100.1"),
        ("nobody@example.org", "198.51.100.2"),
    ):
        async with Visitor(node) as asker:
            behind_proxy(asker, client)
            answers = [
                await asker.submit("/password/forgotten", {"email": address}) for _ in range(6)
            ]
        assert [a.status_code for a in answers] == [200] * 6
        pages[address] = {without_csrf(a.text).replace(address, "ADDRESS") for a in answers}
    assert len(mails_to(node, "anna@example.org")) - before == LIMITS["mails_per_address_per_hour"]
    assert mails_to(node, "nobody@example.org") == []
    # Past the limit, a known address answers exactly like an unknown one.
    assert len(pages["anna@example.org"]) == 1
    assert pages["anna@example.org"] == pages["nobody@example.org"]


async def test_already_registered_mails_are_capped(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
    before = len(mails_to(node, "anna@example.org"))
    async with Visitor(node) as flooder:
        for _ in range(5):
            assert (await flooder.register("anna@example.org")).status_code == 200
    assert len(mails_to(node, "anna@example.org")) - before == LIMITS["mails_per_address_per_hour"]


async def test_a_client_asking_too_often_gets_429_and_another_does_not(node: RunningNode) -> None:
    async with Visitor(node, language="en") as flooder, Visitor(node) as neighbour:
        behind_proxy(flooder, "198.51.100.7")
        behind_proxy(neighbour, "203.0.113.9")
        for number in range(LIMITS["requests_per_client_per_hour"]):
            response = await flooder.submit(
                "/password/forgotten", {"email": f"a{number}@example.org"}
            )
            assert response.status_code == 200
        refused = await flooder.submit("/password/forgotten", {"email": "b@example.org"})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert "Too many requests" in refused.text
        refused = await flooder.register("c@example.org")
        assert refused.status_code == 429
        assert mails_to(node, "b@example.org") == [] and mails_to(node, "c@example.org") == []
        assert (await neighbour.register("c@example.org")).status_code == 200
    assert len(mails_to(node, "c@example.org")) == 1


async def test_wrong_passwords_slow_the_address_but_never_refuse_the_right_one(
    node: RunningNode,
) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
    async with Visitor(node, language="fr") as guesser:
        for number in range(5):
            # From several places, so that only the address counter is reached.
            behind_proxy(guesser, f"198.51.100.{20 + number}")
            wrong = await guesser.login("anna@example.org", "not the password")
            assert wrong.status_code == 400
    async with Visitor(node, language="fr") as anna:
        behind_proxy(anna, "203.0.113.20")
        early = await anna.login("anna@example.org", PASSWORD)
        assert early.status_code == 429
        assert 'id="f-password-error"' in early.text
        assert 0 < int(early.headers["Retry-After"]) <= LIMITS["login_first_delay_seconds"]
        # The delay passes (moved in the stored counter instead of waiting for it).
        async with node.app[appkeys.DATABASE].write() as session:
            await session.execute(update(LoginThrottle).values(locked_until=utcnow()))
        assert (await anna.login("anna@example.org", PASSWORD)).status_code == 303
    async with node.app[appkeys.DATABASE].write() as session:
        assert await session.get(LoginThrottle, "anna@example.org") is None


async def test_after_the_delay_the_right_password_logs_in(node: RunningNode) -> None:
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
    db, mailer = node.app[appkeys.DATABASE], node.app[appkeys.MAILER]
    clock = Clock()
    for number in range(5):
        result = await accounts.authenticate(
            db, mailer, "anna@example.org", "wrong", client=f"198.51.100.{number}", clock=clock
        )
        assert result.status == "failed"
    clock.advance(LIMITS["login_first_delay_seconds"] - 1)
    # Too early: not even the right password is looked at, and nothing is counted.
    early = await accounts.authenticate(
        db, mailer, "anna@example.org", PASSWORD, client="203.0.113.1", clock=clock
    )
    assert early.status == "wait" and early.locked_until is not None
    assert early.locked_until > clock()
    clock.advance(2)
    result = await accounts.authenticate(
        db, mailer, "anna@example.org", PASSWORD, client="203.0.113.1", clock=clock
    )
    assert result.status == "ok"


async def test_each_further_failure_doubles_the_delay(node: RunningNode) -> None:
    db, mailer = node.app[appkeys.DATABASE], node.app[appkeys.MAILER]
    clock = Clock()
    first = LIMITS["login_first_delay_seconds"]
    for number in range(6):
        result = await accounts.authenticate(
            db, mailer, "nobody@example.org", "wrong", client=f"198.51.100.{number}", clock=clock
        )
        assert result.status == "failed"
        if number == 4:
            clock.advance(first)
    assert result.status == "failed"
    clock.advance(first)
    waiting = await accounts.authenticate(
        db, mailer, "nobody@example.org", "wrong", client="198.51.100.99", clock=clock
    )
    assert waiting.status == "wait"
    clock.advance(first)
    result = await accounts.authenticate(
        db, mailer, "nobody@example.org", "wrong", client="198.51.100.99", clock=clock
    )
    assert result.status == "failed"


async def test_spraying_addresses_slows_that_client_only(node: RunningNode) -> None:
    async with Visitor(node, language="en") as sprayer, Visitor(node) as neighbour:
        behind_proxy(sprayer, "198.51.100.30")
        behind_proxy(neighbour, "203.0.113.30")
        for number in range(LIMITS["login_client_free_attempts"]):
            response = await sprayer.login(f"r{number}@example.org", "guess")
            assert response.status_code == 400
        slowed = await sprayer.login("fresh@example.org", "guess")
        assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
        assert (await neighbour.login("fresh@example.org", "guess")).status_code == 400


async def test_an_ipv6_client_is_counted_by_its_64_network(node: RunningNode) -> None:
    """A phone or a household gets a whole /64: a fresh address per request is still
    the same client; the neighbouring /64 is not."""
    async with Visitor(node, language="en") as rotating, Visitor(node) as neighbour:
        for number in range(LIMITS["requests_per_client_per_hour"]):
            behind_proxy(rotating, f"2001:db8:1:2::{number + 1:x}")
            response = await rotating.submit(
                "/password/forgotten", {"email": f"v6-{number}@example.org"}
            )
            assert response.status_code == 200
        behind_proxy(rotating, "2001:db8:1:2:ffff:ffff:ffff:fffe")
        refused = await rotating.submit("/password/forgotten", {"email": "x@example.org"})
        assert refused.status_code == 429
        behind_proxy(neighbour, "2001:db8:1:3::1")
        allowed = await neighbour.submit("/password/forgotten", {"email": "x@example.org"})
        assert allowed.status_code == 200


async def test_idle_counters_are_purged(node: RunningNode) -> None:
    db, mailer = node.app[appkeys.DATABASE], node.app[appkeys.MAILER]
    await accounts.authenticate(db, mailer, "nobody@example.org", "wrong", client="192.0.2.1")
    config = node.app[appkeys.CONFIG]
    result = await purge(db, config.retention, utcnow() + timedelta(hours=1))
    assert result.counters == 0
    result = await purge(db, config.retention, utcnow() + timedelta(days=2))
    assert result.counters == 2
    async with db.read() as session:
        assert await session.get(LoginThrottle, "nobody@example.org") is None


def test_the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    direct = LimitsSection()
    assert limits.client_address("198.51.100.1", "203.0.113.5", direct) == "198.51.100.1"
    proxied = LimitsSection(trusted_proxies=["10.0.0.1", "10.0.0.2"])
    # The left-most entries are written by the client and prove nothing.
    forwarded = "192.0.2.66, 203.0.113.5, 10.0.0.2"
    assert limits.client_address("10.0.0.1", forwarded, proxied) == "203.0.113.5"
    assert limits.client_address("10.0.0.1", None, proxied) == "10.0.0.1"
    assert limits.client_address("198.51.100.1", forwarded, proxied) == "198.51.100.1"


def test_ipv6_clients_are_counted_by_network_ipv4_by_address() -> None:
    direct = LimitsSection()
    assert limits.client_address("2001:db8:1:2:3:4:5:6", None, direct) == "2001:db8:1:2::/64"
    assert limits.client_address("2001:DB8:1:2::9", None, direct) == "2001:db8:1:2::/64"
    assert limits.client_address("::ffff:198.51.100.1", None, direct) == "198.51.100.1"
    assert limits.client_address("198.51.100.1", None, direct) == "198.51.100.1"
    proxied = LimitsSection(trusted_proxies=["::1"])
    assert limits.client_address("::1", "2001:db8::1", proxied) == "2001:db8::/64"
