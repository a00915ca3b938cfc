"""The profile: a wizard the first time, one edit page afterwards.

The wizard keeps the answers of earlier steps in hidden fields and stores nothing
before the last step, so an abandoned wizard leaves no half profile behind. Both
pages save through ``node.profiles.profiles.save_profile``, the one place where a
profile changes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from matching.languages import load_languages
from matching.occupations import load_occupations
from matching.profile import CEFR_LEVELS, CHILD_AGE_BANDS, GRADE_BANDS
from matching.taxonomy import load_taxonomy
from matching.wire import MAX_INTERESTS
from node.models import Resident
from node.profiles import profiles
from node.runtime import appkeys
from node.runtime.i18n import N_, Translator
from node.vectors.appkeys import PUBLISHER
from web.forms.base import text
from web.forms.profile import (
    STEP_FIELDS,
    STEPS,
    ProfileForm,
    interest_counter,
    interest_filter,
    interest_step,
    values_from,
)
from web.keys import PAGE
from web.rendering import redirect, render
from web.routing import page
from web.visits.access import require_resident, resident_in

LEVEL_LABELS = {
    "A1": N_("A1 – beginner"),
    "A2": N_("A2 – elementary"),
    "B1": N_("B1 – intermediate"),
    "B2": N_("B2 – upper intermediate"),
    "C1": N_("C1 – advanced"),
    "C2": N_("C2 – proficient"),
    "native": N_("native language"),
}
STEP_TITLES = {
    "interests": N_("Interests"),
    "languages": N_("Languages"),
    "about": N_("About you"),
}


def _capitalised(label: str) -> str:
    return label[:1].upper() + label[1:]


def person_band_label(t: Translator, band: str, minimum_age: int | None) -> str:
    """A person's age band as offered: the band the minimum age falls into starts at
    the minimum age ("16–19 years" for the band 10–19 where one takes part from 16)."""
    shown = band.replace("-", "–")
    if minimum_age is not None and profiles.band_lower_age(band) < minimum_age:
        shown = f"{minimum_age}–{shown.split('–')[1]}"
    return t.gettext("%(band)s years") % {"band": shown}


def choices(t: Translator, kind: str, minimum_age: int | None = None) -> dict[str, Any]:
    """Everything the profile form offers, labelled in the visitor's language."""
    lang = t.language
    taxonomy = load_taxonomy()
    languages = load_languages()
    occupations = load_occupations()
    _ = t.gettext
    if kind == "person":
        age_bands = [
            (band, person_band_label(t, band, minimum_age))
            for band in profiles.age_bands_for(kind, minimum_age)
        ]
    elif kind == "school_class":
        age_bands = [
            (
                band,
                _("grades %(range)s") % {"range": band.removeprefix("grades-").replace("-", "–")},
            )
            for band in GRADE_BANDS
        ]
    else:
        age_bands = []
    return {
        "categories": [
            (
                category,
                _capitalised(taxonomy.label(category, lang)),
                sorted(
                    (
                        (code, _capitalised(taxonomy.label(code, lang)))
                        for code in taxonomy.children(category)
                    ),
                    key=lambda item: item[1].casefold(),
                ),
            )
            for category in sorted(
                taxonomy.categories, key=lambda code: taxonomy.label(code, lang).casefold()
            )
        ],
        "languages": sorted(
            ((code, _capitalised(languages.label(code, lang))) for code in languages.codes),
            key=lambda item: item[1].casefold(),
        ),
        "levels": [(level, _(LEVEL_LABELS[level])) for level in CEFR_LEVELS],
        "occupations": [
            (
                _capitalised(occupations.label(major, lang)),
                [
                    (code, _capitalised(occupations.label(code, lang)))
                    for code in occupations.sub_major_groups(major)
                ],
            )
            for major in occupations.major_groups
            if occupations.sub_major_groups(major)
        ],
        "age_bands": age_bands,
        "children_age_bands": [
            (band, _("%(band)s years") % {"band": band.replace("-", "–")})
            for band in CHILD_AGE_BANDS
        ],
    }


def carried(form: ProfileForm, step: str) -> list[tuple[str, str]]:
    """Hidden fields that carry the answers of the other steps along."""
    values = form.values
    shown = set(STEP_FIELDS[step])
    pairs: list[tuple[str, str]] = []
    if "interests" not in shown:
        pairs += [("interests", code) for code in values["interests"]]
    if "languages" not in shown:
        for row, (code, level) in enumerate(values["spoken"], start=1):
            pairs += [(f"spoken-{row}-language", code), (f"spoken-{row}-level", level)]
    if "learning" not in shown:
        pairs += [(f"learning-{row}", code) for row, code in enumerate(values["learning"], 1)]
    if "about" not in shown:
        pairs += [
            ("occupation", values["occupation"]),
            ("age_band", values["age_band"]),
            ("about", values["about"]),
        ]
        pairs += [("children_age_bands", band) for band in values["children_age_bands"]]
        pairs += [(name, "1") for name in ("show_about", "paused") if values[name]]
    return pairs


def _matches(t: Translator, count: int) -> str:
    """The filter's result line with ``{count}`` and ``{query}`` for the script to fill."""
    text = t.ngettext(
        "%(count)s interest matches “%(query)s”.", "%(count)s interests match “%(query)s”.", count
    )
    return text % {"count": "{count}", "query": "{query}"}


def _interest_context(
    t: Translator, form: ProfileForm, offered: dict[str, Any], query: str
) -> dict[str, Any]:
    step = interest_step(offered["categories"], form.values["interests"], query)
    return {
        "interest_step": step,
        "interest_counter": interest_counter(t, len(step.chosen)),
        "interest_counter_one": interest_counter(t, 1, "{count}"),
        "interest_counter_other": interest_counter(t, 2, "{count}"),
        "interest_matches_one": _matches(t, 1),
        "interest_matches_other": _matches(t, 2),
    }


def _context(
    t: Translator, resident: Resident, form: ProfileForm, interest_query: str = ""
) -> dict[str, Any]:
    _ = t.gettext
    minimum_age = form.minimum_age
    offered = choices(t, resident.kind, minimum_age)
    age_band_label = (
        _("Grades of your class") if resident.kind == "school_class" else _("Your age group")
    )
    return {
        "form": form,
        "kind": resident.kind,
        "choices": offered,
        **_interest_context(t, form, offered, interest_query),
        "age_band_label": age_band_label,
        "about_max": profiles.MAX_ABOUT_LENGTH,
        "interests_hint": _(
            "Choose up to %(max)s. Shared interests count most when the twin is chosen."
        )
        % {"max": MAX_INTERESTS},
        "languages_hint": _(
            "At least one. Contact works best in a language you both speak well, or as a "
            "tandem where each teaches the other their language."
        ),
        "learning_hint": _("Optional: languages you would like to practise."),
        "children_hint": _("Optional: helps to find families with children of a similar age."),
        "occupation_hint": _("Only the broad field is compared, never your exact job."),
        "about_hint": _(
            "Up to %(max)s characters. Never sent to the partner city's matching; shown only "
            "to people you are in contact with, and only if you tick the box below."
        )
        % {"max": profiles.MAX_ABOUT_LENGTH},
    }


def _form(request: web.Request, resident: Resident) -> ProfileForm:
    """The profile form for this resident and this node's minimum age."""
    minimum_age = request.app[appkeys.CONFIG].node.minimum_age
    return ProfileForm(request[PAGE].translator, resident.kind, minimum_age)


async def _load(request: web.Request) -> tuple[Resident, profiles.ProfileData, bool]:
    resident = require_resident(request)
    async with request.app[appkeys.DATABASE].read() as session:
        stored = await profiles.get_profile(session, resident)
    completed = bool(stored and stored.completed)
    return resident, profiles.profile_data(stored), completed


async def _wizard_page(
    request: web.Request,
    resident: Resident,
    form: ProfileForm,
    step: str,
    status: int = 200,
    interest_query: str = "",
) -> web.Response:
    t = request[PAGE].translator
    context = _context(t, resident, form, interest_query)
    context.update(
        step=step,
        step_number=STEPS.index(step) + 1,
        step_count=len(STEPS),
        step_title=t.gettext(STEP_TITLES[step]),
        carried=carried(form, step),
    )
    return await render(request, "profile/wizard.html", context, status=status)


@page
async def wizard_form(request: web.Request) -> web.StreamResponse:
    resident, data, completed = await _load(request)
    if completed:
        return redirect("/profile")
    form = _form(request, resident)
    form.values = values_from(data)
    return await _wizard_page(request, resident, form, STEPS[0])


@page
async def wizard(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    post = await request.post()
    form = _form(request, resident).parse(post)
    step = text(post, "step")
    step = step if step in STEPS else STEPS[0]
    action = text(post, "action")
    index = STEPS.index(step)
    if action == "filter":  # the interest list narrowed without script; nothing checked
        return await _wizard_page(
            request, resident, form, step, interest_query=interest_filter(post)
        )
    if action == "back":
        return await _wizard_page(request, resident, form, STEPS[max(index - 1, 0)])
    if action != "finish" or index < len(STEPS) - 1:
        form.check(only=STEP_FIELDS[step])
        if not form.valid:
            return await _wizard_page(request, resident, form, step, status=400)
        if index < len(STEPS) - 1:
            return await _wizard_page(request, resident, form, STEPS[index + 1])
    form.check()
    if not form.valid:
        failing = form.first_step_in_error() or step
        return await _wizard_page(request, resident, form, failing, status=400)
    await _save(request, resident, form)
    return redirect("/dashboard?welcome=1")


async def _save(request: web.Request, resident: Resident, form: ProfileForm) -> None:
    async with request.app[appkeys.DATABASE].write() as session:
        attached = await resident_in(session, resident)
        await profiles.save_profile(
            session,
            attached,
            form.data,
            request.app[PUBLISHER],
            minimum_age=request.app[appkeys.CONFIG].node.minimum_age,
        )


@page
async def edit_form(request: web.Request) -> web.StreamResponse:
    resident, data, completed = await _load(request)
    if not completed:
        return redirect("/profile/wizard")
    form = _form(request, resident)
    form.values = values_from(data)
    saved = "saved" in request.query
    context = _context(request[PAGE].translator, resident, form) | {"saved": saved}
    return await render(request, "profile/edit.html", context)


@page
async def edit(request: web.Request) -> web.StreamResponse:
    resident = require_resident(request)
    t = request[PAGE].translator
    post = await request.post()
    form = _form(request, resident).parse(post)
    if text(post, "action") == "filter":  # the interest list narrowed; nothing saved
        context = _context(t, resident, form, interest_filter(post)) | {"saved": False}
        return await render(request, "profile/edit.html", context)
    form.check()
    if not form.valid:
        context = _context(t, resident, form) | {"saved": False}
        return await render(request, "profile/edit.html", context, status=400)
    await _save(request, resident, form)
    return redirect("/profile?saved=1")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/profile/wizard", wizard_form, name="profile_wizard")
    app.router.add_post("/profile/wizard", wizard)
    app.router.add_get("/profile", edit_form, name="profile")
    app.router.add_post("/profile", edit)
