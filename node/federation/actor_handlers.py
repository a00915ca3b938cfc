"""Inbox handler for a peer's ``Update`` of its own ``Service`` actor (key rotation on
the peer's side): the new keys are pinned, the others retire after the grace period.
"""

from __future__ import annotations

from datetime import timedelta

from federation.actors import ActorError, parse_actor
from node.federation.handlers import ActivityHandler, InboxContext, Rejected
from node.models import utcnow
from node.peers import registry as repo
from node.peers.refresh import apply_actor
from node.runtime import appkeys


class ActorUpdates(ActivityHandler):
    """``Update`` of a peer's ``Service`` actor: new name, inbox, and keys."""

    async def check(self, ctx: InboxContext) -> None:
        target = ctx.activity.get("object")
        if ctx.activity.get("actor") != ctx.peer.actor_url:
            raise Rejected(403, "only the node's own actor may update it")
        if not isinstance(target, dict) or target.get("id") != ctx.peer.actor_url:
            raise Rejected(403, "a node may only update its own actor")
        try:
            parse_actor(target, expected_id=ctx.peer.actor_url)
        except ActorError as exc:
            raise Rejected(400, f"actor document: {exc}") from None

    async def apply(self, ctx: InboxContext) -> None:
        actor = parse_actor(ctx.activity["object"], expected_id=ctx.peer.actor_url)
        now = utcnow()
        grace = timedelta(days=ctx.app[appkeys.CONFIG].federation.key_grace_days)
        apply_actor(ctx.peer, actor, now)
        await repo.pin(ctx.session, ctx.peer, actor.keys, pinned_by="rotation", now=now)
        await repo.retire_others(
            ctx.session,
            ctx.peer,
            keep={key.fingerprint for key in actor.keys},
            algorithms={key.algorithm for key in actor.keys},
            retires_at=now + grace,
        )
