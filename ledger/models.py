"""The ledger: the tables every side of the app shares.

Binding tables carry UNIQUE (shop, remote id) and are written as upserts; every secret column
holds Fernet ciphertext (see ledger.crypto); every time is timezone-aware UTC.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from ledger.slot_day import slot_start


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A time from outside the ledger (a payload's ISO text, an argument) as aware UTC: a naive
    one is taken as UTC. Times read from the ledger already are (UTCDateTime)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC on both sides of every dialect.

    PostgreSQL's timestamptz already is; SQLite keeps a text without an offset and SQLAlchemy
    hands it back naive, so every reader had to remember to attach UTC (and a forgotten one
    raised on comparing with an aware time, on the demo's SQLite only). Written: an aware time
    is converted to UTC first (SQLite would drop a non-UTC offset as it stands); a naive one is
    taken as UTC. Read: UTC attached where the driver gave none.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or dialect.name != "sqlite":
            return value
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # PostgreSQL's driver already gives aware times: no Python call per value read there.
        if dialect.name != "sqlite":
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return self.impl_instance.bind_processor(dialect)
        return super().bind_processor(dialect)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
        Decimal: Numeric(14, 4),
        bytes: LargeBinary,
    }


class ShopStatus(enum.StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    UNINSTALLED = "uninstalled"


class Role(enum.StrEnum):
    """Staff roles, most powerful first. `at_least` compares them."""

    OWNER = "owner"
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return [Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER].index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # row written, outside call not finished
    DONE = "done"
    FAILED = "failed"  # rejected or bug: needs a person or a retry
    PARKED = "parked"  # mapping_missing: resumes by itself when the mapping appears
    RETRYING = "retrying"  # transient: RQ will try again
    SKIPPED = "skipped"  # nothing to do (unchanged, duplicate)


class ErrorClass(enum.StrEnum):
    MAPPING_MISSING = "mapping_missing"
    REJECTED = "rejected"
    TRANSIENT = "transient"
    BUG = "bug"


class InboxStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not handed to RQ (Redis was down): the sweeper enqueues it
    # Stored with job id inbox-<id> and handed to RQ in the same request; RQ's job record is
    # the truth about the job (the sweeper re-enqueues a row whose job is missing from Redis).
    ENQUEUED = "enqueued"
    PROCESSED = "processed"
    REJECTED = "rejected"  # malformed: kept with the reason, never dropped
    FAILED = "failed"


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ShopStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    installed_at: Mapped[datetime | None]
    uninstalled_at: Mapped[datetime | None]
    # Shopify's `shop { ianaTimezone }` ("America/Sao_Paulo"), read at install: the page shows
    # dates in the store's time (shopify_app/shop_timezone.py); None until read.
    iana_timezone: Mapped[str | None] = mapped_column(String(64))
    # Per-shop integration settings (seqCanalVenda, codGeralOper, inactive SKU status, ...).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    token: Mapped[OfflineToken | None] = relationship(back_populates="shop", uselist=False)


class InstallPeriod(Base):
    """A stretch of time the app was installed on a store, by its domain (ledger.install_periods).

    Kept by shop/redact (a domain and two times: no personal data, and the domain is in the audit
    record the redact keeps anyway): the shop's row goes with its data, so after a new install its
    created_at no longer tells an order of an earlier installation (the app's: sent once paid)
    from one of the store's time without the app (never sent)."""

    __tablename__ = "install_periods"
    __table_args__ = (Index("ix_install_periods_domain", "domain", "installed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255))
    installed_at: Mapped[datetime]
    uninstalled_at: Mapped[datetime | None]  # None while installed


class HandledOrder(Base):
    """A Shopify order a person settled outside the app, by the store's domain (ledger.handled_before).

    Kept by shop/redact (a domain, an order id and a time: no personal data; the person, their note
    and the order's contents go with the rest): the order's message closed as handled, or its link to
    an ERP order typed by hand, goes with the store's data, so after a new install the order reaching
    the app again would be posted to the ERP a second time."""

    __tablename__ = "handled_orders"
    __table_args__ = (UniqueConstraint("domain", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255))
    order_id: Mapped[str] = mapped_column(String(32))  # the Shopify order's numeric id
    handled_at: Mapped[datetime]  # when the person closed it (linked it to the ERP order typed by hand)


class OfflineToken(Base):
    """The shop's expiring offline token; both tokens are ciphertext."""

    __tablename__ = "offline_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    access_token_enc: Mapped[bytes]
    refresh_token_enc: Mapped[bytes | None]
    scopes: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None]
    refresh_expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop] = relationship(back_populates="token")


class ErpConnection(Base):
    """How a shop reaches its SmPedidoVendaAPI; the password is ciphertext."""

    __tablename__ = "erp_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str] = mapped_column(String(200))
    password_enc: Mapped[bytes]
    # Which ERP base_url reaches, as a number stable for that ERP (ledger.setup_moves.erp_moved):
    # the order events of each ERP are units of their own (jobs.order_events.unit_key), its
    # seqEvento and NROPEDVENDA numbers being that ERP's own. Moving back to an ERP the shop was
    # on before gives that ERP's number back (`places`), so its orders are its own again.
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # {ledger.erp_place.place_key of an ERP the shop was on: its generation}
    places: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # Bumped by every move to another ERP (back to one seen before too): a flow run notes it when
    # it builds its ERP client and moves no ERP cursor when it changed since (ledger.fence).
    moves: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a login with this address, user and password first succeeded (erp.factory: the client's
    # first login); None since any of them changed. "The same ERP" as another store's is told from
    # the typed address alone: another store's pending orders count against this one's stock only
    # once its own credentials logged in there (jobs.stock_pending.same_erp_shops).
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StoreLink(Base):
    """The Shopify store sells as this ERP company + sales segment."""

    __tablename__ = "store_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), unique=True)
    nro_empresa: Mapped[int]
    nro_segmento: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LocationMapping(Base):
    """ERP company (NROEMPRESA) <-> Shopify location."""

    __tablename__ = "location_mappings"
    __table_args__ = (
        UniqueConstraint("shop_id", "nro_empresa"),
        UniqueConstraint("shop_id", "location_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    nro_empresa: Mapped[int]
    location_id: Mapped[str] = mapped_column(String(100))  # gid://shopify/Location/...
    location_name: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Mapping(Base):
    """De:Para: an ERP code <-> a Shopify code, per kind (payment_method, carrier, segment_market...)."""

    __tablename__ = "mappings"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "shopify_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    shopify_code: Mapped[str] = mapped_column(String(255))
    erp_code: Mapped[str] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Binding(Base):
    """The ERP <-> Shopify id map (product, variant, inventory_item, price_list...).

    `digest` is the content hash of what was last sent: an unchanged record costs nothing.
    """

    __tablename__ = "bindings"
    __table_args__ = (
        UniqueConstraint("shop_id", "kind", "erp_id"),
        Index("ix_bindings_shopify", "shop_id", "kind", "shopify_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    erp_id: Mapped[str] = mapped_column(String(100))
    shopify_id: Mapped[str | None] = mapped_column(String(100))
    digest: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Watermark(Base):
    """Where a flow stands: the ERP change time it has safely reached, and the page inside it.

    `scope` separates watermarks of one flow (e.g. per company for stock); '' when unused.
    """

    __tablename__ = "watermarks"
    __table_args__ = (UniqueConstraint("shop_id", "flow", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(60), default="")
    last_changed_at: Mapped[datetime | None]
    page: Mapped[int] = mapped_column(Integer, default=0)
    # (key, change time) pairs already seen inside the overlap window: the next read skips them.
    boundary: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Message(Base):
    """The trace: one row per unit of work, written before any outside call is made for it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("shop_id", "flow", "unit_key"),
        # A flow's units (and of one status), newest first: the Messages page's filters. The catalog's
        # units keep the oldest ids (a run upserts the rows its install wrote): the primary key
        # walked back read every newer message first (migration 0027)
        Index("ix_messages_flow_id", "shop_id", "flow", "id"),
        Index("ix_messages_flow_status_id", "shop_id", "flow", "status", "id"),
        Index("ix_messages_updated", "shop_id", "updated_at"),
        # The dashboard's change cursor (max id) and the Messages list, newest first.
        Index("ix_messages_shop_id", "shop_id", "id"),
        # Outstanding work (trace.OPEN_STATUSES; the literal here: a migration must not change
        # with the code): the dashboard's open counts, stale jobs, parked and failed units.
        Index(
            "ix_messages_open",
            "shop_id",
            "flow",
            "status",
            postgresql_where=text("status IN ('pending', 'failed', 'parked', 'retrying')"),
            sqlite_where=text("status IN ('pending', 'failed', 'parked', 'retrying')"),
        ),
        # A substring of any external id (trace.search, the order page): trigrams on PostgreSQL
        # (the pg_trgm extension, migration 0005); a plain index on SQLite.
        Index(
            "ix_messages_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        # A unit's messages by the order or product on either side (the order page, invoices).
        Index("ix_messages_shopify_id", "shop_id", "shopify_id"),
        Index("ix_messages_erp_id", "shop_id", "erp_id"),
        # A flow's units created since a time (jobs.stock_pending.sold_since).
        Index("ix_messages_created", "shop_id", "flow", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(20))  # erp_to_shopify | shopify_to_erp
    unit_key: Mapped[str] = mapped_column(String(200))  # deterministic id of the unit of work
    shopify_id: Mapped[str | None] = mapped_column(String(100))
    erp_id: Mapped[str | None] = mapped_column(String(100))
    # Lower-cased external ids joined by spaces (SKU, order name, NROPEDVENDA, NF-e key...).
    search_text: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_class: Mapped[str | None] = mapped_column(String(30))
    error_text: Mapped[str | None] = mapped_column(Text)
    # What the UI needs to offer the fix (e.g. {"mapping": {"kind": ..., "shopify_code": ...}}).
    error_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class WebhookInbox(Base):
    """Every webhook delivery, written before Shopify gets its 200."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("webhook_id"),
        # One row per event: redeliveries carry a new webhook id but the same event id, and the
        # receiver's INSERT ... ON CONFLICT DO NOTHING relies on this index (NULL event ids never
        # collide), so concurrent duplicates need no lock.
        Index("uq_inbox_event", "shop_domain", "topic", "event_id", unique=True),
        # The sweeper's scan: only rows not yet finished (a small part of the table).
        Index(
            "ix_inbox_unfinished",
            "received_at",
            postgresql_where=text("status IN ('received', 'enqueued')"),
            sqlite_where=text("status IN ('received', 'enqueued')"),
        ),
        # A shop's failed rows, newest first (the failed jobs page, /api/jobs/failed): a few rows
        # out of a shop's every delivery.
        Index(
            "ix_inbox_failed",
            "shop_domain",
            "id",
            postgresql_where=text("status = 'failed'"),
            sqlite_where=text("status = 'failed'"),
        ),
        # ...and its rejected rows (a body that could not be read), listed beside them until a
        # person dismisses them (rare: Shopify signs what it sends as JSON).
        Index(
            "ix_inbox_rejected",
            "shop_domain",
            "id",
            postgresql_where=text("status = 'rejected'"),
            sqlite_where=text("status = 'rejected'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    webhook_id: Mapped[str | None] = mapped_column(String(100))
    event_id: Mapped[str | None] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(100))
    shop_domain: Mapped[str] = mapped_column(String(255))
    api_version: Mapped[str | None] = mapped_column(String(20))
    raw_body: Mapped[bytes]
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default=InboxStatus.RECEIVED.value)
    reason: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(120))
    triggered_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who changed what, and when. Survives redaction (PII is removed from before/after)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_shop_time", "shop_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="SET NULL"))
    shop_domain: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(100))  # staff user id, or "system" / "shopify"
    # the names the roles table held for the actor and for a "user:<id>" target when the event was
    # written (ledger.audit.record): a person removed from the roles table since stays named
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(255))
    target_name: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffRole(Base):
    """A Shopify staff member's role in this app, by staff user id (the ID token's `sub`)."""

    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("shop_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Schedule(Base):
    """When a flow runs for a shop (registered with `rq cron`)."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("shop_id", "flow"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(40))
    cron: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    last_run_at: Mapped[datetime | None]  # when the tick last enqueued it
    last_job_id: Mapped[str | None] = mapped_column(String(100))  # the id of the run it enqueued then
    cron_changed_at: Mapped[datetime | None]  # when a person last changed `cron`: no earlier due time runs
    last_status: Mapped[str | None] = mapped_column(String(20))  # ledger.schedules.LAST_STATUSES
    last_ended_at: Mapped[datetime | None]  # when its last run ended (ledger.run_outcome)
    last_error: Mapped[str | None] = mapped_column(Text)  # that run's exception line, when it raised
    last_error_words: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # its words (ledger.words)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"done": n, "total": m}
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertState(Base):
    """What the shop's alert e-mails told (jobs.alerts): one row a shop.

    `read_until`: the change time the last alert read up to (the next one reads from a little
    before it); `told`: {item key: fingerprint} of the open items told (a failed message, an
    order's note), so one is told again only when it changes; written only once the mail server
    took the e-mail. `last_*`: the last attempt as the Setup page shows it: when, whether the server
    took it (`last_error` None) or why not, how many items, to whom.
    """

    __tablename__ = "alert_states"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    read_until: Mapped[datetime | None]
    told: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_items: Mapped[int] = mapped_column(Integer, default=0)
    last_to: Mapped[list[Any]] = mapped_column(default=list)
    sent_at: Mapped[datetime | None]  # the last e-mail the server took


# An order in the ERP, live (cancelled on neither side) and not invoiced: the partial index's rows,
# as each dialect spells the query's `is_distinct_from` (SQLite: IS NOT)
IN_ERP = "nro_pedvenda IS NOT NULL AND nfe_key IS NULL AND cancelled_at IS NULL AND erp_status {} 'C'"


class OrderLink(Base):
    """A Shopify order <-> its ERP order (NROPEDVENDA), and where each side stands."""

    __tablename__ = "order_links"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_order_id"),
        Index("ix_order_links_erp", "shop_id", "nro_pedvenda"),
        # The Orders page's search: a substring of the name, the Shopify id or the NF-e key ...
        Index(
            "ix_order_links_search_trgm",
            "shopify_order_name",
            "shopify_order_id",
            "nfe_key",
            postgresql_using="gin",
            postgresql_ops={
                "shopify_order_name": "gin_trgm_ops",
                "shopify_order_id": "gin_trgm_ops",
                "nfe_key": "gin_trgm_ops",
            },
        ),
        # ... and by the delivery slot the customer chose (a day's orders: "05/12/2026")
        Index(
            "ix_order_links_slot_trgm",
            "delivery_slot",
            postgresql_using="gin",
            postgresql_ops={"delivery_slot": "gin_trgm_ops"},
        ),
        # A day's orders in the order they are picked: by the slot's day, then its start
        Index("ix_order_links_slot_day", "shop_id", "slot_day", "slot_time"),
        # The orders in the ERP not invoiced yet (the Orders page's "In ERP"; a few at night among
        # every order the shop had): shopify_app.api_orders.FILTERS["in_erp"], word for word
        Index(
            "ix_order_links_in_erp",
            "shop_id",
            "id",
            postgresql_where=text(IN_ERP.format("IS DISTINCT FROM")),
            sqlite_where=text(IN_ERP.format("IS NOT")),
        ),
        # The orders flagged for a person (a few of a shop's every order): the alert run's count and
        # its changed-since read, every 15 minutes per shop (jobs.alerts)
        Index(
            "ix_order_links_attention",
            "shop_id",
            "updated_at",
            postgresql_where=text("needs_attention IS NOT NULL"),
            sqlite_where=text("needs_attention IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    shopify_order_id: Mapped[str] = mapped_column(String(100))  # gid://shopify/Order/...
    shopify_order_name: Mapped[str | None] = mapped_column(String(50))
    nro_pedvenda: Mapped[int | None] = mapped_column(BigInteger)
    nro_empresa: Mapped[int | None]
    shopify_status: Mapped[str | None] = mapped_column(String(40))
    erp_status: Mapped[str | None] = mapped_column(String(10))  # SITUACAOPED
    total: Mapped[Decimal | None]
    authorized_amount: Mapped[Decimal | None]
    captured_amount: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    nfe_key: Mapped[str | None] = mapped_column(String(44))
    nfe_number: Mapped[str | None] = mapped_column(String(20))
    nfe_series: Mapped[str | None] = mapped_column(String(5))
    nfe_model: Mapped[str | None] = mapped_column(String(2))
    # The delivery or pickup slot the customer chose, as obsPedido names it (jobs.order_slot), as
    # Shopify shows it when last read; None: none chosen (or not read since it was kept)
    delivery_slot: Mapped[str | None] = mapped_column(String(64))
    # The slot's day and start ("HH:MM") as its text names them (ledger.slot_day), kept with it
    # (`_slot_start`): the Orders page's day view filters and sorts by them
    slot_day: Mapped[date | None]
    slot_time: Mapped[str | None] = mapped_column(String(5))
    cancelled_at: Mapped[datetime | None]
    needs_attention: Mapped[str | None] = mapped_column(Text)  # why a person must look
    # Each note's words (ledger.order_notes): its key and params by the note's slot, for the pages
    # to say it in the merchant's language; the English text above stays the stored truth.
    attention_words: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Set when a person linked the order to an ERP order typed there by hand (its import refused or
    # handled outside the app; ledger.order_link_by_hand): the ERP generation (ErpConnection) then.
    # Such an ERP order carries no channel id of the order, or another channel's: its events are
    # taken by NROPEDVENDA whatever channel they name, while the shop is on that ERP.
    hand_linked_erp: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @validates("delivery_slot")
    def _slot_start(self, _key: str, slot: str | None) -> str | None:
        """The slot's day and start follow its text (an INSERT written in SQL sets them itself:
        jobs.order_lookup.ensure_link)."""
        self.slot_day, self.slot_time = slot_start(slot)
        return slot


class OrderLineChange(Base):
    """Per-line ledger of what changed on an order and why (cut, substitution, weight, edit)."""

    __tablename__ = "order_line_changes"
    __table_args__ = (UniqueConstraint("order_link_id", "change_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_link_id: Mapped[int] = mapped_column(ForeignKey("order_links.id", ondelete="CASCADE"))
    change_key: Mapped[str] = mapped_column(String(120))  # idempotency: event id + line
    direction: Mapped[str] = mapped_column(String(20))  # erp_to_shopify | shopify_to_erp
    kind: Mapped[str] = mapped_column(String(20))  # cut | substitution | weight | added | removed | qty
    sku: Mapped[str | None] = mapped_column(String(60))
    qty_before: Mapped[Decimal | None]
    qty_after: Mapped[Decimal | None]
    substitute_sku: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(Text)
    reason_words: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # its words (ledger.words)
    # An ERP picking's own line discounts ("Atendido em parte", "Ajuste de peso") its edit put on the
    # Shopify order or took off: [{"description", "per_unit", "taken_off"}] (jobs.order_edits
    # .to_shopify `_app_made`: a later picking takes off only those); NULL on rows written before.
    discounts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    applied: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
