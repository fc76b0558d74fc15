"""``POST /api/v1/work-items/webhook/<source>/``: one "item changed" event signed by its source."""

import json
import logging

import pytest

from tests.products.factories import ProductFactory
from valuestreams.api.ingest import signature_of
from valuestreams.models import StatusChange, WorkItem, WorkSource


def url(slug: str) -> str:
    return f"/api/v1/work-items/webhook/{slug}/"


EVENT = {
    "key": "JIRA-7",
    "tracker_type": "Bug",
    "product": "checkout",
    "title": "Totals wrong",
    "created_at": "2024-05-01T09:00:00Z",
    "status": "In Progress",
    "at": "2024-05-02T10:00:00Z",
}


@pytest.fixture
def sources(db):
    ProductFactory(slug="checkout")
    return (
        WorkSource.objects.create(name="Jira", slug="jira", webhook_secret="jira-secret-1"),
        WorkSource.objects.create(name="GitLab", slug="gitlab", webhook_secret="gitlab-secret-2"),
    )


def post(client, slug, event, *, secret=None, signature=None):
    body = json.dumps(event).encode()
    headers = {}
    if signature is not None:
        headers["X-Signature"] = signature
    elif secret is not None:
        headers["X-Signature"] = signature_of(body, secret)
    return client.post(url(slug), data=body, content_type="application/json", headers=headers)


def test_good_signature_writes_item_and_change(client, sources):
    response = post(client, "jira", EVENT, secret="jira-secret-1")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "items": {"created": 1, "updated": 0, "unchanged": 0},
        "transitions": {"created": 1, "duplicates": 0},
    }
    item = WorkItem.objects.get(source__slug="jira", key="JIRA-7")
    assert (item.type, item.tracker_type, item.product.slug) == ("defect", "Bug", "checkout")
    assert list(item.status_changes.values_list("to_status", flat=True)) == ["In Progress"]


def test_same_event_twice_is_stored_once(client, sources):
    post(client, "jira", EVENT, secret="jira-secret-1")
    response = post(client, "jira", EVENT, secret="jira-secret-1")

    assert response.json() == {
        "items": {"created": 0, "updated": 0, "unchanged": 1},
        "transitions": {"created": 0, "duplicates": 1},
    }
    assert StatusChange.objects.count() == 1


def test_a_status_only_event_for_a_stored_item(client, sources):
    post(client, "jira", EVENT, secret="jira-secret-1")
    response = post(
        client,
        "jira",
        {"key": "JIRA-7", "status": "Done", "at": "2024-05-03T10:00:00Z"},
        secret="jira-secret-1",
    )
    assert response.status_code == 200
    assert StatusChange.objects.filter(item__key="JIRA-7").count() == 2


def test_csrf_is_not_required(sources):
    from django.test import Client

    response = post(Client(enforce_csrf_checks=True), "jira", EVENT, secret="jira-secret-1")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("slug", "secret", "signature", "reason"),
    [
        ("jira", "wrong-secret", None, "bad signature"),
        ("jira", None, None, "missing signature"),
        ("jira", None, "sha256=", "bad signature"),
        ("jira", None, "md5=abc", "bad signature"),
        # Signed by another source: a source's secret signs only its own events.
        ("jira", "gitlab-secret-2", None, "bad signature"),
        ("nobody", "jira-secret-1", None, "unknown source"),
    ],
)
def test_bad_or_missing_signature_is_refused_and_logged(
    client, sources, caplog, slug, secret, signature, reason
):
    with caplog.at_level(logging.WARNING, logger="valuestreams.webhook"):
        response = post(
            client,
            slug,
            EVENT,
            secret=secret,
            signature=signature,
        )

    assert response.status_code == 403
    assert WorkItem.objects.count() == 0
    records = [r for r in caplog.records if r.name == "valuestreams.webhook"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert records[0].levelno == logging.WARNING
    assert slug in message and "127.0.0.1" in message and reason in message
    assert "jira-secret-1" not in message and "gitlab-secret-2" not in message


def test_body_changed_after_signing_is_refused(client, sources):
    body = json.dumps(EVENT).encode()
    signature = signature_of(body, "jira-secret-1")
    tampered = body.replace(b"Totals wrong", b"Totals fine!")
    response = client.post(
        url("jira"),
        data=tampered,
        content_type="application/json",
        headers={"X-Signature": signature},
    )
    assert response.status_code == 403


def test_bad_payload_answers_400_with_indices(client, sources):
    event = {**EVENT, "product": "nope", "at": "soon"}
    response = post(client, "jira", event, secret="jira-secret-1")

    assert response.status_code == 400
    assert response.json() == {
        "items": {"0": ["There is no product “nope”."]},
        "transitions": {
            "0": ["at “soon” is not an ISO 8601 time with an offset (2024-05-01T09:30:00Z)."]
        },
    }
    assert WorkItem.objects.count() == 0


def test_signed_body_that_is_not_json(client, sources):
    body = b"not json"
    response = client.post(
        url("jira"),
        data=body,
        content_type="application/json",
        headers={"X-Signature": signature_of(body, "jira-secret-1")},
    )
    assert response.status_code == 400
