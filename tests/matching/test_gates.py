"""The gates decide who may be suggested at all; both nodes must agree on every case."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from matching.gates import (
    DEFAULT_KIND_GATES,
    kinds_fit,
    language_gate,
    tandem_pairs,
    usable_languages,
)
from matching.profile import CEFR_LEVELS, KINDS, InterestProfile


def resident(
    languages: dict[str, str], learning: tuple[str, ...] = (), kind: str = "person"
) -> InterestProfile:
    return InterestProfile(
        id=f"https://example.test/p/{sorted(languages.items())}{learning}",
        kind=kind,  # type: ignore[arg-type]
        languages=languages,
        learning=learning,
    )


def test_each_kind_fits_only_itself_by_default() -> None:
    for a in KINDS:
        for b in KINDS:
            assert kinds_fit(a, b, DEFAULT_KIND_GATES) == (a == b)


def test_configured_kind_gates_must_admit_both_ways() -> None:
    both_ways = {"person": frozenset({"person", "family"}), "family": frozenset({"person"})}
    assert kinds_fit("person", "family", both_ways)
    assert kinds_fit("family", "person", both_ways)
    one_way = {"person": frozenset({"family"}), "family": frozenset()}
    assert not kinds_fit("person", "family", one_way)
    assert not kinds_fit("family", "person", one_way)


def test_common_language_at_b1_passes() -> None:
    a = resident({"de": "native", "en": "B1"})
    b = resident({"fr": "native", "en": "C1"})
    assert usable_languages(a, b) == ("en",)
    assert language_gate(a, b)


def test_a2_only_fails() -> None:
    a = resident({"de": "native", "en": "A2"})
    b = resident({"fr": "native", "en": "A2"})
    assert usable_languages(a, b) == ()
    assert tandem_pairs(a, b) == ()
    assert not language_gate(a, b)


def test_b1_on_one_side_only_fails() -> None:
    a = resident({"de": "native", "en": "B2"})
    b = resident({"fr": "native", "en": "A2"})
    assert not language_gate(a, b)


def test_native_on_both_sides_is_usable() -> None:
    a = resident({"de": "native"})
    b = resident({"de": "native", "fr": "native"})
    assert usable_languages(a, b) == ("de",)
    assert language_gate(a, b)


def test_tandem_passes_without_a_common_language() -> None:
    a = resident({"de": "native", "fr": "A1"}, learning=("fr",))
    b = resident({"fr": "native", "de": "A2"}, learning=("de",))
    assert usable_languages(a, b) == ()
    assert tandem_pairs(a, b) == (("de", "fr"),)
    assert tandem_pairs(b, a) == (("fr", "de"),)
    assert language_gate(a, b)


def test_one_sided_tandem_fails() -> None:
    a = resident({"de": "native"}, learning=("fr",))
    b = resident({"fr": "native"})
    assert tandem_pairs(a, b) == ()
    assert not language_gate(a, b)


def test_languages_and_tandems_are_sorted() -> None:
    a = resident({"nl": "C1", "de": "native", "en": "B2"}, learning=("it", "fr"))
    b = resident({"en": "native", "nl": "B1", "fr": "native", "it": "native"}, ("de",))
    assert usable_languages(a, b) == ("en", "nl")
    assert tandem_pairs(a, b) == (("de", "fr"), ("de", "it"))


languages = st.dictionaries(
    st.sampled_from(["de", "fr", "en", "nl"]), st.sampled_from(CEFR_LEVELS), max_size=4
)
learning = st.lists(st.sampled_from(["de", "fr", "en", "nl"]), unique=True, max_size=2)


@given(languages, learning, languages, learning)
def test_language_gate_is_symmetric(
    la: dict[str, str], ea: list[str], lb: dict[str, str], eb: list[str]
) -> None:
    a = resident(la, tuple(sorted(ea)))
    b = resident(lb, tuple(sorted(eb)))
    assert language_gate(a, b) == language_gate(b, a)
    assert usable_languages(a, b) == usable_languages(b, a)
    assert tandem_pairs(b, a) == tuple(sorted((y, x) for x, y in tandem_pairs(a, b)))


def test_wire_levels_pass_the_gates_as_their_cefr_levels_do() -> None:
    a = resident({"de": "native", "en": "fluent"}, learning=("fr",))
    b = resident({"fr": "native", "en": "fluent"}, learning=("de",))
    assert usable_languages(a, b) == ("en",)
    assert tandem_pairs(a, b) == (("de", "fr"),)
    basic = resident({"de": "native", "en": "basic"})
    assert not language_gate(basic, resident({"fr": "native", "en": "basic"}))
    assert language_gate(resident({"en": "B1"}), resident({"en": "fluent"}))
