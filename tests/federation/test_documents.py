"""Actor, WebFinger and NodeInfo documents, and content negotiation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation.documents import (
    ACTIVITY_JSON,
    JRD_JSON,
    LD_JSON_AS,
    NODEINFO_JSON,
    accepts_activity_json,
    actor_document,
    nodeinfo_document,
    nodeinfo_links,
    webfinger_document,
)
from federation.keys import (
    ed25519_multikey,
    fingerprint,
    key_id_suffix,
    load_public_key_pem,
    parse_multikey,
    public_key_pem,
)


def test_actor_document(
    node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    pem = public_key_pem(node_rsa_key)
    actor = actor_document(
        base_url="https://meinzwilling.oldenburg.example/",
        slug="oldenburg",
        city_name="Oldenburg",
        rsa_public_pem=pem,
        ed25519_public_key=node_ed25519_key.public_key(),
    )
    base = "https://meinzwilling.oldenburg.example"
    assert actor["@context"] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        "https://w3id.org/security/data-integrity/v1",
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert actor["id"] == f"{base}/actor"
    assert actor["type"] == "Service"
    assert actor["preferredUsername"] == "oldenburg"
    assert actor["name"] == "Oldenburg"
    assert actor["inbox"] == f"{base}/inbox"
    assert actor["outbox"] == f"{base}/outbox"
    assert actor["endpoints"] == {"sharedInbox": f"{base}/inbox"}
    assert actor["publicKey"] == {
        "id": f"{base}/actor#main-key-{key_id_suffix(node_rsa_key)}",
        "owner": f"{base}/actor",
        "publicKeyPem": pem,
    }
    [method] = actor["assertionMethod"]
    assert method["id"] == f"{base}/actor#ed25519-key-{key_id_suffix(node_ed25519_key)}"
    assert method["type"] == "Multikey"
    assert method["controller"] == f"{base}/actor"
    assert fingerprint(parse_multikey(method["publicKeyMultibase"])) == fingerprint(
        node_ed25519_key
    )
    assert fingerprint(load_public_key_pem(actor["publicKey"]["publicKeyPem"])) == fingerprint(
        node_rsa_key
    )


def test_actor_document_lists_extra_keys(
    node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    next_key = ed25519.Ed25519PrivateKey.generate().public_key()
    actor = actor_document(
        base_url="https://n.example",
        slug="n",
        city_name="N",
        rsa_public_pem=public_key_pem(node_rsa_key),
        ed25519_public_key=node_ed25519_key.public_key(),
        extra_keys=[("#ed25519-key-2", next_key), ("https://n.example/keys/3", next_key)],
    )
    ids = [method["id"] for method in actor["assertionMethod"]]
    assert ids == [
        f"https://n.example/actor#ed25519-key-{key_id_suffix(node_ed25519_key)}",
        "https://n.example/actor#ed25519-key-2",
        "https://n.example/keys/3",
    ]
    assert actor["assertionMethod"][1]["publicKeyMultibase"] == ed25519_multikey(next_key)


def test_webfinger_document() -> None:
    jrd = webfinger_document(
        subject="acct:cholet@monjumeau.cholet.example",
        actor_url="https://monjumeau.cholet.example/actor",
        profile_url="https://monjumeau.cholet.example/",
    )
    assert jrd["subject"] == "acct:cholet@monjumeau.cholet.example"
    assert jrd["links"][0] == {
        "rel": "self",
        "type": "application/activity+json",
        "href": "https://monjumeau.cholet.example/actor",
    }
    assert jrd["links"][1]["rel"] == "http://webfinger.net/rel/profile-page"
    assert jrd["aliases"] == [
        "https://monjumeau.cholet.example/actor",
        "https://monjumeau.cholet.example/",
    ]
    minimal = webfinger_document(subject="acct:a@b", actor_url="https://b/actor")
    assert [link["rel"] for link in minimal["links"]] == ["self"]


def test_nodeinfo_links() -> None:
    assert nodeinfo_links("https://n.example/") == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": "https://n.example/nodeinfo/2.1",
            }
        ]
    }


def test_nodeinfo_document() -> None:
    metadata = {"city": "Cholet", "languages": ["fr", "de", "en"], "taxonomyVersion": "1"}
    info = nodeinfo_document(
        software_name="zwilling",
        version="0.1.0",
        usage_users={"total": 120, "activeMonth": 40, "activeHalfyear": 90},
        usage_local_posts=0,
        open_registrations=True,
        metadata=metadata,
    )
    assert info == {
        "version": "2.1",
        "software": {"name": "zwilling", "version": "0.1.0"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,
        "usage": {
            "users": {"total": 120, "activeMonth": 40, "activeHalfyear": 90},
            "localPosts": 0,
        },
        "metadata": metadata,
    }


def test_nodeinfo_document_with_a_single_count_and_links() -> None:
    info = nodeinfo_document(
        software_name="zwilling",
        version="0.1.0",
        usage_users=7,
        usage_local_posts=3,
        open_registrations=False,
        metadata={},
        software_repository="https://example.org/zwilling.git",
    )
    assert info["usage"]["users"] == {"total": 7, "activeMonth": 7, "activeHalfyear": 7}
    assert info["software"]["repository"] == "https://example.org/zwilling.git"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"software_name": "Zwilling"}, "software.name"),
        ({"usage_users": -1}, "non-negative"),
        ({"usage_users": {"total": 1}}, "lacks activeMonth, activeHalfyear"),
        ({"usage_local_posts": -5}, "localPosts"),
    ],
)
def test_nodeinfo_document_refuses_invalid_values(kwargs: dict[str, object], fragment: str) -> None:
    arguments: dict[str, object] = {
        "software_name": "zwilling",
        "version": "1",
        "usage_users": 1,
        "usage_local_posts": 0,
        "open_registrations": True,
        "metadata": {},
    } | kwargs
    with pytest.raises(ValueError, match=fragment):
        nodeinfo_document(**arguments)  # type: ignore[arg-type]


def test_content_type_constants() -> None:
    assert ACTIVITY_JSON == "application/activity+json"
    assert LD_JSON_AS == 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    assert JRD_JSON == "application/jrd+json"
    assert NODEINFO_JSON == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/activity+json", True),
        ("Application/Activity+JSON", True),
        (LD_JSON_AS, True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"; q=0.9', True),
        ("application/ld+json", True),
        ("text/html, application/activity+json;q=0.8", True),
        ('application/ld+json; profile="https://example.org/other"', False),
        ("application/activity+json;q=0", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("*/*", False),
        ("application/json", False),
        ("", False),
        (None, False),
    ],
)
def test_accepts_activity_json(accept: str | None, expected: bool) -> None:
    assert accepts_activity_json(accept) is expected


def test_a_retired_rsa_key_is_listed_after_the_current_one_under_its_own_id(
    node_rsa_key: rsa.RSAPrivateKey, node_ed25519_key: ed25519.Ed25519PrivateKey
) -> None:
    retired = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    actor = actor_document(
        base_url="https://n.example",
        slug="n",
        city_name="N",
        rsa_public_pem=public_key_pem(node_rsa_key),
        ed25519_public_key=node_ed25519_key.public_key(),
        retired_rsa_public_pems=[public_key_pem(retired)],
    )
    listed = actor["publicKey"]
    assert isinstance(listed, list)
    assert [entry["id"] for entry in listed] == [
        f"https://n.example/actor#main-key-{key_id_suffix(node_rsa_key)}",
        f"https://n.example/actor#main-key-{key_id_suffix(retired)}",
    ]
    assert listed[1]["publicKeyPem"] == public_key_pem(retired)
    assert key_id_suffix(retired) != key_id_suffix(node_rsa_key)
