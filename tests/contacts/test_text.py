"""Messages are shown as text: escaped, with only http(s) addresses turned into links
that carry rel="nofollow noopener ugc"."""

from __future__ import annotations

from web.text import linkify


def test_markup_is_shown_as_text() -> None:
    shown = str(linkify('<script>alert("x")</script> & <a href="https://evil.example">'))
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert shown.count("<a ") == 1  # only the address itself became a link
    assert 'href="https://evil.example&#34;' not in shown


def test_addresses_become_safe_links_and_punctuation_stays_outside() -> None:
    shown = str(linkify("Look: https://example.org/a?b=1&c=2. Or (http://x.example/y)!"))
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener ugc" '
        'target="_blank">https://example.org/a?b=1&amp;c=2</a>.' in shown
    )
    assert '(<a href="http://x.example/y" rel="nofollow noopener ugc"' in shown
    assert shown.endswith("</a>)!")


def test_other_schemes_are_not_links() -> None:
    for text in ("javascript:alert(1)", "data:text/html,hi", "ftp://x.example", "https://"):
        assert "<a " not in str(linkify(text))


def test_long_addresses_are_shortened_in_the_text_only() -> None:
    url = "https://example.org/" + "x" * 200
    shown = str(linkify(url))
    assert f'href="{url}"' in shown and "…</a>" in shown
