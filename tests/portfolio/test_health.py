"""The health check and sign-in requirement."""

import pytest


@pytest.mark.django_db
def test_healthz_is_public_and_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert "SECRET" not in response.content.decode().upper()


@pytest.mark.django_db
def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_home_shows_registry_figures(exec_client):
    response = exec_client.get("/")
    assert response.status_code == 200
    assert b'data-figure="products"' in response.content
