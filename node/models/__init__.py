"""All tables of a node. Importing this package registers every model on
``Base.metadata``, which Alembic compares against the migrations."""

from . import federation, residents
from .base import Base, utcnow
from .federation import InboxActivity, OutboxActivity, Peer, PeerKey
from .residents import AccountToken, LoginSession, LoginThrottle, Profile, Resident

__all__ = [
    "AccountToken",
    "Base",
    "InboxActivity",
    "LoginSession",
    "LoginThrottle",
    "OutboxActivity",
    "Peer",
    "PeerKey",
    "Profile",
    "Resident",
    "federation",
    "residents",
    "utcnow",
]
