"""The dry run must say what the next sync does. After a family move whose skus pass ran first (both
flows due the same minute), the products pass marks a re-read for the skus flow
(catalog_flow._note_skus_reread): the very next skus pass retires the lost packaging. The dry run
reads from that mark as the pass does (it ignored it, and told the merchant only the daily full
sweep would retire the packaging, hours later)."""

from __future__ import annotations

from jobs import catalog_diff, catalog_flow
from ledger.db import session_scope
from tests.catalog_products.test_family_move import _move_to_a_family_with_the_unit_only


def test_the_dry_run_agrees_with_the_next_skus_pass_after_a_move_it_read_first(installed) -> None:
    client = installed.client()
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)
    _move_to_a_family_with_the_unit_only(installed, 1)
    catalog_flow.run_flow(installed.shop_id, "skus", client=client)  # first: old product record cached
    catalog_flow.run_flow(installed.shop_id, "products", client=client)
    with session_scope() as session:
        assert catalog_flow._skus_reread(session, installed.shop_id) is not None

    preview = catalog_diff.compute(installed.shop_id, client=client)
    said_by_sync = {e["seq_produto"] for e in preview["change"] + preview["archive"]}
    said_by_sweep = {e["seq_produto"] for e in preview["full_sweep"]["retire"]}

    before = installed.mutations.count("productSet")
    done = catalog_flow.run_flow(installed.shop_id, "skus", client=client)  # what `catalog sync` runs
    sent = installed.mutations.count("productSet") - before
    client.close()

    assert (done.changed, sent) == (1, 1)  # the sync does retire P1E6 now
    assert 1 in said_by_sync and 1 not in said_by_sweep, (
        f"dry run: change/archive={sorted(said_by_sync)}, full sweep only={sorted(said_by_sweep)}; "
        f"the skus pass then changed {done.changed} product(s)"
    )
