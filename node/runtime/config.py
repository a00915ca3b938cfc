"""The node's configuration: one TOML file, validated into a typed, frozen object.

Every command loads the file through :func:`load_config`, so a mistake in it is
reported the same way everywhere: one line naming the file, the field and the
problem (:class:`ConfigError`), never a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

KindName = Literal["person", "family", "club", "school_class"]
_KIND_NAMES: tuple[KindName, ...] = ("person", "family", "club", "school_class")
LanguageCode = Literal["de", "fr", "en"]

ENV_CONFIG = "ZWILLING_CONFIG"
ENV_DATA_DIR = "ZWILLING_DATA_DIR"
ENV_OVERRIDES = {
    # environment variable -> (section, field): deployments keep secrets out of files
    "ZWILLING_DATABASE_URL": ("node", "database_url"),
    "ZWILLING_BASE_URL": ("node", "base_url"),
    "ZWILLING_NODE_SECRET": ("node", "secret"),
    "ZWILLING_SMTP_PASSWORD": ("mail", "smtp_password"),
    "ZWILLING_METRICS_TOKEN": ("metrics", "bearer_token"),
    "ZWILLING_METRICS_PORT": ("metrics", "listen_port"),
}


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line an admin should read."""


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return value.rstrip("/")


def _colour(value: str) -> str:
    if len(value) not in (4, 7) or not value.startswith("#"):
        raise ValueError("must be a CSS hex colour like #005ca9")
    int(value[1:], 16)
    return value


def _authority(value: str) -> str:
    if not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?", value):
        raise ValueError("must be a host or host:port, without scheme or path")
    return value.lower()


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone like Europe/Berlin") from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
Authority = Annotated[str, AfterValidator(_authority)]
Colour = Annotated[str, AfterValidator(_colour)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class NodeSection(_Section):
    slug: str = Field(pattern=r"^[a-z][a-z0-9-]{1,31}$")
    city: str = Field(min_length=1, max_length=80)
    base_url: HttpUrl
    default_language: LanguageCode
    minimum_age: int = Field(ge=13, le=21)
    database_url: str = "sqlite+aiosqlite:///node.db"
    secret: str | None = Field(default=None, min_length=32)
    keys_dir: str = "keys"
    registration_open: bool = True
    # Further host[:port] names peers may address this node by, e.g. behind a proxy
    # that is reached under more than one name; base_url's is always included.
    public_authorities: list[Authority] = Field(default_factory=list, max_length=16)
    # IANA time zone in which pages show dates and times.
    time_zone: TimeZone = "Europe/Berlin"


class ListenSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)


class BrandingSection(_Section):
    portal_name: str = Field(min_length=1, max_length=40)
    primary_colour: Colour = "#005ca9"
    accent_colour: Colour = "#f5a623"


class MatchingSection(_Section):
    k_anonymity: int = Field(default=5, ge=1, le=1000)
    kind_gates: dict[KindName, list[KindName]] = Field(
        default_factory=lambda: {k: [k] for k in _KIND_NAMES}
    )
    top_k: int = Field(default=10, ge=1, le=50)
    exposure_factor: float = Field(default=10.0, ge=0, le=1000)
    recompute_interval_seconds: int = Field(default=3600, ge=10)

    @field_validator("kind_gates")
    @classmethod
    def _symmetric(cls, gates: dict[str, list[str]]) -> dict[str, list[str]]:
        for kind, fits in gates.items():
            for other in fits:
                if kind not in gates.get(other, []):
                    raise ValueError(f"must be symmetric: {kind} fits {other} but not back")
        return gates


class FederationSection(_Section):
    date_window_seconds: int = Field(default=3600, ge=30, le=86400)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    connect_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    read_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    delivery_max_age_hours: int = Field(default=96, ge=72, le=24 * 30)
    key_grace_days: int = Field(default=7, ge=0, le=90)
    # How long a delivery the peer answers with 401 is retried (a clock off, keys not
    # pinned yet) before it is kept as failed for an admin; 0: final at once.
    unauthorised_retry_hours: int = Field(default=24, ge=0, le=24 * 30)
    # Retry schedule for deliveries (and for re-applying stored inbox activities):
    # the first retry after about retry_base_seconds, doubling up to retry_max_seconds.
    retry_base_seconds: float = Field(default=30.0, gt=0, le=3600)
    retry_max_seconds: float = Field(default=3600.0, gt=0, le=24 * 3600)
    # How often idle workers look for due rows.
    worker_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    # How long a worker owns a claimed outbox row; must outlast one attempt.
    delivery_lease_seconds: float | None = Field(default=None, gt=0, le=3600)

    @model_validator(mode="after")
    def _schedule(self) -> FederationSection:
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must not be below retry_base_seconds")
        if self.delivery_lease_seconds is not None and (
            self.delivery_lease_seconds <= self.connect_timeout_seconds + self.read_timeout_seconds
        ):
            raise ValueError(
                "delivery_lease_seconds must exceed connect_timeout_seconds + "
                "read_timeout_seconds, or a slow attempt could be sent twice"
            )
        return self

    @property
    def lease_seconds(self) -> float:
        """The configured lease, or one attempt's worst case plus a margin."""
        if self.delivery_lease_seconds is not None:
            return self.delivery_lease_seconds
        return self.connect_timeout_seconds + self.read_timeout_seconds + 30.0


class MailSection(_Section):
    backend: Literal["file", "smtp"] = "file"
    sender: str = Field(default="noreply@localhost", pattern=r"^[^@\s]+@[^@\s]+$")
    directory: str = "mail"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    # A mail the server refused is tried again after retry_first_seconds, doubling
    # (with jitter) up to retry_max_seconds; it is given up after give_up_after_tries
    # tries or give_up_after_hours, whichever comes first (the admin page counts them).
    retry_first_seconds: int = Field(default=60, ge=1, le=3600)
    retry_max_seconds: int = Field(default=3600, ge=1, le=86_400)
    give_up_after_tries: int = Field(default=12, ge=1, le=100)
    give_up_after_hours: int = Field(default=48, ge=1, le=24 * 14)


class SessionSection(_Section):
    idle_timeout_minutes: int = Field(default=120, ge=5, le=60 * 24 * 30)
    absolute_timeout_hours: int = Field(default=24 * 7, ge=1, le=24 * 90)


class LimitsSection(_Section):
    """How often an address or a client may ask for mail or try a password."""

    # Proxies whose X-Forwarded-For is believed; every other peer is the client itself.
    trusted_proxies: list[str] = Field(default_factory=list, max_length=16)
    # Mails (reset links, "already registered") one address receives per hour.
    mails_per_address_per_hour: int = Field(default=3, ge=1, le=100)
    # Registrations and reset requests one client may send per hour.
    requests_per_client_per_hour: int = Field(default=30, ge=1, le=10_000)
    # What one resident may send per hour, and all residents together from one client.
    messages_per_resident_per_hour: int = Field(default=120, ge=1, le=10_000)
    contact_requests_per_resident_per_hour: int = Field(default=30, ge=1, le=10_000)
    reports_per_resident_per_hour: int = Field(default=10, ge=1, le=10_000)
    actions_per_client_per_hour: int = Field(default=600, ge=1, le=100_000)
    # Login attempts without delay, per address and per client.
    login_free_attempts: int = Field(default=5, ge=1, le=100)
    login_client_free_attempts: int = Field(default=20, ge=1, le=10_000)
    # The delay after the free attempts; doubles with each further one, up to the longest.
    login_first_delay_seconds: int = Field(default=15, ge=1, le=3600)
    login_longest_delay_seconds: int = Field(default=600, ge=1, le=86_400)


class Retention(_Section):
    """How long raw activities, report copies and mail files are kept (days; 0 = drop at
    the next purge). The periodic purge (``node.retention``) applies them; an account
    deletion erases what concerns the resident at once, whatever these say."""

    activity_payload_days: int = Field(default=7, ge=0, le=3650)
    failed_activity_days: int = Field(default=30, ge=0, le=3650)
    handled_report_days: int = Field(default=180, ge=0, le=3650)
    mail_file_days: int = Field(default=30, ge=0, le=3650)


class MetricsSection(_Section):
    """Who may read ``GET /metrics`` (node.metrics); nobody unless one of these is set.

    With ``bearer_token`` the main site serves it to requests carrying that token. With
    ``listen_port`` a second site on the same host serves only the metrics (and asks
    for the token too, if one is set); the main site then does not serve them at all.
    """

    bearer_token: str | None = Field(default=None, min_length=32, max_length=512)
    listen_port: int | None = Field(default=None, ge=1, le=65535)


class LegalSection(_Section):
    """Who runs the node, for the privacy notice and the legal notice (web/pages/legal.py).

    The city fills it in; without it the pages still show the default texts, with
    "operator not configured", and ``zwilling check`` warns. A text file replaces a
    default text entirely; ``{lang}`` in its path picks the file of the page language.
    """

    operator: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    phone: str | None = Field(default=None, min_length=1, max_length=40)
    dpo_name: str = Field(min_length=1, max_length=200)
    dpo_contact: str = Field(min_length=1, max_length=300)
    supervisory_authority: str | None = Field(default=None, min_length=1, max_length=500)
    privacy_file: str | None = Field(default=None, min_length=1)
    notice_file: str | None = Field(default=None, min_length=1)

    def text_file(self, text: Literal["privacy", "notice"], language: str) -> str | None:
        """The configured file of one text in ``language`` (relative to the data dir)."""
        path = self.privacy_file if text == "privacy" else self.notice_file
        return path.replace("{lang}", language) if path else None


class PeerEntry(_Section):
    actor_url: HttpUrl
    fingerprints: list[str] = Field(default_factory=list)

    @field_validator("fingerprints")
    @classmethod
    def _fingerprint_form(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.startswith("SHA256:") or len(value) < 40:
                raise ValueError(f"{value!r} is not a SHA256:… key fingerprint")
        return values


class Config(_Section):
    """The whole validated file, plus the data directory it was resolved against."""

    node: NodeSection
    listen: ListenSection
    branding: BrandingSection
    matching: MatchingSection = MatchingSection()
    federation: FederationSection = FederationSection()
    mail: MailSection = MailSection()
    sessions: SessionSection = SessionSection()
    retention: Retention = Retention()
    limits: LimitsSection = LimitsSection()
    metrics: MetricsSection = MetricsSection()
    legal: LegalSection | None = None
    peers: list[PeerEntry] = Field(default_factory=list)
    data_dir: Path = Path(".")
    source: Path | None = None

    @model_validator(mode="after")
    def _distinct_peers(self) -> Config:
        urls = [p.actor_url for p in self.peers]
        if len(urls) != len(set(urls)):
            raise ValueError("peers: each actor_url may appear once")
        if any(url.startswith(self.node.base_url + "/") for url in urls):
            raise ValueError("peers: a node cannot be its own peer")
        if self.metrics.listen_port == self.listen.port:
            raise ValueError("metrics.listen_port must differ from listen.port")
        return self

    def path(self, relative: str) -> Path:
        """Resolve a path from the file against the data directory (absolute stays)."""
        candidate = Path(relative)
        return candidate if candidate.is_absolute() else self.data_dir / candidate

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite file placed in the data directory."""
        url = self.node.database_url
        for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
            if url.startswith(prefix):
                file = url.removeprefix(prefix)
                if file and file != ":memory:" and not file.startswith("/"):
                    return prefix + str(self.path(file).resolve())
        return url

    @property
    def actor_url(self) -> str:
        return f"{self.node.base_url}/actor"

    @property
    def host(self) -> str:
        """The authority peers use to reach this node, as it appears in signatures."""
        return urlsplit(self.node.base_url).netloc

    @property
    def authorities(self) -> tuple[str, ...]:
        """Every host[:port] a signed request to this node may name: base_url's first."""
        return (self.host, *self.node.public_authorities)

    @property
    def secure(self) -> bool:
        return self.node.base_url.startswith("https://")


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read, override from the environment, validate; raise ConfigError on any problem."""
    env = os.environ if environ is None else environ
    raw_path = path or env.get(ENV_CONFIG)
    if not raw_path:
        raise ConfigError(f"no configuration file: pass --config PATH or set {ENV_CONFIG}")
    file = Path(raw_path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: cannot read: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return config_from_mapping(data, source=file, data_dir=data_dir, environ=env)


def config_from_mapping(
    data: Mapping[str, Any],
    *,
    source: Path | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate an already parsed document (the file loader and tests share this)."""
    env = os.environ if environ is None else environ
    label = str(source) if source else "<config>"
    merged: dict[str, Any] = {key: value for key, value in data.items()}
    for variable, (section, field) in ENV_OVERRIDES.items():
        if env.get(variable):
            section_data = dict(merged.get(section) or {})
            section_data[field] = env[variable]
            merged[section] = section_data
    for reserved in ("data_dir", "source"):
        if reserved in merged:
            raise ConfigError(f"{label}: {reserved}: unknown field")
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"{label}: {_first_problem(exc)}") from None
    chosen = data_dir or env.get(ENV_DATA_DIR) or Path("data") / config.node.slug
    return config.model_copy(update={"data_dir": Path(chosen).absolute(), "source": source})


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "required field is missing"
    message = message.removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {message}{suffix}"
