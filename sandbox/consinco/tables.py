"""Consinco-shaped tables of the sandbox ERP (SQLAlchemy Core, its own MetaData).

Names follow Consinco's Oracle dictionary (lower-case here: the same unquoted identifier in
Oracle and PostgreSQL). Columns marked "[assumed]" are not seen in public material; see
docs/consinco-api.md. Every write goes through `sandbox.consinco.store`, which maintains the
change-tracking columns (DTAHORALTERACAO, DTAALTERACAO, DTAHORALTEMBPRECO, ...).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

MONEY = Numeric(15, 2, asdecimal=False)
QTY = Float

map_familia = Table(
    "map_familia",
    metadata,
    Column("seqfamilia", Integer, primary_key=True, autoincrement=False),
    Column("familia", String(60), nullable=False),
    Column("pesavel", String(1), nullable=False),
    Column("pmtdecimal", String(1), nullable=False),
    Column("codnbmsh", String(10)),
    Column("codcest", String(9)),
    Column("marca", String(40)),  # [assumed]
    Column("categoria", String(40)),  # [assumed]
)

map_produto = Table(
    "map_produto",
    metadata,
    Column("seqproduto", Integer, primary_key=True, autoincrement=False),
    Column("seqfamilia", Integer, nullable=False, index=True),
    Column("desccompleta", String(100), nullable=False),
    Column("descreduzida", String(40), nullable=False),
    Column("reffabricante", String(30)),
    Column("indintegraecommerce", String(1), nullable=False),
    Column("dtahorinclusao", DateTime, nullable=False),
    Column("dtahoralteracao", DateTime, nullable=False),
    Index("ix_map_produto_alteracao", "dtahoralteracao", "seqproduto"),
)

map_famembalagem = Table(
    "map_famembalagem",
    metadata,
    Column("seqfamilia", Integer, primary_key=True, autoincrement=False),
    Column("qtdembalagem", Integer, primary_key=True, autoincrement=False),
    Column("embalagem", String(4), nullable=False),
    Column("status", String(1), nullable=False),
    Column("pesobruto", QTY),
    Column("pesoliquido", QTY),
    Column("dtahoraltembpreco", DateTime, nullable=False, index=True),
)

map_prodcodigo = Table(
    "map_prodcodigo",
    metadata,
    Column("codacesso", String(20), primary_key=True),
    Column("seqproduto", Integer, nullable=False, index=True),
    Column("tipcodigo", String(1), nullable=False),
    Column("qtdembalagem", Integer, nullable=False),
    Column("indutilvenda", String(1), nullable=False),
)

ge_pessoa = Table(
    "ge_pessoa",
    metadata,
    Column("seqpessoa", Integer, primary_key=True, autoincrement=False),
    Column("nomerazao", String(100), nullable=False),
    Column("fantasia", String(100)),
    Column("fisicajuridica", String(1), nullable=False),
    # Consinco keeps the document split and numeric; text here so alphanumeric CNPJs fit.
    Column("nrocgccpf", String(12), nullable=False),
    Column("digcgccpf", String(2), nullable=False),
    Column("cep", String(8)),
    Column("cidade", String(60)),
    Column("uf", String(2)),
    Column("bairro", String(60)),
    Column("logradouro", String(100)),
    Column("nrologradouro", String(10)),
    Column("cmpltologradouro", String(60)),
    Column("email", String(100)),
    Column("foneddd1", String(3)),
    Column("fonenro1", String(12)),
    Column("inscricaorg", String(20)),
    Column("dtaalteracao", DateTime, nullable=False),
    UniqueConstraint("nrocgccpf", "digcgccpf", name="uq_ge_pessoa_doc"),
)

max_empresa = Table(
    "max_empresa",
    metadata,
    Column("nroempresa", Integer, primary_key=True, autoincrement=False),
    Column("nomereduzido", String(40), nullable=False),  # [assumed]
    Column("seqpessoaemp", Integer, nullable=False),
    Column("nrosegmentoprinc", Integer, nullable=False),
    Column("nrodivisao", Integer, nullable=False),
    Column("uf", String(2), nullable=False),
    Column("status", String(1), nullable=False),  # [assumed]
    Column("dtaalteracao", DateTime, nullable=False),  # [assumed]
)

mad_segmento = Table(
    "mad_segmento",
    metadata,
    Column("nrosegmento", Integer, primary_key=True, autoincrement=False),
    Column("descsegmento", String(40), nullable=False),
    Column("indprecoembalagem", String(1), nullable=False),
    Column("status", String(1), nullable=False),  # [assumed]
    Column("dtaalteracao", DateTime, nullable=False),  # [assumed]
)

# [assumed] the sales representatives an order may be filed under (MAD_PEDVENDA.NROREPRESENTANTE);
# Consinco's own table is not in public material, so only what the order insert checks is modelled
mad_representante = Table(
    "mad_representante",
    metadata,
    Column("nrorepresentante", Integer, primary_key=True, autoincrement=False),
    Column("apelido", String(40), nullable=False),
    Column("status", String(1), nullable=False),  # 'A' active / 'I' inactive
    Column("dtaalteracao", DateTime, nullable=False),
)

mrl_produtoempresa = Table(
    "mrl_produtoempresa",
    metadata,
    Column("nroempresa", Integer, primary_key=True, autoincrement=False),
    Column("seqproduto", Integer, primary_key=True, autoincrement=False),
    Column("estqloja", QTY, nullable=False),
    Column("estqdeposito", QTY, nullable=False),
    Column("estqtroca", QTY, nullable=False),
    Column("estqterceiro", QTY, nullable=False),
    Column("qtdreservadavda", QTY, nullable=False),
    Column("qtdreservadareceb", QTY, nullable=False),
    Column("qtdreservadafixa", QTY, nullable=False),
    Column("indcontrolaestoqueecomm", String(1), nullable=False),
    Column("estqsegurancaecommerce", QTY, nullable=False),
    Column("dtaalteracao", DateTime, nullable=False),
    Column("dtahorultmovtoestq", DateTime, nullable=False),
    Index("ix_mrl_produtoempresa_alteracao", "dtaalteracao", "nroempresa", "seqproduto"),
)

mrl_prodempseg = Table(
    "mrl_prodempseg",
    metadata,
    Column("nroempresa", Integer, primary_key=True, autoincrement=False),
    Column("nrosegmento", Integer, primary_key=True, autoincrement=False),
    Column("seqproduto", Integer, primary_key=True, autoincrement=False),
    Column("qtdembalagem", Integer, primary_key=True, autoincrement=False),
    Column("precovalidnormal", MONEY, nullable=False),
    Column("precovalidpromoc", MONEY, nullable=False),
    Column("dtainicioprom", Date),  # [assumed]
    Column("dtafimprom", Date),  # [assumed]
    Column("statusvenda", String(1), nullable=False),
    Column("dtaalteracao", DateTime, nullable=False),
    Index(
        "ix_mrl_prodempseg_alteracao",
        "dtaalteracao",
        "nroempresa",
        "nrosegmento",
        "seqproduto",
        "qtdembalagem",
    ),
)

mrl_formapagto = Table(
    "mrl_formapagto",
    metadata,
    Column("nroformapagto", Integer, primary_key=True, autoincrement=False),
    Column("formapagto", String(40), nullable=False),
    Column("especieformapagto", String(1), nullable=False),
    Column("status", String(1), nullable=False),  # [assumed]
    Column("dtaalteracao", DateTime, nullable=False),  # [assumed]
)

mad_pedvenda = Table(
    "mad_pedvenda",
    metadata,
    Column("nropedvenda", Integer, primary_key=True, autoincrement=False),
    Column("seqcanalvenda", Integer, nullable=False),  # [assumed]
    Column("nropedcliente", String(60), nullable=False),
    Column("nroempresa", Integer, nullable=False),
    Column("nrosegmento", Integer, nullable=False),
    Column("seqpessoa", Integer, nullable=False),
    Column("situacaoped", String(1), nullable=False),
    Column("codgeraloper", Integer, nullable=False),
    Column("nroformapagto", Integer),
    Column("nrotabvenda", String(10)),
    Column("nrorepresentante", Integer),  # the insert body's nroRepresentante; null when left out
    Column("indentregaretira", String(1), nullable=False),
    Column("seqtransportador", Integer),  # [assumed] the insert body's seqTransportador
    # the insert body's indIntermediador (NF-e indIntermed: 0 own platform, 1 a third party's);
    # null for an order posted without it
    Column("indintermediador", Integer),
    Column("obspedido", Text),
    Column("obsnotafiscal", Text),
    Column("vlrfreteped", MONEY, nullable=False),
    Column("dtahorpedcanalvenda", DateTime),  # [assumed]
    Column("dtainclusao", DateTime, nullable=False),
    Column("dtaalteracao", DateTime, nullable=False, index=True),
    Column("dtahorsituacaopedalt", DateTime, nullable=False),
    Column("dtacancelamento", DateTime),
    Column("motcancelamento", String(200)),
    UniqueConstraint("seqcanalvenda", "nropedcliente", name="uq_mad_pedvenda_canal"),
)

mad_pedvendaitem = Table(
    "mad_pedvendaitem",
    metadata,
    Column("nropedvenda", Integer, primary_key=True, autoincrement=False),
    Column("seqitem", Integer, primary_key=True, autoincrement=False),  # [assumed]
    Column("seqproduto", Integer, nullable=False),
    Column("codacesso", String(20)),
    Column("qtdembalagem", Integer, nullable=False),
    Column("qtdpedida", QTY, nullable=False),
    Column("qtdatendida", QTY),
    Column("vlrembtabpreco", MONEY, nullable=False),
    Column("vlrembtabpromoc", MONEY, nullable=False),
    Column("vlrembinformado", MONEY, nullable=False),
    # One packaging's discount, as every VLREMB* column (public schema: NUMERIC(17,6)).
    Column("vlrembdesconto", Numeric(17, 6, asdecimal=False), nullable=False),
    Column("observacaoitem", String(200)),
    Column("seqitemsubst", Integer),  # [assumed]
)

mad_pedvendaformapagto = Table(  # [assumed]
    "mad_pedvendaformapagto",
    metadata,
    Column("nropedvenda", Integer, primary_key=True, autoincrement=False),
    Column("seqpagto", Integer, primary_key=True, autoincrement=False),
    Column("nroformapagto", Integer, nullable=False),
    Column("vlrpagto", MONEY, nullable=False),
    Column("qtdparcela", Integer, nullable=False),
    Column("idpagtocanalvenda", String(100)),
)

# [assumed] the card data of an order's payment form (POST PedidoVenda/PagamentoCartao, whose
# fields TDN names but not its path nor its table): one row per order x idPagtoCanalVenda, which
# a repeat of the call replaces; the card number only masked
mad_pedvendacartao = Table(
    "mad_pedvendacartao",
    metadata,
    Column("nropedvenda", Integer, primary_key=True, autoincrement=False),
    Column("idpagtocanalvenda", String(100), primary_key=True),
    Column("nsu", String(20)),
    Column("nrocartao", String(19)),
    Column("codrede", Integer),
    Column("codbandeira", Integer),
    Column("codbin", String(8)),
    Column("nroautorizacao", String(20)),
    Column("dtainclusao", DateTime, nullable=False),
    Column("dtaalteracao", DateTime, nullable=False),
)

mad_pedvendaevento = Table(  # [assumed]: the rows behind GET PedidoVenda/EventoPedido
    "mad_pedvendaevento",
    metadata,
    Column("seqevento", Integer, primary_key=True, autoincrement=False),
    Column("nropedvenda", Integer, nullable=False, index=True),
    Column("nroempresa", Integer, nullable=False),
    Column("tipoevento", String(1), nullable=False),
    Column("dtahorevento", DateTime, nullable=False),
    Column("dados", Text, nullable=False),
    Index("ix_mad_pedvendaevento_evento", "dtahorevento", "seqevento"),
)

mfl_doctofiscal = Table(
    "mfl_doctofiscal",
    metadata,
    Column("seqnf", Integer, primary_key=True, autoincrement=False),
    Column("nroempresa", Integer, nullable=False),
    Column("numerodf", Integer, nullable=False),
    Column("seriedf", Integer, nullable=False),
    Column("modelodf", String(2), nullable=False),
    Column("nfechaveacesso", String(44), nullable=False, unique=True),
    Column("statusdf", String(1), nullable=False),
    Column("dtahoremissao", DateTime, nullable=False),
    Column("vlrtotal", MONEY, nullable=False),
    Column("nropedidovenda", Integer, nullable=False, index=True),
    Column("dtaalteracao", DateTime, nullable=False),
)
