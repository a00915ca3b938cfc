"""No input produces a 500: random form fields, values and bodies against every page.

The node runs in a thread with its own event loop so that Hypothesis can drive it
from an ordinary test function with a plain HTTP client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.databases import scratch_database
from support.mail import mail_settled
from support.nodes import RunningNode, prepare_node
from support.web import PASSWORD, csrf_token

T = TypeVar("T")

POST_PATHS = [
    "/register",
    "/login",
    "/language",
    "/verify",
    "/password/forgotten",
    "/password/reset",
    "/profile",
    "/profile/wizard",
    "/settings/preferences",
    "/settings/delete",
]
GET_PATHS = [
    "/",
    "/register",
    "/login",
    "/verify",
    "/password/reset",
    "/profile",
    "/profile/wizard",
    "/dashboard",
    "/settings",
    "/settings/export",
]
FIELDS = [
    "email",
    "password",
    "display_name",
    "kind",
    "age_confirmed",
    "holder_confirmed",
    "next",
    "language",
    "token",
    "step",
    "action",
    "interests",
    "occupation",
    "spoken-1-language",
    "spoken-1-level",
    "spoken-9-level",
    "learning-1",
    "age_band",
    "children_age_bands",
    "about",
    "show_about",
    "paused",
    "notify_messages",
    "confirm",
]
VALUES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            "de",
            "native",
            "sport.cycling",
            "person",
            "family",
            "finish",
            "back",
            "next",
            "about",
            "grades-1-4",
            "30-39",
            "23",
            "//evil.example",
            "/\\x",
            "\x00",
            "%(name)s",
            "{{ 7*7 }}",
            "<script>",
            "😀" * 50,
            "x" * 3000,
        ]
    ),
)
FORMS = st.lists(
    st.tuples(st.one_of(st.sampled_from(FIELDS), st.text(max_size=20)), VALUES), max_size=25
)


class ThreadedNode:
    """A node served from a background event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)

    def close(self) -> None:
        self.run(_cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


async def _cancel_the_rest() -> None:
    current = asyncio.current_task()
    rest = [task for task in asyncio.all_tasks() if task is not current]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningNode, httpx.Client]]:
    directory: Path = tmp_path_factory.mktemp("garbage")
    threaded = ThreadedNode()
    stack = AsyncExitStack()
    url = threaded.run(stack.enter_async_context(scratch_database(directory)))
    node = threaded.run(prepare_node(directory, "oldenburg", url))
    threaded.run(node.start(run_workers=False))
    client = httpx.Client(base_url=node.url, follow_redirects=False, timeout=30)
    try:
        _log_in(node, client, lambda: threaded.run(mail_settled(node)))
        yield node, client
    finally:
        client.close()
        threaded.run(node.stop())
        threaded.run(stack.aclose())
        threaded.close()


def _log_in(node: RunningNode, client: httpx.Client, mail_sent: Callable[[], None]) -> None:
    """A confirmed, logged-in resident, so that the resident pages are reached too."""
    from support.web import last_mail_to, link_in

    token = csrf_token(client.get("/register").text)
    client.post(
        "/register",
        data={
            "csrf_token": token,
            "email": "anna@example.org",
            "password": PASSWORD,
            "display_name": "Anna",
            "kind": "family",
            "holder_confirmed": "1",
        },
    )
    mail_sent()
    page = client.get(link_in(last_mail_to(node, "anna@example.org"), "/verify"))
    verify_token = page.text.split('name="token" value="')[1].split('"')[0]
    client.post("/verify", data={"csrf_token": csrf_token(page.text), "token": verify_token})
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/login", data={"csrf_token": token, "email": "anna@example.org", "password": PASSWORD}
    )
    assert response.status_code == 303


def _token(client: httpx.Client) -> str:
    return csrf_token(client.get("/settings").text)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(POST_PATHS), form=FORMS, with_token=st.booleans())
def test_random_forms_never_fail(
    served: tuple[RunningNode, httpx.Client],
    path: str,
    form: list[tuple[str, str]],
    with_token: bool,
) -> None:
    _, client = served
    data = list(form)
    if with_token:
        data.append(("csrf_token", _token(client)))
    response = client.post(
        path,
        content=urlencode(data).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code < 500, (path, data, response.text[:500])
    assert "Traceback" not in response.text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(GET_PATHS),
    query=st.dictionaries(
        st.sampled_from(["token", "next", "saved", "x"]), st.text(max_size=200), max_size=3
    ),
    language=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
def test_random_queries_and_headers_never_fail(
    served: tuple[RunningNode, httpx.Client], path: str, query: dict[str, str], language: str
) -> None:
    _, client = served
    headers = {"Accept-Language": language.strip()} if language.strip() else {}
    response = client.get(path, params=query, headers=headers)
    assert response.status_code < 500, (path, query, response.text[:500])


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-www-form-urlencoded", b"%ff%fe=%00&&&==&csrf_token=%ZZ"),
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00garbage"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\n"),
        ("multipart/form-data", b"no boundary at all"),
        ("application/json", b'{"csrf_token": "x"}'),
        ("text/plain", b"\x00" * 100),
    ],
)
def test_malformed_bodies_never_fail(
    served: tuple[RunningNode, httpx.Client], content_type: str, payload: bytes
) -> None:
    _, client = served
    for path in POST_PATHS:
        response = client.post(path, content=payload, headers={"Content-Type": content_type})
        assert response.status_code < 500, (path, content_type, response.text[:300])


def test_a_file_upload_where_text_is_expected(served: tuple[RunningNode, httpx.Client]) -> None:
    _, client = served
    token = _token(client)
    response = client.post(
        "/profile",
        data={"csrf_token": token},
        files={"about": ("about.txt", b"text in a file"), "interests": ("x", b"sport.cycling")},
    )
    assert response.status_code == 400
