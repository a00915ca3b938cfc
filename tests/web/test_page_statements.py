"""What a page view of someone logged in asks the database: the visit (session and
resident) in one statement, and on the suggestions page the partner cities with
whether each is trusted in one, however many partner cities there are."""

from __future__ import annotations

from node.peers import registry
from support.nodes import RunningNode
from support.statements import statements
from support.web import Visitor

EMAIL = "leserin@oldenburg.example"


def selects(sent: list[tuple[str, object]], table: str) -> list[str]:
    """The SELECT statements sent that read ``table``."""
    return [s for s, _ in sent if s.upper().startswith("SELECT") and f"FROM {table}" in s]


async def test_one_statement_each_for_the_visit_and_the_partner_cities(node: RunningNode) -> None:
    db = node.database
    async with Visitor(node) as reader:
        await reader.with_profile(EMAIL)
        async with db.write() as session:
            for city in ("cholet", "angers", "dax"):
                await registry.upsert(session, f"https://{city}.example/actor", source="admin")
        reader.client.event_hooks = {"response": []}  # only the page's own statements
        for path in ("/", "/twin"):
            with statements(db) as sent:
                page = await reader.get(path)
            assert page.status_code == 200, path
            visit = selects(sent, "login_sessions")
            assert len(visit) == 1 and "JOIN residents" in visit[0], (path, visit)
            assert selects(sent, "residents") == [], "the resident comes with the session"

        partners = selects(sent, "peers")
        assert len(partners) == 1 and "FROM peer_keys" in partners[0], partners
        assert selects(sent, "peer_keys") == partners, "trust is asked within that statement"
