"""All tables of a node. Importing this package registers every model on
``Base.metadata``, which Alembic compares against the migrations."""

from node.models import contacts, federation, mail, matches, residents, security, vectors
from node.models.base import Base, utcnow
from node.models.contacts import Contact, Message, Report
from node.models.federation import InboxActivity, OutboxActivity, Peer, PeerKey
from node.models.mail import QueuedMail
from node.models.matches import MatchGeneration, Suggestion, Twin
from node.models.notifications import Notice, NoticeMail
from node.models.residents import AccountToken, LoginSession, LoginThrottle, Profile, Resident
from node.models.security import LoginChallenge, RecoveryCode, TwoFactor
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
    "LoginChallenge",
    "LoginSession",
    "LoginThrottle",
    "MatchGeneration",
    "Message",
    "Notice",
    "NoticeMail",
    "OutboxActivity",
    "Peer",
    "PeerKey",
    "Profile",
    "Pseudonym",
    "PublicationState",
    "PublishedVector",
    "QueuedMail",
    "RecoveryCode",
    "RemoteProfile",
    "Report",
    "Resident",
    "Suggestion",
    "Tombstone",
    "Twin",
    "TwoFactor",
    "contacts",
    "federation",
    "mail",
    "matches",
    "residents",
    "security",
    "utcnow",
    "vectors",
]
