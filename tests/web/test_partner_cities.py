"""How the pages name each partner city's connection: whether a usable key of it is
pinned (one statement for all partners), and whether the last exchanges failed."""

from __future__ import annotations

from datetime import timedelta

from node.matches.partners import FETCH_FAILED, partner_cities
from node.models import PeerKey, utcnow
from node.peers import registry
from support.nodes import RunningNode


async def test_each_partner_city_gets_its_own_connection(node: RunningNode) -> None:
    now = utcnow()
    async with node.database.write() as session:
        names = ("Angers", "Cholet", "Dax", "Evreux", "Fréjus")
        peers = [
            await registry.upsert(session, f"https://{name.lower()}.example/actor", source="admin")
            for name in names
        ]
        for peer, name in zip(peers, names, strict=True):
            peer.name = name
        unnamed = await registry.upsert(session, "https://nameless.example/actor", source="admin")
        _angers, cholet, dax, evry, frejus = peers
        dax.state = "failing"
        frejus.last_error = f"{FETCH_FAILED} connection refused"
        usable_key = {"retires_at": None}
        keys = {
            cholet.id: [usable_key],
            dax.id: [usable_key],
            evry.id: [{"retires_at": now - timedelta(minutes=1)}],  # past its grace
            frejus.id: [usable_key],
            unnamed.id: [{"retires_at": now + timedelta(days=1)}, {"retires_at": None}],
        }
        for peer_id, rows in keys.items():
            for number, row in enumerate(rows):
                session.add(
                    PeerKey(
                        peer_id=peer_id,
                        key_id=f"key-{peer_id}-{number}",
                        algorithm="rsa-sha256",
                        public_key_pem="(not read here)",
                        fingerprint=f"fp-{peer_id}-{number}",
                        pinned_by="admin",
                        retires_at=row["retires_at"],
                    )
                )

    async with node.database.read() as session:
        shown = await partner_cities(session, now)

    assert [(city.name, city.connection) for city in shown] == [
        ("Angers", "not_connected"),  # nothing pinned
        ("Cholet", "connected"),
        ("Dax", "unreachable"),  # deliveries failing
        ("Evreux", "not_connected"),  # its only key retired
        ("Fréjus", "unreachable"),  # its actor could not be fetched
        (None, "connected"),  # unnamed ones last
    ]
