"""A Consinco ERP (TOTVS Varejo Supermercados) with a generated supermarket chain inside,
behind a SmPedidoVendaAPI-like REST service. The contract: docs/consinco-api.md.

Entry points: `python -m sandbox.consinco --port PORT [--skus N --companies N --seed S --db PATH]`
and `sandbox.consinco.runner.serve_in_thread(port=0, **options)`. Never imports the app.
"""
