"""Brazilian buyers for the checkout simulator: names, e-mails, phones, addresses and tax ids.

Tax ids are valid by construction but never hand-validated: CPF check digits are found by
asking python-stdnum which of the 100 candidates is valid, CNPJ check digits come from
`stdnum.br.cnpj.calc_check_digits` (alphanumeric roots included, as issued from July 2026).
"""

from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass

from stdnum.br import cnpj, cpf

FIRST_NAMES = (
    "Ana",
    "Beatriz",
    "Camila",
    "Daniela",
    "Fernanda",
    "Gabriela",
    "Juliana",
    "Larissa",
    "Mariana",
    "Patrícia",
    "Bruno",
    "Carlos",
    "Diego",
    "Eduardo",
    "Felipe",
    "Gustavo",
    "João",
    "Lucas",
    "Rafael",
    "Thiago",
    "Antônio",
    "Francisca",
    "Luíza",
    "Sebastião",
    "Conceição",
)
LAST_NAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Araújo",
    "Melo",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
)
COMPANIES = (
    "Mercadinho Boa Vista Ltda",
    "Padaria Pão Dourado ME",
    "Restaurante Sabor Mineiro Ltda",
    "Lanchonete Esquina Ltda",
    "Empório Santa Luzia EIRELI",
    "Hortifruti Bom Preço Ltda",
)
# (address1, address2 options, city, province code, province, zip, area code)
ADDRESSES = (
    ("Av. Paulista, 1000", "Bela Vista", "São Paulo", "SP", "São Paulo", "01310-100", "11"),
    ("Rua da Consolação, 2300", "Consolação", "São Paulo", "SP", "São Paulo", "01301-100", "11"),
    ("Rua Augusta, 1508", "Cerqueira César", "São Paulo", "SP", "São Paulo", "01304-001", "11"),
    ("Av. Brigadeiro Faria Lima, 3477", "Itaim Bibi", "São Paulo", "SP", "São Paulo", "04538-133", "11"),
    ("Rua Barão de Jaguara, 1481", "Centro", "Campinas", "SP", "São Paulo", "13015-002", "19"),
    ("Av. Atlântica, 1702", "Copacabana", "Rio de Janeiro", "RJ", "Rio de Janeiro", "22021-001", "21"),
    ("Rua XV de Novembro, 700", "Centro", "Curitiba", "PR", "Paraná", "80020-310", "41"),
    ("Av. Afonso Pena, 1500", "Centro", "Belo Horizonte", "MG", "Minas Gerais", "30130-005", "31"),
    (
        "Av. Borges de Medeiros, 1501",
        "Praia de Belas",
        "Porto Alegre",
        "RS",
        "Rio Grande do Sul",
        "90119-900",
        "51",
    ),
    ("Av. Sete de Setembro, 1200", "Dois de Julho", "Salvador", "BA", "Bahia", "40060-001", "71"),
)
COMPLEMENTS = (None, "Apto 52", "Bloco B, apto 101", "Casa 2", "Sala 1203", "Fundos")


@dataclass(frozen=True)
class Buyer:
    """One generated customer with a delivery address and a tax id (CPF, or CNPJ for a company)."""

    first_name: str
    last_name: str
    email: str
    phone: str
    company: str | None
    tax_id: str  # digits / [0-9A-Z], unmasked
    address1: str
    address2: str | None
    city: str
    province_code: str
    province: str
    zip: str

    @property
    def is_company(self) -> bool:
        return self.company is not None


def make_cpf(rng: random.Random) -> str:
    """A valid CPF (11 digits, not one repeated digit)."""
    while True:
        base = "".join(rng.choice(string.digits) for _ in range(9))
        if len(set(base)) == 1:
            continue
        for suffix in range(100):
            candidate = f"{base}{suffix:02d}"
            if cpf.is_valid(candidate):
                return candidate


def make_cnpj(rng: random.Random, alphanumeric: bool = False) -> str:
    """A valid CNPJ: 8-character root, branch 0001, two check digits; the root holds letters
    when `alphanumeric` (IN RFB 2.229/2024)."""
    alphabet = string.digits + string.ascii_uppercase if alphanumeric else string.digits
    while True:
        root = "".join(rng.choice(alphabet) for _ in range(8))
        if alphanumeric and root.isdigit():
            root = root[:3] + rng.choice(string.ascii_uppercase) + root[4:]
        base = f"{root}0001"
        candidate = base + cnpj.calc_check_digits(base)
        if cnpj.is_valid(candidate):
            return candidate


def mask(tax_id: str) -> str:
    """The way a buyer types it in checkout: 000.000.000-00 / 00.000.000/0000-00."""
    return cpf.format(tax_id) if len(tax_id) == 11 else cnpj.format(tax_id)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def make_buyer(rng: random.Random, company_rate: float = 0.15, tax_id: str | None = None) -> Buyer:
    """A random Brazilian buyer; `tax_id` forces the CPF/CNPJ (digits, any mask removed)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    address1, district, city, code, province, zip_code, area = rng.choice(ADDRESSES)
    complement = rng.choice(COMPLEMENTS)
    forced = cnpj.compact(tax_id) if tax_id else None
    is_company = (len(forced) == 14) if forced else rng.random() < company_rate
    if forced:
        document = forced
    elif is_company:
        document = make_cnpj(rng, alphanumeric=rng.random() < 0.3)
    else:
        document = make_cpf(rng)
    number = rng.randint(10_000_000, 99_999_999)
    return Buyer(
        first_name=first,
        last_name=last,
        email=f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 999)}@example.com.br",
        phone=f"+55{area}9{number}",
        company=rng.choice(COMPANIES) if is_company else None,
        tax_id=document,
        address1=address1,
        address2=", ".join(p for p in (complement, district) if p),
        city=city,
        province_code=code,
        province=province,
        zip=zip_code,
    )
