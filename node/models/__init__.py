"""All tables of a node. Importing this package registers every model on
``Base.metadata``, which Alembic compares against the migrations."""

from . import contacts, federation, matches, residents, vectors
from .base import Base, utcnow
from .contacts import Contact, Message, Report
from .federation import InboxActivity, OutboxActivity, Peer, PeerKey
from .matches import Suggestion, Twin
from .residents import AccountToken, LoginSession, LoginThrottle, Profile, Resident
from .vectors import Pseudonym, PublicationState, PublishedVector, RemoteProfile, Tombstone

__all__ = [
    "AccountToken",
    "Base",
    "Contact",
    "InboxActivity",
    "LoginSession",
    "LoginThrottle",
    "Message",
    "OutboxActivity",
    "Peer",
    "PeerKey",
    "Profile",
    "Pseudonym",
    "PublicationState",
    "PublishedVector",
    "RemoteProfile",
    "Report",
    "Resident",
    "Suggestion",
    "Tombstone",
    "Twin",
    "contacts",
    "federation",
    "matches",
    "residents",
    "utcnow",
    "vectors",
]
