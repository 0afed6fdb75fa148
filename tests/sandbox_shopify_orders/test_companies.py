"""B2B in the emulator: companies and their locations made through the control routes, an order
placed for a company location (purchasingEntity PurchasingCompany, the location's addresses, no
CPF/CNPJ unless the contact typed one), the merchant filling in a location's tax registration ID,
and the REST body's `company`."""

from __future__ import annotations

from .helpers import Catalogue, Receiver, ShopClient

ENTITY = """
query Entity($id: ID!) {
  order(id: $id) {
    customer { id }
    billingAddress { company address1 provinceCode }
    shippingAddress { company address1 }
    localizedFields(first: 5, countryCodes: [BR], purposes: [TAX, SHIPPING]) { nodes { key value } }
    purchasingEntity {
      __typename
      ... on Customer { id }
      ... on PurchasingCompany {
        company { id name mainContact { id } }
        location {
          id name taxRegistrationId taxSettings { taxRegistrationId taxExempt }
          company { name }
          billingAddress { companyName address1 zoneCode zip countryCode }
        }
        contact { id title customer { id } company { name } }
      }
    }
  }
}"""


def _company(
    shop: ShopClient, tax_registration_id: str | None = "11.222.333/0001-81", seed: int | None = None
) -> dict[str, str]:
    answer = shop.control(
        "/companies",
        {
            "name": "Atacado Bom Preço Ltda",
            "location_name": "Loja Centro",
            "tax_registration_id": tax_registration_id,
            **({"seed": seed} if seed is not None else {}),
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_b2b_order_names_its_company_location_and_takes_its_addresses(
    shop: ShopClient, catalogue: Catalogue, receiver: Receiver
) -> None:
    ids = _company(shop)
    placed = shop.control(
        "/checkout", {"lines": [{"sku": "ARZ-1", "quantity": 2}], "company_location": ids["location"]}
    )
    assert placed.status_code == 200, placed.text
    [order_id] = placed.json()["orders"]
    order = shop.data(ENTITY, {"id": order_id})["order"]
    entity = order["purchasingEntity"]
    assert entity["__typename"] == "PurchasingCompany"
    assert entity["company"] == {
        "id": ids["company"],
        "name": "Atacado Bom Preço Ltda",
        "mainContact": {"id": ids["contact"]},
    }
    location = entity["location"]
    assert (location["id"], location["name"], location["company"]["name"]) == (
        ids["location"],
        "Loja Centro",
        "Atacado Bom Preço Ltda",
    )
    assert location["taxSettings"] == {"taxRegistrationId": "11.222.333/0001-81", "taxExempt": False}
    assert location["taxRegistrationId"] == "11.222.333/0001-81"  # the deprecated field: the same value
    assert entity["contact"]["customer"]["id"] == order["customer"]["id"] == ids["customer"]
    billing = location["billingAddress"]
    assert order["billingAddress"] == {
        "company": billing["companyName"],
        "address1": billing["address1"],
        "provinceCode": billing["zoneCode"],
    }
    assert order["localizedFields"]["nodes"] == []  # a B2B checkout does not ask for a CPF/CNPJ
    shop.wait_webhooks()
    [created] = [
        r.json for r in receiver.topics("orders/create") if r.json["admin_graphql_api_id"] == order_id
    ]
    assert created["company"] == {
        "id": int(ids["company"].rsplit("/", 1)[1]),
        "location_id": int(ids["location"].rsplit("/", 1)[1]),
    }


def test_a_d2c_order_s_purchasing_entity_is_its_customer(shop: ShopClient, catalogue: Catalogue) -> None:
    [order_id] = shop.control("/checkout", {"lines": [{"sku": "ARZ-1", "quantity": 1}]}).json()["orders"]
    order = shop.data(ENTITY, {"id": order_id})["order"]
    assert order["purchasingEntity"] == {"__typename": "Customer", "id": order["customer"]["id"]}
    assert len(order["localizedFields"]["nodes"]) == 2


def test_the_contact_may_type_a_cpf_and_the_merchant_fills_in_the_location_s_tax_id_later(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    ids = _company(shop, tax_registration_id=None)
    lines = [{"sku": "FJN-1", "quantity": 1}]
    body = {"lines": lines, "company_location": ids["location"], "cpf": "529.982.247-25", "seed": 1}
    [order_id] = shop.control("/checkout", body).json()["orders"]
    order = shop.data(ENTITY, {"id": order_id})["order"]
    assert order["purchasingEntity"]["location"]["taxSettings"]["taxRegistrationId"] is None
    assert {f["key"] for f in order["localizedFields"]["nodes"]} == {
        "TAX_CREDENTIAL_BR",
        "SHIPPING_CREDENTIAL_BR",
    }
    filled = shop.control(
        "/company_locations/tax", {"locationId": ids["location"], "taxRegistrationId": "12ABC34501DE35"}
    )
    assert filled.status_code == 200, filled.text
    location = shop.data(ENTITY, {"id": order_id})["order"]["purchasingEntity"]["location"]
    assert location["taxSettings"]["taxRegistrationId"] == "12ABC34501DE35"


def test_unknown_company_locations_are_refused(shop: ShopClient, catalogue: Catalogue) -> None:
    missing = "gid://shopify/CompanyLocation/999999"
    refused = shop.control(
        "/checkout", {"lines": [{"sku": "ARZ-1", "quantity": 1}], "company_location": missing}
    )
    assert refused.status_code == 422 and "no company location" in refused.json()["error"]
    refused = shop.control("/company_locations/tax", {"locationId": missing, "taxRegistrationId": "1"})
    assert refused.status_code == 404
    assert shop.control("/companies", {}).status_code == 400
    assert shop.data("query($id: ID!) { companyLocation(id: $id) { id } }", {"id": missing}) == {
        "companyLocation": None
    }


def test_a_company_gets_another_location_with_an_address_of_its_own(
    shop: ShopClient, catalogue: Catalogue
) -> None:
    """Another store of the company, under the same CNPJ: listed among the company's locations,
    its billing address its shipping address (Shopify's default), not the first location's; an
    order placed for it names it and takes its addresses."""
    ids = _company(shop, seed=1)  # unseeded, its address was the second location's one run in many
    added = shop.control(
        "/company_locations",
        {
            "companyId": ids["company"],
            "name": "Loja Norte",
            "tax_registration_id": "11.222.333/0001-81",
            "seed": 3,
        },
    )
    assert added.status_code == 200, added.text
    second = added.json()["location"]
    listed = shop.data(
        "query($id: ID!) { company(id: $id) { locations(first: 5) { nodes { id name "
        "billingAddress { address1 city } shippingAddress { address1 city } } } } }",
        {"id": ids["company"]},
    )["company"]["locations"]["nodes"]
    assert [n["id"] for n in listed] == [ids["location"], second]
    first, other = listed
    assert other["name"] == "Loja Norte" and other["billingAddress"] == other["shippingAddress"]
    assert other["billingAddress"] != first["billingAddress"]
    placed = shop.control(
        "/checkout",
        {"lines": [{"sku": "ARZ-1", "quantity": 1}], "company_location": second, "shipping": "PAC"},
    )
    [order_id] = placed.json()["orders"]
    order = shop.data(ENTITY, {"id": order_id})["order"]
    assert order["purchasingEntity"]["location"]["id"] == second
    assert order["shippingAddress"]["address1"] == other["shippingAddress"]["address1"]
    refused = shop.control("/company_locations", {"companyId": "gid://shopify/Company/999999", "name": "X"})
    assert refused.status_code == 404
