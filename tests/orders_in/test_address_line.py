"""address1 as Brazilian shoppers type it, read into (logradouro, número, complemento) by
jobs.order_customer._address_line: what the register's and the NF-e's address carry."""

from __future__ import annotations

import pytest

from jobs.order_customer import _address_line


@pytest.mark.parametrize(
    ("address1", "expected"),
    [
        # a complement word before a number, typed without a comma: its number is no house number
        ("Rua 2 casa 4", ("Rua 2", "S/N", "casa 4")),
        ("Condomínio Vila Verde casa 10", ("Condomínio Vila Verde", "S/N", "casa 10")),
        ("Lote 5 Quadra 3", ("Lote 5", "S/N", "Quadra 3")),
        ("Quadra 3 Lote 5", ("Quadra 3", "S/N", "Lote 5")),
        ("Rua A Qd 5 Lt 10", ("Rua A", "S/N", "Qd 5 Lt 10")),  # Goiânia, DF, new subdivisions
        ("Rua A Quadra 5 Lote 10", ("Rua A", "S/N", "Quadra 5 Lote 10")),
        ("Rua 5 Qd 10 Lt 3", ("Rua 5", "S/N", "Qd 10 Lt 3")),
        ("Rua das Flores apto 12", ("Rua das Flores", "S/N", "apto 12")),
        ("Rua X - Casa 2", ("Rua X", "S/N", "Casa 2")),
        # a complement glued to its number after a house number typed without a comma
        ("Rua X 100 ap12", ("Rua X", "100", "ap12")),
        ("Rua X 100 apto12", ("Rua X", "100", "apto12")),
        # Brasília's sectors: the sector's number is no house number
        ("SQS 308 Bloco C apto 101", ("SQS 308", "S/N", "Bloco C apto 101")),
        ("SQN 210 Bl A Ap 302", ("SQN 210", "S/N", "Bl A Ap 302")),
        ("QI 5 Conjunto 3 Casa 10", ("QI 5", "S/N", "Conjunto 3 Casa 10")),
        # a road's km with a decimal comma (Brazil's decimal separator)
        ("Estrada Velha km 3,5", ("Estrada Velha", "km 3,5", None)),
        ("Estrada Velha, km 3,5", ("Estrada Velha", "km 3,5", None)),
        ("Rodovia Anhanguera, Km 100,5", ("Rodovia Anhanguera", "km 100,5", None)),
        # "sem número" as typed
        ("Praça da Sé, S/Nº", ("Praça da Sé", "S/N", None)),
        ("Rua X, s/nº", ("Rua X", "S/N", None)),
        ("Rua X, S/N°", ("Rua X", "S/N", None)),
        ("Rua X s/nº", ("Rua X", "S/N", None)),
        ("Rua X, sem número", ("Rua X", "S/N", None)),
        # number prefixes
        ("Rua X n.º 100", ("Rua X", "100", None)),
        ("Rua X, nr 100", ("Rua X", "100", None)),
        ("Rua X, nr. 100", ("Rua X", "100", None)),
        ("Rua X, Nº: 100", ("Rua X", "100", None)),
        ("Rua X, numero: 100", ("Rua X", "100", None)),
        # a number typed without a comma followed by "/..." or a lone letter
        ("Rua Augusta 1508/52", ("Rua Augusta", "1508", "52")),
        ("Rua Augusta 1508/apto 5", ("Rua Augusta", "1508", "apto 5")),
        ("Rua X 123 B", ("Rua X", "123", "B")),
        ("Rua 13 de Maio 1.234 B", ("Rua 13 de Maio", "1234", "B")),
        # symbols and emoji are no part of an address (nor of the NF-e's characters)
        ("Rua Augusta nº 1508 🏠", ("Rua Augusta", "1508", None)),
        ("Rua Augusta 1508 🏠", ("Rua Augusta", "1508", None)),
        ("Rua Augusta 🏠, 1508", ("Rua Augusta", "1508", None)),
        ("Rua Augusta, 1508 🏠", ("Rua Augusta", "1508", None)),
        ("Rua Augusta ★ 1508", ("Rua Augusta", "1508", None)),
    ],
)
def test_address1_reads_as_a_brazilian_expects(address1, expected):
    assert _address_line(address1) == expected


@pytest.mark.parametrize(
    ("address1", "expected"),
    [
        ("Rua Augusta, 1508", ("Rua Augusta", "1508", None)),
        ("R. Augusta 1508 ap 12", ("R. Augusta", "1508", "ap 12")),
        ("Avenida Paulista, 1000 - 5º andar", ("Avenida Paulista", "1000", "5º andar")),
        ("Av Brasil nº1500", ("Av Brasil", "1500", None)),
        ("Rua Dr. João Silva, 45A", ("Rua Dr. João Silva", "45A", None)),
        ("Rua 15 de Novembro, 200", ("Rua 15 de Novembro", "200", None)),
        ("Rua 15 de Novembro 200", ("Rua 15 de Novembro", "200", None)),
        ("Praça da Sé, s/n", ("Praça da Sé", "S/N", None)),
        ("Rua Um, 10, Casa 2", ("Rua Um", "10", "Casa 2")),
        ("Alameda Santos 2.159", ("Alameda Santos", "2159", None)),
        ("Rua São Bento 300 sala 12", ("Rua São Bento", "300", "sala 12")),
        ("Rod. BR-101, km 205", ("Rod. BR-101", "km 205", None)),
        ("Rod. BR-101 km 205", ("Rod. BR-101", "km 205", None)),
        ("Estrada Velha km 3.5", ("Estrada Velha", "km 3.5", None)),
        ("Travessa B, 7", ("Travessa B", "7", None)),
        ("Av. 23 de Maio, 1.000", ("Av. 23 de Maio", "1000", None)),
        ("Rua Sete de Abril 12 fundos", ("Rua Sete de Abril", "12", "fundos")),
        ("Rua X, 123-B", ("Rua X", "123-B", None)),
        ("Rua X 123B", ("Rua X", "123B", None)),
        ("Condomínio X, casa 10", ("Condomínio X", "S/N", "casa 10")),
        ("RUA AUGUSTA 1508 APTO 12", ("RUA AUGUSTA", "1508", "APTO 12")),
        ("Rua Augusta, 1508,", ("Rua Augusta", "1508", None)),
        ("Rua Augusta,1508,apto 12", ("Rua Augusta", "1508", "apto 12")),
        ("Rua da Torre 100", ("Rua da Torre", "100", None)),
        ("Rua da Torre 2", ("Rua da Torre", "2", None)),
        ("Rua da Casa Grande 10", ("Rua da Casa Grande", "10", None)),
        ("Av. Casa Verde 100", ("Av. Casa Verde", "100", None)),
        ("Travessa 2, casa 4", ("Travessa 2", "S/N", "casa 4")),
        ("Rua 10, 45", ("Rua 10", "45", None)),
        ("Avenida Marechal 13 de Maio 200", ("Avenida Marechal 13 de Maio", "200", None)),
        ("Rua Teste, 12,5", ("Rua Teste", "12", "5")),
    ],
)
def test_forms_already_read_right_stay_right(address1, expected):
    assert _address_line(address1) == expected
