"""Emulator options, with the same environment variables and dev defaults the app reads."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEV_API_KEY = "sandbox-api-key"
DEV_API_SECRET = "sandbox-api-secret-not-for-production"

TIERS: dict[str, tuple[int, int]] = {
    "standard": (2000, 100),
    "advanced": (4000, 200),
    "plus": (20000, 1000),
    "enterprise": (40000, 2000),
}

# The app's configuration, as `shopify app deploy` hands it to Shopify: the scopes a managed install
# grants (tokens.py) and the topics every shop is subscribed to (the app URL + `/webhooks`).
APP_TOML = Path(__file__).resolve().parents[2] / "shopify.app.toml"


def app_webhook_topics(path: Path = APP_TOML) -> tuple[str, ...]:
    """The topics and compliance topics of the app's `[[webhooks.subscriptions]]`, in their order.
    Read, not copied: a topic the app adds to its configuration (orders/risk_assessment_changed...)
    is subscribed on the shops the sandbox creates from then on, as a deploy subscribes Shopify's."""
    with path.open("rb") as handle:
        subscriptions = tomllib.load(handle).get("webhooks", {}).get("subscriptions", [])
    topics = [t for s in subscriptions for t in (*s.get("topics", ()), *s.get("compliance_topics", ()))]
    return tuple(dict.fromkeys(topics))


APP_WEBHOOK_TOPICS = app_webhook_topics()

# Whether a gateway's card authorisations allow several captures (OrderTransaction.multiCapturable).
# Shopify: multi-capture is Shopify Payments' on a Plus store only; finalCapture "has no effect on
# authorizations which aren't multi-capturable (can only be captured once)". Brazil has no Shopify
# Payments: its card gateways are payments apps, most of them one capture per authorisation, so a
# gateway not listed allows one. The checkout's "Cartão de crédito" keeps several (the demo and the
# tests of partial invoicing were written against it); "Mercado Pago" is a payments app allowing one.
GATEWAY_MULTI_CAPTURE: dict[str, bool] = {"Cartão de crédito": True, "Mercado Pago": False}


def multi_capture_from_env(text: str | None = None) -> dict[str, bool]:
    """GATEWAY_MULTI_CAPTURE with the entries of `text` (env SANDBOX_GATEWAY_MULTI_CAPTURE, e.g.
    "Cartão de crédito=0, Pagar.me=1": gateway name = 1 several captures, 0 one) over it."""
    chosen = dict(GATEWAY_MULTI_CAPTURE)
    text = os.environ.get("SANDBOX_GATEWAY_MULTI_CAPTURE", "") if text is None else text
    for entry in text.split(","):
        name, _, flag = entry.rpartition("=")
        if name.strip():
            chosen[name.strip()] = flag.strip() not in ("0", "false", "no", "")
    return chosen


@dataclass
class SandboxOptions:
    """Everything configurable about one emulator process."""

    api_key: str = field(default_factory=lambda: os.environ.get("SHOPIFY_API_KEY", DEV_API_KEY))
    api_secret: str = field(default_factory=lambda: os.environ.get("SHOPIFY_API_SECRET", DEV_API_SECRET))
    app_url: str = field(
        default_factory=lambda: os.environ.get("SHOPIFY_APP_URL", "http://127.0.0.1:8000").rstrip("/")
    )
    db_path: str = ":memory:"
    public_url: str = ""  # how clients reach this emulator (set by the runner once bound)
    default_tier: str = "standard"
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 90 * 24 * 3600
    id_token_ttl: int = 60
    webhook_timeout: float = 5.0
    webhook_retry_delays: tuple[float, ...] = (1, 5, 30, 120, 600, 1800, 3600, 7200)
    bulk_max_running: int = 5
    # One staged JSONL of bulk mutation variables: Shopify's storage refuses a larger file
    # (400 EntityTooLarge). 100 MB, counted as Shopify's storage counts (MiB); tests set less.
    bulk_max_upload_bytes: int = 100 * 1024 * 1024
    # Whether productSet, creating a product for a customId identifier that matched none, sets that
    # custom-id metafield on it. Shopify's docs only say it "will attempt to create a new record
    # with the provided inputs"; False plays the other reading (the app must set the id itself:
    # jobs/catalog_custom_id.py). Env SANDBOX_PRODUCT_SET_SETS_CUSTOM_ID=0 for a running emulator.
    product_set_sets_custom_id: bool = field(
        default_factory=lambda: os.environ.get("SANDBOX_PRODUCT_SET_SETS_CUSTOM_ID", "1") != "0"
    )
    # Shopify's daily limit on new variants (sandbox/shopify/variant_throttle.py): once a store not
    # on Plus holds this many variants, at most `variant_throttle_per_day` new ones a day.
    variant_throttle_threshold: int = 50_000
    variant_throttle_per_day: int = 1_000
    seed_locations: tuple[tuple[str, str, str, str], ...] = (
        ("Loja Centro - São Paulo", "Rua Direita, 100", "São Paulo", "SP"),
        ("Loja Moema - São Paulo", "Av. Ibirapuera, 2000", "São Paulo", "SP"),
        ("CD Campinas", "Rod. Anhanguera km 100", "Campinas", "SP"),
    )
    # gateway name -> its authorisations allow several captures (GATEWAY_MULTI_CAPTURE; env
    # SANDBOX_GATEWAY_MULTI_CAPTURE); a gateway not listed allows one.
    gateway_multi_capture: dict[str, bool] = field(default_factory=multi_capture_from_env)

    def multi_capturable(self, gateway: str) -> bool:
        """Whether an authorisation of `gateway` may be captured more than once."""
        return self.gateway_multi_capture.get(gateway, False)
