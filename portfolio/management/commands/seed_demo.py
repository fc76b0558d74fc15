"""``manage.py seed_demo``: the demo organisation and one sign-in per role.

Each app seeds its own part, bottom floor first (products, then value streams); this command,
on the top floor, creates the four sign-ins, calls them in order and prints what it did. Running
it again changes nothing. The sign-ins share a published password, so the command refuses to run
with DEBUG off unless ``--force`` says so.
"""

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from funding import demo as funding_demo
from portfolio import demo_pitfalls, demo_transition
from products import demo as products_demo
from products import demo_outcomes
from products.demo import EMAIL_DOMAIN, SeedStats, set_related, upsert
from valuestreams import demo as valuestreams_demo
from valuestreams import demo_maps, demo_work

DEMO_PASSWORD = "portfolio-demo"

# username, role group, first name, last name, what they do
LOGINS: tuple[tuple[str, str, str, str, str], ...] = (
    ("exec", "executive", "Erik", "Lindholm", "Executive (CIO): the portfolio at a glance"),
    ("pm", "portfolio_manager", "Paula", "Mendes", "Portfolio manager: keeps the registry"),
    ("po", "product_owner", "Omar", "Haddad", "Product owner of the onboarding products"),
    ("finance", "finance", "Fiona", "Clarke", "Finance: funding and spend"),
)


def seed_logins(stats: SeedStats) -> dict[str, Any]:
    """The four demo sign-ins, each in exactly its role's group, none staff or superuser."""
    groups = {g.name: g for g in Group.objects.filter(name__in=[role for _, role, *_ in LOGINS])}
    missing = sorted({role for _, role, *_ in LOGINS} - set(groups))
    if missing:
        raise CommandError(
            f"The role groups {', '.join(missing)} do not exist; run `manage.py migrate` first."
        )
    users: dict[str, Any] = {}
    for username, role, first_name, last_name, _ in LOGINS:
        created_before = stats.created["users"]
        user = upsert(
            get_user_model(),
            lookup={"username": username},
            values={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@{EMAIL_DOMAIN}",
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
            },
            stats=stats,
            on_create=lambda new: new.set_password(DEMO_PASSWORD),
        )
        # Put the documented password back if someone changed it (checking costs one hash).
        is_new = stats.created["users"] > created_before
        if not is_new and not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            stats.count("users", "updated")
        set_related(user.groups, [groups[role]])
        users[username] = user
    return users


class Command(BaseCommand):
    help = (
        "Create the demo organisation (Harbour Bank: value streams, products, teams, people, "
        "outcomes with a year of measurements, hypotheses, roadmaps, value stream maps, a year of "
        "tracker work items and their flow metrics; fiscal periods, rate cards, envelopes, an approved "
        "plan, a year of actuals and a scenario) "
        f"and the sign-ins exec, pm, po and finance (password: {DEMO_PASSWORD}). Idempotent."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off. The demo sign-ins have a published password: "
            "never on a production database.",
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates sign-ins with a published password, so it runs only with "
                "DEBUG on. Use --force to seed anyway (never on a production database)."
            )
        started = time.monotonic()
        stats = SeedStats()
        with transaction.atomic():
            users = seed_logins(stats)
            stats.merge(
                products_demo.seed_products(
                    actor=users["pm"],
                    product_owner=users["po"],
                    owner_group=Group.objects.get(name="product_owner"),
                )
            )
            stats.merge(demo_outcomes.seed_outcomes(actor=users["pm"]))
            stats.merge(valuestreams_demo.seed_value_streams(actor=users["pm"]))
            stats.merge(demo_maps.seed_maps(actor=users["pm"]))
            stats.merge(demo_work.seed_work_items(actor=users["pm"]))
            stats.merge(funding_demo.seed_funding(actor=users["finance"]))
            stats.merge(demo_transition.seed_transition(users=users))
            demo_pitfalls.seed_pitfall_demo(stats=stats, users=users)
        elapsed = time.monotonic() - started
        self._report(stats, elapsed)

    def _report(self, stats: SeedStats, elapsed: float) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(f"Demo organisation ready in {elapsed:.1f} s."))
        labels = sorted(set(stats.created) | set(stats.updated) | set(stats.unchanged))
        width = max((len(label) for label in labels), default=0)
        for label in labels:
            out.write(
                f"  {label:<{width}}  {stats.created[label]:>4} created  "
                f"{stats.updated[label]:>4} updated  {stats.unchanged[label]:>4} unchanged"
            )
        for problem in stats.skipped:
            out.write(self.style.WARNING(f"  skipped: {problem}"))
        out.write("")
        out.write(f'Sign in at /accounts/login/ with the password "{DEMO_PASSWORD}" as:')
        for username, _, first_name, last_name, what in LOGINS:
            out.write(f"  {username:<8} {first_name + ' ' + last_name:<15} {what}")
