"""The keys an invoices message's response keeps (flow `invoices`) that other modules read back.

A leaf (no imports): jobs.order_events reads them to tell an old ERP's half-done invoice from one
that did nothing, and jobs.invoice_tracking imports jobs.order_events, so the names cannot live
there. What each one means:

- KEY: the NF-e the message applied. Written when the run ends, or at once when a capture was
  asked (jobs.invoice_capture.ASKED beside it, whatever Shopify answered): a rerun that finds it
  takes the NF-e as applied by this message before (a replay captures nothing more; a rerun of a
  run that did not end follows the captures ASKED records: jobs.invoice_capture.recheck), so it
  never names a run that stopped before its capture was asked. The order's other NF-e count the
  NF-e it names even while the message is left failed (jobs.invoice_documents._charged_not_done):
  its money was asked for.
- ENDED: the run that wrote the response ran to the end (the message done, every capture it asked
  answered): its ASKED record is then only when the NF-e was charged (jobs.invoice_documents), and a
  replay captures and rechecks nothing. Without it, ASKED beside KEY is a run that stopped after
  asking (pending at the gateway, or a failure after the capture): its rerun re-checks.
- WRITTEN: the NF-e whose metafields a run wrote on the Shopify order, written on the message at
  once: Shopify-side work begun, whatever happens next.
- FULFILLMENTS / FULFILLED_FOR: the fulfillments the message created, and the NF-e they were
  created for, written as each is created (jobs.invoice_fulfillments.remember).
- ADOPTED: fulfillments a message took as its NF-e's where no message had recorded any for it
  (jobs.invoice_fulfillments.unrecorded): the ids and where they came from.
- CAPTURING: the NF-e whose capture a run was about to ask Shopify for, written on the message
  at once before the orderCapture call: whatever the capture's failure looks like afterwards (a
  userError, an HTTP 4xx, a network error) the message was then about the NF-e's money
  (jobs.invoice_documents.about_money).
- CAPTURING_AT: when CAPTURING was first written for that NF-e (kept by a rerun): when the NF-e's
  charge began. A rerun that finds no full capture record (ASKED) — the run was cut short while
  asking: a network error with the answer lost, a crash between two authorisations' captures —
  counts no refund made after it as money owed (jobs.invoices: the captures that landed are read
  from Shopify's transactions, never asked again). Left so on a message that failed, the order's
  next NF-e counts the charge from it too, and that NF-e for what of it landed
  (jobs.invoice_documents.settle).
- CAPTURES_BEFORE: the ids of the order's capture transactions (any status) Shopify held when that
  charge began, read before the first orderCapture call and written with CAPTURING_AT (kept by a
  rerun, and on the response it ends with): the captures a rerun finds beyond them are its own runs'
  (jobs.invoice_documents.own_landed: one whose answer was lost has no id on any record of ours),
  the ones among them another NF-e's — taken for its own, a rerun whose first run took nothing would
  charge nothing. Ids, not times: a capture pending at the gateway gets its processedAt when the
  gateway answers, and Shopify's times are whole seconds while two messages of an order run within
  one. A charge begun before it was kept has none (every capture Shopify holds counts as its own
  first, as before). Grown by a rerun whose previous run had every capture it asked answered
  (CAPTURE_RUN): the captures that landed since that run began and no record of ours names are
  another NF-e's (its Retry's, a person's by hand) — runs of an order's messages are serialised, so
  a capture is the run's that began just before it landed, and a run that knows every answer names
  its own (jobs.invoice_documents.held_by_others). Else kept: a run cut short without an answer may
  have landed a capture no record names, which must count as its own (else it is captured twice).
- CAPTURE_RUN: the last run that began asking the NF-e's money: the ids of the order's captures
  Shopify held when it began ("held"), and whether every orderCapture it sent was answered
  ("answered": a transaction, or a userError — nothing created; False until then, so a run cut short
  while asking leaves it False). Read by the next run for CAPTURES_BEFORE.
- ASKED_SO_FAR: the capture records (jobs.invoice_capture.Asked.record, partial) of runs cut short
  while asking: what each had asked and had answered so far, written after each orderCapture
  answer; a rerun keeps the earlier runs' in its response.
- CHARGED_AT: when the NF-e was charged, in every done response: the time its capture began
  (CAPTURING_AT; the capture record's time), else the run's time (nothing to capture: an order paid
  at checkout). A replay carries it forward (jobs.invoice_documents.keep_charge_time writes it, for
  a response stored before it was kept, from the row's finished_at before the replay resets that):
  the refund rule of the order's next NF-e counts from it (jobs.invoice_documents).
- SETTLED: a later event of an NF-e whose earlier event a person closed as handled (settled its
  money outside the app: ledger.handled): that event (seq, by, at, note) and the NF-e's money the
  app did not ask for because of it ("amount"). jobs.invoice_documents counts that amount as paid
  outside Shopify, so the order's next NF-e does not charge it.
"""

from __future__ import annotations

KEY = "key"
WRITTEN = "nfe_written"
FULFILLMENTS = "fulfillments"
FULFILLED_FOR = "fulfillments_for"
FULFILLING_AT = "fulfilling_at"  # when a run first asked Shopify to fulfil (committed before the call)
ADOPTED = "fulfillments_adopted"
SETTLED = "settled_outside"
CAPTURING = "capture_begun"
CAPTURING_AT = "capture_begun_at"
CAPTURES_BEFORE = "captures_before_begun"
CAPTURE_RUN = "capture_run"
ASKED_SO_FAR = "capture_asked_so_far"
CHARGED_AT = "charged_at"
ENDED = "run_ended"
