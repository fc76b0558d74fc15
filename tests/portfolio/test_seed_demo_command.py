"""``manage.py seed_demo`` refuses without DEBUG unless forced (the sign-ins have a published
password), and runs with DEBUG on. Kept apart from test_seed_demo.py, whose tests share one seeded
database."""

import io

import pytest
from django.core.management import CommandError, call_command

from products.models import Product
from tests.conftest import ensure_roles

pytestmark = pytest.mark.django_db


def test_refused_without_force_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Product.objects.exists()


def test_runs_without_force_when_debug_is_on(db, settings):
    ensure_roles()
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    assert Product.objects.count() == 25
