"""Whom an activity must be for: the receiver's authorities and actors, and the
addressing rule (``to``, ``cc``, ``audience``)."""

from __future__ import annotations

from typing import Any

import pytest

from federation.activities import ActivityError, check_addressed, parse_activity
from federation.inbox import Receiver

HERE = Receiver(scheme="https", authorities=("city.example", "www.city.example:8443"))


@pytest.mark.parametrize(
    ("authority", "ours"),
    [
        ("city.example", True),
        ("CITY.example:443", True),
        ("www.city.example:8443", True),
        ("www.city.example", False),
        ("city.example:8443", False),
        ("other.example", False),
    ],
)
def test_authorities(authority: str, ours: bool) -> None:
    assert HERE.answers_as(authority) is ours


@pytest.mark.parametrize(
    ("url", "ours"),
    [
        ("https://city.example/actor", True),
        ("https://city.example:443/actor", True),
        ("https://www.city.example:8443/p/abc", True),
        ("https://city.example/p/", False),
        ("https://city.example/p/abc/inbox", False),
        ("https://city.example/actor#main-key", False),
        ("https://city.example/inbox", False),
        ("http://city.example/actor", False),
        ("https://other.example/actor", False),
        ("not a url", False),
    ],
)
def test_addressees(url: str, ours: bool) -> None:
    assert HERE.addresses(url) is ours


def test_a_receiver_needs_an_authority() -> None:
    with pytest.raises(ValueError, match="at least one authority"):
        Receiver(scheme="https", authorities=())


def _activity(**addressing: Any) -> dict[str, Any]:
    return {
        "id": "https://peer.example/activities/1",
        "type": "Create",
        "actor": "https://peer.example/actor",
        "object": {"type": "Note"},
        **addressing,
    }


@pytest.mark.parametrize(
    "addressing",
    [
        {"to": "https://city.example/actor"},
        {"to": [{"id": "https://city.example/p/abc"}]},
        {"to": [], "cc": ["https://city.example/actor"]},
        {"audience": "https://city.example/actor"},
    ],
)
def test_addressed_here(addressing: dict[str, Any]) -> None:
    check_addressed(parse_activity(_activity(**addressing)), HERE.addresses)


@pytest.mark.parametrize(
    ("addressing", "reason"),
    [
        ({}, "names no addressee"),
        ({"to": ["https://peer.example/actor"]}, "it names https://peer.example/actor"),
        ({"bcc": ["https://city.example/actor"]}, "names no addressee"),
    ],
)
def test_not_addressed_here_is_403(addressing: dict[str, Any], reason: str) -> None:
    with pytest.raises(ActivityError) as refused:
        check_addressed(parse_activity(_activity(**addressing)), HERE.addresses)
    assert refused.value.status == 403
    assert reason in refused.value.reason


def test_malformed_cc_is_400() -> None:
    with pytest.raises(ActivityError, match="cc must be"):
        parse_activity(_activity(to="https://city.example/actor", cc=[5]))
