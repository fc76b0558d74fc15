"""The four roles and their model permissions (DESIGN.md, Permissions)."""

import pytest
from django.contrib.auth.models import Group

from tests.conftest import ROLES, ensure_roles

REGISTRY_MODELS = [
    ("products", "product"),
    ("products", "team"),
    ("products", "person"),
    ("products", "teammembership"),
    ("products", "discipline"),
    ("valuestreams", "valuestream"),
]


@pytest.mark.django_db
def test_the_four_roles_exist():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_the_registry(make_user, role):
    user = make_user(f"reader-{role}", role)
    for app, model in REGISTRY_MODELS:
        assert user.has_perm(f"{app}.view_{model}")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_portfolio_managers_write_the_registry(make_user, role):
    user = make_user(f"writer-{role}", role)
    expected = role == "portfolio_manager"
    for app, model in REGISTRY_MODELS:
        for action in ("add", "change", "delete"):
            assert user.has_perm(f"{app}.{action}_{model}") is expected, (role, app, model, action)


@pytest.mark.django_db
def test_ensure_roles_rebuilds_the_groups_a_flush_removed():
    # A transactional test's flush empties auth_group; the fixtures rebuild it from the migrations.
    Group.objects.all().delete()
    ensure_roles()
    group = Group.objects.get(name="portfolio_manager")
    assert group.permissions.filter(codename="add_product").exists()
    assert not Group.objects.get(name="finance").permissions.filter(codename="add_product").exists()


@pytest.mark.django_db
def test_ensure_roles_rebuilds_the_default_mappings_a_flush_removed():
    from valuestreams.models import StatusMapping, TypeMapping

    StatusMapping.objects.all().delete()
    TypeMapping.objects.all().delete()
    ensure_roles()
    assert (
        StatusMapping.objects.get(value_stream=None, status_key="in progress").category == "active"
    )
    assert TypeMapping.objects.get(value_stream=None, tracker_type_key="bug").type == "defect"
