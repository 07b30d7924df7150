"""The crm module's REST API as the React app uses it (frontend/src/api.ts).

Session authentication with CSRF, pages with ?page_size=, a deal moved by
PATCHing its stage, notes added to a deal. Needs the crm module.
"""

import pytest
from crm_helpers import app_config, user  # noqa: F401 (user is a fixture)
from django.apps import apps
from django.test import Client
from django.urls import reverse

if not apps.is_installed("quickscale_modules_crm"):
    pytest.skip(
        "the crm module is not embedded: git quickscale plan --add crm, then git quickscale apply",
        allow_module_level=True,
    )

from quickscale_modules_crm.models import Company, Contact, Deal, Stage, Tag  # noqa: E402


def api(name: str, *args: object) -> str:
    return reverse(f"quickscale_crm:{name}", args=args)


@pytest.fixture
def browser(user):
    """A client that checks CSRF like a browser session does, signed in, with
    the token the app page hands to the React app."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    config = app_config(client.get("/"))
    client.csrf_headers = {config["csrfHeader"]: config["csrfToken"]}
    return client


@pytest.fixture
def deal():
    company = Company.objects.create(name="Acme")
    contact = Contact.objects.create(first_name="Ada", last_name="Byron", email="ada@example.com", company=company)
    stage = Stage.objects.order_by("order").first()
    return Deal.objects.create(title="Big order", contact=contact, stage=stage, amount="1500.00")


def test_signed_out_requests_are_refused(client):
    assert client.get(api("deal-list")).status_code == 403


def test_the_pipeline_stages_exist_in_order(browser):
    data = browser.get(api("stage-list")).json()
    names = [stage["name"] for stage in data["results"]]
    assert names == ["Prospecting", "Negotiation", "Closed-Won", "Closed-Lost"]


def test_lists_come_in_pages_of_the_size_asked_for(browser):
    company = Company.objects.create(name="Acme")
    for i in range(3):
        Contact.objects.create(first_name=f"P{i}", last_name="Doe", email=f"p{i}@example.com", company=company)
    page = browser.get(api("contact-list"), {"page_size": 2}).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert "page=2" in page["next"]
    assert page["previous"] is None
    assert browser.get(api("contact-list"), {"page_size": 1000}).json()["results"][2]["first_name"] == "P2"


def test_contacts_are_searched_by_name_email_and_company(browser, deal):
    found = browser.get(api("contact-list"), {"search": "acme"}).json()
    assert [c["full_name"] for c in found["results"]] == ["Ada Byron"]
    assert browser.get(api("contact-list"), {"search": "nobody"}).json()["count"] == 0


def test_a_contact_is_created_and_edited_with_company_and_tags(browser):
    company = Company.objects.create(name="Acme")
    vip = Tag.objects.create(name="vip")
    created = browser.post(
        api("contact-list"),
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@example.com",
            "company_id": company.id,
            "tag_ids": [vip.id],
        },
        content_type="application/json",
        headers=browser.csrf_headers,
    )
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    listed = browser.get(api("contact-list")).json()["results"][0]
    assert (listed["company_name"], listed["tag_names"]) == ("Acme", ["vip"])
    edited = browser.patch(
        api("contact-detail", contact_id),
        {"title": "Rear Admiral", "tag_ids": []},
        content_type="application/json",
        headers=browser.csrf_headers,
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["title"] == "Rear Admiral"
    assert edited.json()["tags"] == []


def test_invalid_input_is_refused_per_field(browser):
    response = browser.post(
        api("contact-list"),
        {"first_name": "X", "last_name": "Y", "email": "not-an-email"},
        content_type="application/json",
        headers=browser.csrf_headers,
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email", "company_id"}


def test_a_deal_moves_to_another_stage(browser, deal):
    target = Stage.objects.get(name="Negotiation")
    response = browser.patch(
        api("deal-detail", deal.id),
        {"stage_id": target.id},
        content_type="application/json",
        headers=browser.csrf_headers,
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage"]["id"] == target.id
    deal.refresh_from_db()
    assert deal.stage == target


def test_changes_without_the_csrf_token_are_refused(browser, deal):
    target = Stage.objects.get(name="Negotiation")
    response = browser.patch(api("deal-detail", deal.id), {"stage_id": target.id}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    deal.refresh_from_db()
    assert deal.stage != target


def test_a_deal_shows_its_contact_company_and_notes(browser, deal):
    added = browser.post(
        api("deal-notes", deal.id),
        {"text": "Called, sending a quote."},
        content_type="application/json",
        headers=browser.csrf_headers,
    )
    assert added.status_code == 201, added.content
    assert added.json()["created_by_name"] == "Alice Lane"
    detail = browser.get(api("deal-detail", deal.id)).json()
    assert detail["contact"]["company_name"] == "Acme"
    assert detail["amount"] == "1500.00"
    assert [n["text"] for n in detail["notes"]] == ["Called, sending a quote."]
