"""Shopify's daily limit on new variants for large stores not on Plus.

Shopify (shopify.dev, API limits, "resource-based rate limits"): once a store has 50,000 product
variants, no more than 1,000 new variants can be created per day, except on Shopify Plus and
Enterprise. The answer is a top-level GraphQL error on the mutation's field, its data null:
"Daily variant creation limit reached. Please try again later." with `extensions.code`
VARIANT_THROTTLE_EXCEEDED (as Shopify's community threads show it for productCreate; productSet
is assumed to answer alike). In a bulk operation the same error is that line's `errors`.

Emulated: a call that would create k variants on a store already holding `threshold` or more,
when the variants created in the trailing 24 hours while the store was over the threshold plus k
pass `per_day`, is refused whole (nothing of it written). The window is a trailing day (Shopify
does not say whether its day is a calendar day or rolling). Plus and Enterprise shops are never
held. The threshold and the allowance are shop-level options (SandboxOptions, the control
endpoint `POST /_sandbox/shops/<shop>/variant_throttle` for tests and the demo).

The store's variant count is known without a COUNT per call: an upper bound (the last count plus
what was created since) is checked first; only a store whose bound reaches the threshold is
counted exactly (deletions make the bound high, never low).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

if TYPE_CHECKING:
    from sandbox.shopify.registry import Ctx
    from sandbox.shopify.sandbox import Sandbox

CODE = "VARIANT_THROTTLE_EXCEEDED"
MESSAGE = (
    "Daily variant creation limit reached. Please try again later. See "
    "https://shopify.dev/docs/api/usage/limits for more information about rate limits and how to avoid them."
)
DAY = 24 * 3600
EXEMPT_TIERS = frozenset({"plus", "enterprise"})


class VariantThrottle:
    """Per shop: the variants created while over the threshold ([time, count] in the shop's record,
    key `variantThrottle`), and the cached upper bound of its variant count."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._bound: dict[str, int] = {}

    def settings(self, shop: str, record: dict[str, Any] | None = None) -> dict[str, Any]:
        """The shop's threshold, daily allowance and creations counted (`record`: its shop record,
        when the caller has it)."""
        record = record if record is not None else self.sandbox.shops.ensure(shop)
        options = self.sandbox.options
        saved = record.get("variantThrottle") or {}
        return {
            "threshold": int(saved.get("threshold", options.variant_throttle_threshold)),
            "perDay": int(saved.get("perDay", options.variant_throttle_per_day)),
            "created": list(saved.get("created") or []),
        }

    def configure(
        self, shop: str, *, threshold: int | None = None, per_day: int | None = None, new_day: bool = False
    ) -> dict[str, Any]:
        """Set the shop's threshold / daily allowance; `new_day` forgets the creations counted so far
        (a day passed)."""
        with self.sandbox.store.transaction():
            current = self.settings(shop)
            if threshold is not None:
                current["threshold"] = int(threshold)
            if per_day is not None:
                current["perDay"] = int(per_day)
            if new_day:
                current["created"] = []
            self._save(shop, current)
        return current

    def forget(self, shop: str) -> None:
        """The shop was reset: its count is read again."""
        self._bound.pop(shop, None)

    def admit(self, ctx: Ctx, at_most: int, exactly: Callable[[], int]) -> None:
        """Before a mutation creates variants (`at_most` of them, `exactly()` of them counted only
        where it matters: a store at the threshold): raise Shopify's error when the day's allowance
        does not hold them; otherwise count them (the caller then writes them)."""
        if at_most <= 0:
            return
        store = ctx.sandbox.store
        with store.lock:
            record = ctx.sandbox.shops.ensure(ctx.shop)
            if record["tier"] in EXEMPT_TIERS:
                return
            current = self.settings(ctx.shop, record)
            bound = self._bound.get(ctx.shop)
            if bound is None or bound >= current["threshold"]:
                bound = store.count(ctx.shop, "ProductVariant")
            if bound < current["threshold"]:
                self._bound[ctx.shop] = bound + at_most
                return
            new_variants = exactly()
            if new_variants <= 0:
                return
            now = ctx.sandbox.clock.now()
            created = [entry for entry in current["created"] if entry[0] > now - DAY]
            if sum(count for _, count in created) + new_variants > current["perDay"]:
                self._bound[ctx.shop] = bound
                raise GraphQLError(MESSAGE, extensions={"code": CODE})
            current["created"] = [*created, [now, new_variants]]
            self._save(ctx.shop, current, record)
            self._bound[ctx.shop] = bound + new_variants

    def _save(self, shop: str, current: dict[str, Any], record: dict[str, Any] | None = None) -> None:
        record = record if record is not None else self.sandbox.shops.ensure(shop)
        record["variantThrottle"] = current
        self.sandbox.store.put_row("shops", shop, record)
