"""All tables of a node. Importing this package registers every model on
``Base.metadata``, which Alembic compares against the migrations."""

from node.models import contacts, federation, mail, matches, residents, vectors
from node.models.base import Base, utcnow
from node.models.contacts import Contact, Message, Report
from node.models.federation import InboxActivity, OutboxActivity, Peer, PeerKey
from node.models.mail import QueuedMail
from node.models.matches import Suggestion, Twin
from node.models.residents import AccountToken, LoginSession, LoginThrottle, Profile, Resident
from node.models.vectors import (
    Pseudonym,
    PublicationState,
    PublishedVector,
    RemoteProfile,
    Tombstone,
)

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
    "QueuedMail",
    "RemoteProfile",
    "Report",
    "Resident",
    "Suggestion",
    "Tombstone",
    "Twin",
    "contacts",
    "federation",
    "mail",
    "matches",
    "residents",
    "utcnow",
    "vectors",
]
