"""The OpenAPI schema and the interactive docs: signed-in only, valid, served locally, strict CSP."""

import re

import pytest
import yaml
from django.core.management import call_command

RESOURCES = ("products", "teams", "people", "team-memberships", "disciplines", "value-streams")


def _csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_schema_answers_a_signed_in_user(api_as, finance_user):
    response = api_as(finance_user).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in paths
        assert f"/api/v1/{resource}/{{id}}/" in paths
    for resource in ("products", "teams", "people", "value-streams"):
        for verb in ("archive", "restore"):
            assert set(paths[f"/api/v1/{resource}/{{id}}/{verb}/"]) == {"post"}
        assert "delete" not in paths[f"/api/v1/{resource}/{{id}}/"]
    assert set(paths["/api/v1/team-memberships/{id}/"]) == {"get", "patch"}
    assert "/api/v1/team-memberships/{id}/end/" in paths
    assert "/api/v1/auth/token/" in paths


def test_schema_is_refused_to_anonymous(api_client, db):
    assert api_client.get("/api/schema/").status_code == 403


def test_writes_document_input_and_output(api_as, portfolio_manager):
    schema = api_as(portfolio_manager).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    create = schema["paths"]["/api/v1/products/"]["post"]
    request_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    response_ref = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref.endswith("/ProductInputRequest")
    assert response_ref.endswith("/Product")
    product = schema["components"]["schemas"]["Product"]["properties"]
    assert product["team_count"]["readOnly"] is True
    assert product["archived_at"]["readOnly"] is True
    owners = schema["components"]["schemas"]["ProductInputRequest"]["properties"]["owners"]
    assert owners["items"]["type"] == "integer"
    end = schema["paths"]["/api/v1/team-memberships/{id}/end/"]["post"]
    end_ref = end["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert end_ref.endswith("/TeamMembershipEndRequest")
    detail = schema["paths"]["/api/v1/products/{id}/"]["get"]
    [id_param] = [p for p in detail["parameters"] if p["name"] == "id"]
    assert id_param["schema"]["type"] == "integer"
    list_params = {p["name"] for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}
    assert {"q", "lifecycle_stage", "team", "owner", "archived", "slug"} <= list_params
    assert {"ordering", "page", "page_size"} <= list_params


def test_schema_validates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert "/api/v1/value-streams/{id}/archive/" in schema["paths"]


def test_docs_page_renders_for_a_signed_in_user_with_local_assets(client, executive):
    client.force_login(executive)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts
    assert all("src=" in attributes for attributes in scripts), "no inline scripts"
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    init = client.get("/api/docs/?script=")
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in init.content.decode()


def test_docs_page_csp_forbids_inline_scripts(client, executive):
    client.force_login(executive)
    csp = _csp(client.get("/api/docs/"))
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp.get("default-src", [])
    assert "'unsafe-eval'" not in csp["script-src"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/?script="])
def test_docs_are_refused_to_anonymous(client, db, path):
    response = client.get(path)
    assert response.status_code == 403
    assert b"swagger-ui-bundle" not in response.content
