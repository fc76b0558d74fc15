"""The valuestreams app's part of the demo organisation (``manage.py seed_demo``).

Harbour Bank's five value streams, each led by a named owner, with the products (seeded by
``products.demo``) they serve; shared platform products serve two streams. Written by slug and
username, so a second run writes nothing.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from products.demo import EMAIL_DOMAIN, SeedStats, set_related, upsert
from products.models import Product
from valuestreams.models import ValueStream


class DemoValueStream(NamedTuple):
    slug: str
    name: str
    kind: str
    customer: str
    value_delivered: str
    description: str
    owner: tuple[str, str, str]  # username, first name, last name
    products: tuple[str, ...]


K = ValueStream.Kind
VALUE_STREAMS: Sequence[DemoValueStream] = (
    DemoValueStream(
        "customer-onboarding",
        "Customer onboarding",
        K.DEVELOPMENT,
        "New retail customers",
        "A new customer opens an account and starts banking the same day, without visiting "
        "a branch.",
        "From the first visit to the website to the first card payment: identity checks, "
        "contracts, the welcome journey.",
        ("hannah.berg", "Hannah", "Berg"),
        (
            "online-account-opening",
            "identity-verification",
            "digital-signing",
            "welcome-journeys",
            "customer-profile",
            "identity-platform",
        ),
    ),
    DemoValueStream(
        "payments",
        "Payments",
        K.OPERATIONAL,
        "Retail and business customers",
        "Money moves instantly and safely, and customers always know where it is.",
        "Every payment the bank makes or receives: instant transfers, cards, statements and "
        "the fraud checks on the way.",
        ("lukas.meyer", "Lukas", "Meyer"),
        (
            "instant-payments",
            "card-processing",
            "payment-hub",
            "fraud-monitoring",
            "statements-notifications",
            "api-gateway",
        ),
    ),
    DemoValueStream(
        "lending",
        "Lending",
        K.DEVELOPMENT,
        "Households and small businesses",
        "A fair credit decision in minutes and the money paid out within a day.",
        "Mortgages and personal loans from application to the last repayment.",
        ("amara.nwosu", "Amara", "Nwosu"),
        (
            "mortgage-origination",
            "personal-loans",
            "credit-decisioning",
            "loan-servicing",
            "collections",
            "identity-verification",
            "digital-signing",
            "customer-data-platform",
        ),
    ),
    DemoValueStream(
        "claims",
        "Claims",
        K.OPERATIONAL,
        "Home and travel insurance policyholders",
        "A claim reported in minutes, settled fairly and paid within five days.",
        "From the first notice of loss to the payout, through assessment and the repair network.",
        ("sean.oconnor", "Seán", "O'Connor"),
        (
            "first-notice-of-loss",
            "claims-workbench",
            "repair-network",
            "claims-payouts",
            "policy-administration",
            "fraud-monitoring",
        ),
    ),
    DemoValueStream(
        "platform-data",
        "Platform & data",
        K.DEVELOPMENT,
        "The bank's product teams",
        "Shared identity, data, cloud and integration platforms that make every team faster "
        "and safer.",
        "The internal platforms the other value streams build on.",
        ("mei.lin", "Mei", "Lin"),
        (
            "identity-platform",
            "customer-data-platform",
            "analytics-reporting",
            "cloud-platform",
            "api-gateway",
        ),
    ),
)


def _owner(username: str, first_name: str, last_name: str, stats: SeedStats) -> Any:
    """A value stream lead: a user account without a password (not one of the demo sign-ins)."""
    return upsert(
        get_user_model(),
        lookup={"username": username},
        values={
            "first_name": first_name,
            "last_name": last_name,
            "email": f"{username}@{EMAIL_DOMAIN}",
        },
        stats=stats,
        on_create=lambda new: new.set_unusable_password(),
    )


def seed_value_streams(*, actor: AbstractBaseUser) -> SeedStats:
    """The five value streams, their owners and the products they serve.

    Needs ``products.demo.seed_products`` first: the products are found by slug.
    """
    stats = SeedStats()
    slugs = {slug for vs in VALUE_STREAMS for slug in vs.products}
    products = {p.slug: p for p in Product.objects.filter(slug__in=slugs)}
    missing = sorted(slugs - set(products))
    if missing:
        raise LookupError(f"Seed the products first; missing: {', '.join(missing)}.")
    for vs in VALUE_STREAMS:
        value_stream = upsert(
            ValueStream,
            lookup={"slug": vs.slug},
            values={
                "name": vs.name,
                "kind": vs.kind,
                "customer": vs.customer,
                "value_delivered": vs.value_delivered,
                "description": vs.description,
                "owner": _owner(*vs.owner, stats),
            },
            stats=stats,
        )
        set_related(value_stream.products, [products[s] for s in vs.products])
    return stats
