"""Shared fixtures: one signed-in client per role, service markers, the browser launch."""

import os
import shutil
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.test import APIClient

ROLES = ("executive", "portfolio_manager", "product_owner", "finance")


def _redis_configured() -> bool:
    return str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://"))


def pytest_collection_modifyitems(config, items):
    """Service-marked tests run whenever their service is configured, and skip (saying why) otherwise."""
    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set CELERY_BROKER_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not _redis_configured():
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False


# Functions in data migrations that rebuild what a transactional test's flush removes.
MIGRATION_DATA_FUNCTIONS = ("grant_roles", "add_defaults")


def _migration_data_present() -> bool:
    from valuestreams.models import StatusMapping

    return (
        Group.objects.filter(name__in=ROLES).count() == len(ROLES)
        and StatusMapping.objects.filter(value_stream=None).exists()
    )


def ensure_roles() -> None:
    """Recreate what the data migrations wrote (the role groups and their permissions, the default
    status and type mappings) if a transactional test's flush removed it.

    Each such migration names its function ``grant_roles`` or ``add_defaults``; running them in
    order against the live app registry rebuilds exactly what migrate built (they are idempotent).
    """
    if _migration_data_present():
        return
    from django.apps import apps as global_apps
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    plan: list[tuple[str, str]] = []
    for leaf in loader.graph.leaf_nodes():
        plan.extend(node for node in loader.graph.forwards_plan(leaf) if node not in plan)
    for app_label, name in plan:
        module = import_module(loader.get_migration(app_label, name).__module__)
        for function in MIGRATION_DATA_FUNCTIONS:
            if hasattr(module, function):
                getattr(module, function)(global_apps, None)


@pytest.fixture(autouse=True)
def _migration_data_after_flush(request):
    """Transactional tests (they run last) start with the data migrations' rows in place."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_roles()


@pytest.fixture
def make_user(db, django_user_model):
    ensure_roles()

    def make(username: str, role: str | None = None, **extra):
        user = django_user_model.objects.create_user(
            username=username, password="pass-for-tests-1", email=f"{username}@example.com", **extra
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def executive(make_user):
    return make_user("exec", "executive", first_name="Erin", last_name="Exec")


@pytest.fixture
def portfolio_manager(make_user):
    return make_user("pm", "portfolio_manager", first_name="Paula", last_name="Manager")


@pytest.fixture
def product_owner(make_user):
    return make_user("po", "product_owner", first_name="Omar", last_name="Owner")


@pytest.fixture
def finance_user(make_user):
    return make_user("finance", "finance", first_name="Fiona", last_name="Finance")


@pytest.fixture
def role_user(request, make_user):
    """Parametrise with a role name: ``@pytest.mark.parametrize("role_user", ROLES, indirect=True)``."""
    return make_user(f"user-{request.param}", request.param)


def _client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def pm_client(client, portfolio_manager):
    return _client_for(client, portfolio_manager)


@pytest.fixture
def po_client(client, product_owner):
    return _client_for(client, product_owner)


@pytest.fixture
def exec_client(client, executive):
    return _client_for(client, executive)


@pytest.fixture
def finance_client(client, finance_user):
    return _client_for(client, finance_user)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """``api_as(user)`` gives an APIClient authenticated as that user (session)."""

    def login(user):
        api_client.force_authenticate(user=None)
        api_client.force_login(user)
        return api_client

    return login


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


# Browser tests: Debian's Chromium, never a downloaded browser.
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--disable-features=Translate,OptimizationHints,MediaRouter",
        ],
    }
