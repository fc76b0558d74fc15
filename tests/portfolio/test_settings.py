"""Settings from the environment: security headers, the CSP, the deploy checklist, the database."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
# Set for the test run by pytest-env; a subprocess that plays production must not inherit them.
TEST_ONLY_ENV = {
    "DEBUG",
    "HTTPS",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "STATIC_MANIFEST",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}

PAGES = [
    "home",
    "products:product_list",
    "products:team_list",
    "products:person_list",
    "valuestreams:value_stream_list",
]


def _csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_pages_forbid_inline_script_and_framing(exec_client, name):
    response = exec_client.get(reverse(name))

    assert response.status_code == 200
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in csp[directive]
        assert "'unsafe-eval'" not in csp[directive]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_sign_in_page_has_the_same_policy(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert _csp(response)["script-src"] == ["'self'"]
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_pages_have_no_inline_script_style_or_handlers(exec_client, name):
    html = exec_client.get(reverse(name)).content.decode()

    scripts = re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)
    assert scripts, "the page loads its scripts"
    for tag in scripts:
        # A JSON data block (json_script) is never executed, so the CSP does not concern it.
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\sstyle\s*=", html, flags=re.IGNORECASE)
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.IGNORECASE)
    assert not re.search(r"\s(hx|data-hx)-on", html, flags=re.IGNORECASE)


@pytest.mark.django_db
def test_htmx_is_configured_for_the_csp(exec_client):
    html = exec_client.get(reverse("home")).content.decode()

    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert match, "base.html sets htmx-config"
    config = json.loads(match.group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    # htmx comes from the app's own static files, never a CDN.
    htmx = re.search(r"<script[^>]*src=\"([^\"]*htmx[^\"]*)\"", html)
    assert htmx and htmx.group(1).startswith(settings.STATIC_URL)


def test_production_settings_pass_the_deploy_checklist():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_checklist_fails_a_debug_configuration():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="1", HTTPS="0", SECRET_KEY="short"
    )

    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on
    assert "security.W009" in result.stderr  # a weak SECRET_KEY


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off():
    result = _manage("check", DEBUG="0", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_the_database_is_the_one_the_environment_names():
    """SQLite (the embedded default) runs in WAL mode with a busy timeout; PostgreSQL keeps
    its connections, checked before reuse."""
    configured = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if configured.startswith(("postgres", "postgis")) else "sqlite"
    assert connection.vendor == expected

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] >= 5000
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1
        else:
            cursor.execute("SHOW server_encoding")
            assert cursor.fetchone()[0] == "UTF8"
            cursor.execute("SHOW TimeZone")
            assert cursor.fetchone()[0] == "UTC"
            db = settings.DATABASES["default"]
            assert db["CONN_MAX_AGE"] > 0
            assert db["CONN_HEALTH_CHECKS"] is True


def test_the_broker_is_the_one_the_environment_names():
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if configured:
        assert configured == settings.CELERY_BROKER_URL
    else:
        # The embedded default: Kombu's filesystem transport, so a real worker runs without a server.
        assert settings.CELERY_BROKER_URL == "filesystem://"
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        assert folder.is_dir()
        assert settings.CELERY_RESULT_BACKEND.startswith("file://")
        assert Path(settings.CELERY_RESULT_BACKEND.removeprefix("file://")).is_dir()
