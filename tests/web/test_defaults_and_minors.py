"""Defaults and minors over real HTTP: showing the about-text is never pre-ticked, a
person chooses only age groups from the node's minimum age upwards, and an adult
declares holding the account of a family, club or school class (recorded)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from node.models import Profile, Resident
from node.profiles.profiles import ProfileData
from node.runtime import appkeys
from support.nodes import RunningNode
from support.web import PASSWORD, PROFILE_FORM, Visitor

SHOW_ABOUT = re.compile(
    r'<input id="f-show_about" name="show_about" type="checkbox" value="1"([^>]*)>'
)
AGE_OPTION = re.compile(r'<option value="(10-19|20-29)"[^>]*>([^<]*)</option>')


async def _resident(node: RunningNode, email: str) -> tuple[Resident, Profile | None]:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        resident = await session.scalar(select(Resident).where(Resident.email == email))
        assert resident is not None
        return resident, await session.get(Profile, resident.id)


def _show_about_ticked(html: str) -> bool:
    found = SHOW_ABOUT.search(html)
    assert found, "the page has no show_about checkbox"
    return "checked" in found.group(1)


async def test_show_about_is_unticked_unless_the_resident_ticks_it(node: RunningNode) -> None:
    assert ProfileData().show_about is False
    without_show = {k: v for k, v in PROFILE_FORM.items() if k != "show_about"}
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        step = await anna.submit(
            "/profile/wizard",
            {"step": "interests", "action": "next", "interests": PROFILE_FORM["interests"]},
        )
        assert step.status_code == 200
        step = await anna.submit("/profile/wizard", {**without_show, "step": "languages"})
        assert step.status_code == 200 and 'value="about"' in step.text
        assert not _show_about_ticked(step.text)
        done = await anna.submit(
            "/profile/wizard", {**without_show, "step": "about", "action": "finish"}
        )
        assert done.status_code == 303
        assert not _show_about_ticked((await anna.get("/profile")).text)
    _, profile = await _resident(node, "anna@example.org")
    assert profile is not None and profile.show_about is False

    # Pausing before any profile exists creates one: not shown either.
    async with Visitor(node) as bert:
        await bert.signed_up("bert@example.org")
        paused = await bert.submit(
            "/settings/preferences", {"language": "de", "paused": "1"}, page="/settings"
        )
        assert paused.status_code == 303
    _, profile = await _resident(node, "bert@example.org")
    assert profile is not None and profile.show_about is False


async def test_the_band_the_minimum_age_falls_into_starts_at_it(node: RunningNode) -> None:
    assert node.config.node.minimum_age == 16
    async with Visitor(node) as anna:
        await anna.signed_up("anna@example.org")
        page = await anna.get("/profile/wizard")
        offered = await anna.submit("/profile/wizard", {**PROFILE_FORM, "step": "languages"})
        options = dict(AGE_OPTION.findall(offered.text))
        assert page.status_code == 200
        assert options == {"10-19": "16–19 Jahre", "20-29": "20–29 Jahre"}
        saved = await anna.submit(
            "/profile", {**PROFILE_FORM, "age_band": "10-19"}, page="/profile/wizard"
        )
        assert saved.status_code == 303
    _, profile = await _resident(node, "anna@example.org")
    assert profile is not None and profile.age_band == "10-19"


@pytest.mark.parametrize("node_overrides", [{"node": {"minimum_age": 21}}])
@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("de", "Mindestalter von 21"),
        ("fr", "minimum de 21 ans"),
        ("en", "minimum age of 21"),
    ],
)
async def test_a_band_below_the_minimum_age_is_neither_offered_nor_accepted(
    node: RunningNode, language: str, reason: str
) -> None:
    async with Visitor(node, language) as anna:
        await anna.signed_up("anna@example.org")
        offered = await anna.submit("/profile/wizard", {**PROFILE_FORM, "step": "languages"})
        assert offered.status_code == 200
        values = {value for value, _label in AGE_OPTION.findall(offered.text)}
        assert values == {"20-29"}
        refused = await anna.submit(
            "/profile", {**PROFILE_FORM, "age_band": "10-19"}, page="/profile/wizard"
        )
        assert refused.status_code == 400
        assert reason in refused.text
    _, profile = await _resident(node, "anna@example.org")
    assert profile is None


@pytest.mark.parametrize(
    ("language", "explained", "refusal"),
    [
        ("de", "Das ist das Mindestalter in Oldenburg", "die das Konto führt."),
        ("fr", "minimum à Oldenburg", "qui gère le compte."),
        ("en", "that is the minimum age in Oldenburg", "teacher) who holds the account."),
    ],
)
async def test_families_and_classes_declare_an_adult_holds_the_account(
    node: RunningNode, language: str, explained: str, refusal: str
) -> None:
    async with Visitor(node, language) as visitor:
        page = await visitor.get("/register")
        assert page.status_code == 200 and explained in page.text
        assert 'id="f-holder_confirmed"' in page.text
        for kind in ("family", "school_class"):
            refused = await visitor.submit(
                "/register",
                {
                    "email": f"{kind}@example.org",
                    "password": PASSWORD,
                    "display_name": "Klasse 7b",
                    "kind": kind,
                },
            )
            assert refused.status_code == 400 and refusal in refused.text
        assert (await visitor.register("class@example.org", kind="school_class")).status_code == 200
        assert (await visitor.register("solo@example.org")).status_code == 200
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        rows = dict(
            (await session.execute(select(Resident.email, Resident.adult_declared_at))).all()
        )
    assert set(rows) == {"class@example.org", "solo@example.org"}
    assert rows["class@example.org"] is not None and rows["solo@example.org"] is None
