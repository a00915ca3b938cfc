"""The interest step of the profile, without a browser: interests grouped by category in
collapsible sections, the chosen ones first with a counter, and the filter box working
through a round trip (hidden interests stay in the form, nothing is saved). The limit
of twenty interests holds whatever the page sends.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select

from matching.taxonomy import load_taxonomy
from matching.wire import MAX_INTERESTS
from node.models import Profile
from node.runtime import appkeys
from support.nodes import RunningNode
from support.web import PROFILE_FORM, Visitor, csrf_token

ITEM = re.compile(r'<li( hidden)?>\s*<input type="checkbox" id="i-([a-z_.0-9]+)" name="interests"')
SECTION = re.compile(
    r'<details class="interest-group" open( hidden)?>\s*<summary id="c-([a-z_]+)">'
)
CHOSEN = re.compile(r'<ul class="interest-chosen__list"[^>]*>(.*?)</ul>', re.S)


def shown(html: str) -> set[str]:
    return {code for hidden, code in ITEM.findall(html) if not hidden}


def every(html: str) -> set[str]:
    return {code for _hidden, code in ITEM.findall(html)}


def chosen(html: str) -> list[str]:
    found = CHOSEN.search(html)
    assert found
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def capitalised(label: str) -> str:
    return label[:1].upper() + label[1:]


def folded(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matching(query: str, lang: str) -> set[str]:
    """What the filter should leave: the label or the category's label holds the text."""
    taxonomy = load_taxonomy()
    needle = folded(query)
    return {
        code
        for code in taxonomy.interests
        if needle in folded(taxonomy.label(code, lang))
        or needle in folded(taxonomy.label(taxonomy.category(code), lang))
    }


async def profiles(node: RunningNode) -> int:
    assert node.app is not None
    async with node.app[appkeys.DATABASE].read() as session:
        return int(await session.scalar(select(func.count()).select_from(Profile)) or 0)


async def test_grouped_sections_chosen_first_and_a_counter(node: RunningNode) -> None:
    taxonomy = load_taxonomy()
    async with Visitor(node, "en") as anna:
        await anna.signed_up("anna@example.org")
        first = await anna.get("/profile/wizard")
        assert first.status_code == 200
        sections = SECTION.findall(first.text)
        assert {code for _hidden, code in sections} == set(taxonomy.categories)
        assert not any(hidden for hidden, _code in sections)
        assert every(first.text) == set(taxonomy.interests) == shown(first.text)
        assert "0 of at most 20 chosen" in first.text
        assert chosen(first.text) == []
        assert '<script src="/static/interests.js" defer></script>' in first.text
        assert '<html lang="en">' in first.text
        assert "script-src 'self'" in first.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in first.headers["Content-Security-Policy"]

        picked = ["sport.cycling", "music_making.choir", "food.baking"]
        data = {"step": "interests", "action": "next", "interests": picked}
        token = csrf_token(first.text)
        onwards = await anna.client.post("/profile/wizard", data={**data, "csrf_token": token})
        assert onwards.status_code == 200 and 'name="spoken-1-language"' in onwards.text
        back = await anna.client.post(
            "/profile/wizard",
            data={"step": "languages", "action": "back", "interests": picked, "csrf_token": token},
        )
        assert "3 of at most 20 chosen" in back.text
        labels = sorted(capitalised(taxonomy.label(code, "en")) for code in picked)
        assert sorted(chosen(back.text)) == labels
        for code in picked:
            assert f'value="{code}" checked' in back.text

    async with Visitor(node, "fr") as claire:
        await claire.signed_up("claire@example.org")
        page = await claire.get("/profile/wizard")
        assert '<html lang="fr">' in page.text
        assert "0 choisi sur 20 au maximum" in page.text


async def test_the_filter_narrows_the_list_without_script(node: RunningNode) -> None:
    async with Visitor(node, "en") as anna:
        await anna.signed_up("anna@example.org")
        token = await anna.token("/profile/wizard")
        picked = ["sport.cycling", "music_making.choir"]
        for query in ("cycl", "MUSIC", "  choir  "):
            data = {
                "step": "interests",
                "action": "filter",
                "interests": picked,
                "interest_filter": query,
                "csrf_token": token,
            }
            page = await anna.client.post("/profile/wizard", data=data)
            assert page.status_code == 200, query
            expected = matching(query.strip(), "en")
            assert expected and shown(page.text) == expected, query
            # Everything is still in the form, the chosen ones ticked even when hidden.
            assert every(page.text) == set(load_taxonomy().interests)
            for code in picked:
                assert f'value="{code}" checked' in page.text
            assert "2 of at most 20 chosen" in page.text
            count = len(expected)
            worded = "interest matches" if count == 1 else "interests match"
            assert f"{count} {worded} “{query.strip()}”" in page.text
            assert f'value="{query.strip()}"' in page.text
            # Categories without a match are hidden; the page stays on the first step.
            hidden = {code for hidden, code in SECTION.findall(page.text) if hidden}
            categories = {load_taxonomy().category(code) for code in expected}
            assert hidden == set(load_taxonomy().categories) - categories
            assert 'name="step" value="interests"' in page.text
        nothing = await anna.client.post(
            "/profile/wizard",
            data={
                "step": "interests",
                "action": "filter",
                "interest_filter": "zzzz",
                "csrf_token": token,
            },
        )
        assert nothing.status_code == 200 and shown(nothing.text) == set()
        assert "0 interests match “zzzz”" in nothing.text
        hostile = await anna.client.post(
            "/profile/wizard",
            data={
                "step": "interests",
                "action": "filter",
                "interest_filter": "<b>\x00" + "x" * 5000,
                "csrf_token": token,
            },
        )
        assert hostile.status_code == 200 and "<b>" not in hostile.text
        assert shown(hostile.text) == set(load_taxonomy().interests)
    assert await profiles(node) == 0

    async with Visitor(node, "fr") as claire:
        await claire.signed_up("claire@example.org")
        token = await claire.token("/profile/wizard")
        page = await claire.client.post(
            "/profile/wizard",
            data={
                "step": "interests",
                "action": "filter",
                "interest_filter": "velo",
                "csrf_token": token,
            },
        )
        expected = matching("velo", "fr")
        assert "sport.cycling" in expected and shown(page.text) == expected


async def test_the_edit_page_filters_without_saving_and_twenty_is_the_limit(
    node: RunningNode,
) -> None:
    taxonomy = load_taxonomy()
    async with Visitor(node, "en") as anna:
        await anna.with_profile("anna@example.org")
        token = await anna.token("/profile")
        filtered = await anna.client.post(
            "/profile",
            data={
                **PROFILE_FORM,
                "interests": ["food.baking"],
                "action": "filter",
                "interest_filter": "bak",
                "csrf_token": token,
            },
        )
        assert filtered.status_code == 200
        assert shown(filtered.text) == matching("bak", "en")
        assert "1 of at most 20 chosen" in filtered.text
        stored = await anna.get("/profile")
        assert "2 of at most 20 chosen" in stored.text  # the filter saved nothing
        for code in PROFILE_FORM["interests"]:
            assert f'value="{code}" checked' in stored.text

        too_many = list(taxonomy.interests[: MAX_INTERESTS + 1])
        refused = await anna.client.post(
            "/profile", data={**PROFILE_FORM, "interests": too_many, "csrf_token": token}
        )
        assert refused.status_code == 400
        assert "Choose at most 20 interests." in refused.text
        assert "21 of at most 20 chosen" in refused.text
        wizard = await anna.client.post(
            "/profile/wizard",
            data={
                "step": "interests",
                "action": "next",
                "interests": too_many,
                "csrf_token": token,
            },
        )
        assert wizard.status_code == 400 and "Choose at most 20 interests." in wizard.text
        exactly = await anna.client.post(
            "/profile",
            data={**PROFILE_FORM, "interests": too_many[:MAX_INTERESTS], "csrf_token": token},
        )
        assert exactly.status_code == 303
        assert "20 of at most 20 chosen" in (await anna.get("/profile")).text
    assert await profiles(node) == 1


async def test_the_script_is_served_as_our_own(node: RunningNode) -> None:
    async with Visitor(node) as visitor:
        script = await visitor.get("/static/interests.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["Content-Type"]
        assert script.headers["X-Content-Type-Options"] == "nosniff"
        assert "addEventListener" in script.text
