"""GET /metrics on real nodes over loopback: the OpenMetrics text format, no personal
data and no pseudonyms, and figures that follow what the nodes do."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from support.contacts import (
    ANNA,
    ANNA_ABOUT,
    ANNA_NAME,
    BRUNO,
    BRUNO_ABOUT,
    BRUNO_NAME,
    hand_made,
    messages_of,
    post_as,
    twin_cities,
    until_contact,
)
from support.federation import ScriptedPeer, fake_peer, probe, queue, wait_for
from support.population import delivered, set_paused
from support.web import Visitor
from tests.operations.scraping import TOKEN, WITH_TOKEN, host_of, scrape, single_node

MESSAGE = "Treffen wir uns qxsecret am Lappan um drei?"
CLARA = "clara.qxmail@oldenburg.example"
CLARA_NAME = "Claraqx Registriert"


# -- what the figures say ---------------------------------------------------------------


async def test_no_personal_data_and_the_figures_follow_the_nodes(tmp_path: Path) -> None:
    async with (
        twin_cities(tmp_path, overrides=WITH_TOKEN) as cities,
        Visitor(cities.oldenburg) as anna,
        Visitor(cities.cholet, "fr") as bruno,
        Visitor(cities.oldenburg) as clara,
    ):
        oldenburg, cholet = cities.oldenburg, cities.cholet
        assert (await clara.register(CLARA, name=CLARA_NAME)).status_code == 200
        assert (await anna.login(ANNA)).status_code == 303
        assert (await bruno.login(BRUNO)).status_code == 303
        asked = await anna.submit("/contacts/request", {"actor": cities.bruno_actor}, page="/twin")
        assert asked.status_code == 303
        incoming = await until_contact(
            cholet, cities.bruno, lambda c: c.their_consent == "yes", "request at Cholet"
        )
        answered = await bruno.submit(
            f"/contacts/{incoming.id}/answer", {"decision": "accept"}, page="/contacts/requests"
        )
        assert answered.status_code == 303
        mine = await until_contact(
            oldenburg, cities.anna, lambda c: c.their_name == BRUNO_NAME, "Bruno revealed"
        )
        wrote = await anna.submit(
            f"/contacts/{mine.id}/messages", {"body": MESSAGE}, page=f"/contacts/{mine.id}"
        )
        assert wrote.status_code == 303

        async def arrived() -> bool:
            return len(await messages_of(cholet, incoming.id)) == 1

        await wait_for(arrived, what="message at Cholet")
        await delivered(oldenburg)
        await delivered(cholet)

        at_oldenburg, at_cholet = await scrape(oldenburg.url), await scrape(cholet.url)
        pseudonymous = re.compile(r"[0-9a-f]{64}")
        for figures in (at_oldenburg, at_cholet):
            for secret in (
                ANNA, BRUNO, CLARA, ANNA_NAME, BRUNO_NAME, CLARA_NAME, ANNA_ABOUT,
                BRUNO_ABOUT, MESSAGE, "qx", "/p/", cities.anna_actor, cities.bruno_actor,
            ):  # fmt: skip
                assert secret not in figures.text, secret
            assert not pseudonymous.search(figures.text)
            for route in figures.labels("zwilling_http_requests_total", "route"):
                assert not re.search(r"/\d", route), route
            assert figures.value("zwilling_database_up") == 1
            assert figures.value("zwilling_published_profiles") == 1
            assert figures.value("zwilling_matching_last_success_timestamp_seconds") > 0
            assert figures.value("zwilling_matching_run_duration_seconds_count", scope="full") >= 1

        cholet_host, oldenburg_host = host_of(cholet), host_of(oldenburg)
        assert at_oldenburg.value("zwilling_residents", status="active") == 2  # Anna, Clara
        assert at_cholet.value("zwilling_residents", status="active") == 1
        assert at_oldenburg.value("zwilling_peer_reachable", peer=cholet_host) == 1
        assert at_cholet.value("zwilling_peer_reachable", peer=oldenburg_host) == 1
        assert at_oldenburg.value("zwilling_outbox_queued", peer=cholet_host) == 0
        assert at_oldenburg.value("zwilling_outbox_oldest_age_seconds", peer=cholet_host) == 0
        assert at_oldenburg.value("zwilling_peer_last_success_timestamp_seconds", peer=cholet_host)
        assert (
            at_oldenburg.value(
                "zwilling_delivery_attempts_total",
                peer=cholet_host,
                outcome="delivered",
                status="202",
            )
            >= 3
        )  # profile, contact request, message
        assert at_cholet.labels("zwilling_delivery_attempts_total", "peer") == {oldenburg_host}
        assert at_oldenburg.value("zwilling_mail_queued") >= 0  # Clara's confirmation
        applied = {
            (s.labels["activity"], s.labels["object"])
            for s in at_cholet.samples
            if s.name == "zwilling_inbox_activities_total" and s.labels["outcome"] == "applied"
        }
        assert {("Update", "InterestProfile"), ("Follow", ""), ("Create", "Note")} <= applied
        note = {"activity": "Create", "object": "Note"}
        assert at_cholet.value("zwilling_inbox_activities_total", outcome="accepted", **note) == 1
        assert at_cholet.value("zwilling_inbox_activities_total", outcome="applied", **note) == 1
        assert (
            at_oldenburg.value("zwilling_http_request_duration_seconds_count", route="twin") == 1
        )  # where the contact request form was taken from
        assert (
            at_oldenburg.value(
                "zwilling_http_requests_total",
                route="/contacts/{contact_id}/messages",
                method="POST",
                status="303",
            )
            == 1
        )


async def test_inbox_refusals_are_counted_by_reason(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False, overrides=WITH_TOKEN) as cities:
        oldenburg, cholet = cities.oldenburg, cities.cholet
        async with httpx.AsyncClient() as client:
            unsigned = await client.post(f"{cholet.url}/inbox", json={"type": "Create"})
        assert unsigned.status_code == 401
        note = {
            "id": f"{oldenburg.url}/notes/unasked",
            "type": "Note",
            "attributedTo": cities.anna_actor,
            "to": [cities.bruno_actor],
            "mediaType": "text/plain",
            "content": MESSAGE,
        }
        forged = hand_made(oldenburg, "Create", cities.anna_actor, note, cities.bruno_actor)
        refused = await post_as(oldenburg, cholet, forged)
        assert refused.status_code == 403  # no mutual consent for this pair
        again = await post_as(oldenburg, cholet, {**forged, "id": f"{forged['id']}-again"})
        assert again.status_code == 403

        figures = await scrape(cholet.url)
        counted = {"activity": "Create", "object": "Note", "outcome": "refused"}
        assert figures.value("zwilling_inbox_activities_total", reason="forbidden", **counted) == 2
        # Counted once each: by the handler that knew the type, not again as unknown.
        unknown = {"activity": "unknown", "outcome": "refused"}
        assert figures.value("zwilling_inbox_activities_total", reason="forbidden", **unknown) == 0
        assert (
            figures.value("zwilling_inbox_activities_total", activity="unknown", reason="signature")
            == 1
        )
        assert MESSAGE not in figures.text and cities.anna_actor not in figures.text


async def test_the_queue_rises_while_the_partner_is_down(tmp_path: Path) -> None:
    async with twin_cities(tmp_path, pages=False, overrides=WITH_TOKEN) as cities:
        oldenburg, cholet = cities.oldenburg, cities.cholet
        peer = host_of(cholet)
        await cholet.stop()
        await set_paused(oldenburg, cities.anna, True)

        async def waiting() -> bool:
            figures = await scrape(oldenburg.url)
            return (
                figures.value("zwilling_outbox_queued", peer=peer) >= 1
                and figures.value("zwilling_peer_reachable", peer=peer) == 0
            )

        await wait_for(waiting, what="the queue for Cholet to grow", within=60)
        down = await scrape(oldenburg.url)
        assert down.value("zwilling_outbox_oldest_age_seconds", peer=peer) > 0
        assert down.value("zwilling_peer_failing_since_timestamp_seconds", peer=peer) > 0
        assert down.value("zwilling_peer_consecutive_failures", peer=peer) >= 1
        assert (
            down.value(
                "zwilling_delivery_attempts_total",
                peer=peer,
                outcome="retry",
                status="network_error",
            )
            >= 1
        )

        await cholet.start()

        async def drained() -> bool:
            figures = await scrape(oldenburg.url)
            return (
                figures.value("zwilling_outbox_queued", peer=peer) == 0
                and figures.value("zwilling_peer_reachable", peer=peer) == 1
            )

        await wait_for(drained, what="the queue for Cholet to drain", within=60)
        back = await scrape(oldenburg.url)
        assert back.value("zwilling_outbox_oldest_age_seconds", peer=peer) == 0
        assert back.value("zwilling_peer_failing_since_timestamp_seconds", peer=peer) == 0
        assert back.value(
            "zwilling_delivery_attempts_total", peer=peer, outcome="delivered", status="202"
        ) > down.value(
            "zwilling_delivery_attempts_total", peer=peer, outcome="delivered", status="202"
        )


async def test_delivery_failures_are_counted_with_their_status(
    tmp_path: Path, database_url: str
) -> None:
    node = await single_node(tmp_path, database_url, bearer_token=TOKEN)
    try:
        async with ScriptedPeer([503, 403, 202]) as partner:
            actor = await fake_peer(node, partner)
            await queue(node, actor, [probe(node, 1, to=[actor]), probe(node, 2, to=[actor])])
            label = host_of(partner)

            async def settled() -> bool:
                return (await scrape(node.url)).value("zwilling_outbox_queued", peer=label) == 0

            await wait_for(settled, what="both probes settled", within=60)
            figures = await scrape(node.url)
            attempts = "zwilling_delivery_attempts_total"
            assert figures.value(attempts, peer=label, outcome="retry", status="503") == 1
            assert figures.value(attempts, peer=label, outcome="give_up", status="403") == 1
            assert figures.value(attempts, peer=label, outcome="delivered", status="202") == 1
            assert figures.value("zwilling_outbox_failed", peer=label) == 1
            assert partner.answers == [503, 403, 202]
    finally:
        await node.stop()
