"""Where the ERP client tests point it (a name of its own: `conftest` is ambiguous in a full run,
since tests/erp is not a package — it would shadow the real `erp`)."""

BASE = "http://erp.test/smpedidovenda/smpedidovendaapi"
API = BASE + "/api/v1/"
