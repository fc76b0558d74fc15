"""The products app's part of the demo organisation (``manage.py seed_demo``).

A retail bank with an insurance arm, Harbour Bank: disciplines, 25 products, 12 durable teams,
80 people and their team memberships. Everything is generated from fixed tables and a fixed
random seed, and written by natural key (slug, email, username), so a second run finds every
row as it is and writes nothing.
"""

import datetime
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import models

from products import services
from products.models import Discipline, Person, Product, Team, TeamMembership

M = TypeVar("M", bound=models.Model)

SEED = 20240601
EMAIL_DOMAIN = "harbourbank.example"


@dataclass
class SeedStats:
    """What a seeding step did, per kind of row: created, updated or found as it was."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)

    def count(self, label: str, outcome: str) -> None:
        getattr(self, outcome)[label] += 1

    def merge(self, other: "SeedStats") -> "SeedStats":
        self.created.update(other.created)
        self.updated.update(other.updated)
        self.unchanged.update(other.unchanged)
        self.skipped.extend(other.skipped)
        return self


def upsert(
    model: type[M],
    *,
    lookup: Mapping[str, Any],
    values: Mapping[str, Any],
    stats: SeedStats,
    on_create: Callable[[M], None] | None = None,
) -> M:
    """Get the row by ``lookup`` or create it; set ``values`` and save only what differs.

    Unlike ``update_or_create`` it leaves an unchanged row alone (no write, ``updated_at`` kept),
    which is what makes the demo idempotent. Rows are validated with ``full_clean()``, so the
    model rules hold as they do through the services. ``on_create`` prepares a new row before
    it is validated (a user's password, say).
    """
    label = str(model._meta.verbose_name_plural)
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        if on_create is not None:
            on_create(instance)
        instance.full_clean()
        instance.save()
        stats.count(label, "created")
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        stats.count(label, "unchanged")
        return instance
    for name in changed:
        setattr(instance, name, values[name])
    instance.full_clean()
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        changed.append("updated_at")
    instance.save(update_fields=changed)
    stats.count(label, "updated")
    return instance


def set_related(manager: Any, objects: Iterable[models.Model]) -> bool:
    """Make a many-to-many relation hold exactly ``objects``; no write when it already does."""
    wanted = {obj.pk for obj in objects}
    if set(manager.values_list("pk", flat=True)) == wanted:
        return False
    manager.set(list(wanted))
    return True


# --- Disciplines ----------------------------------------------------------------------------

DISCIPLINES: Sequence[tuple[str, str]] = (
    ("engineer", "Engineer"),
    ("designer", "Designer"),
    ("product-manager", "Product manager"),
    ("data", "Data"),
    ("operations", "Operations"),
    ("qa", "QA"),
)


def seed_disciplines(*, stats: SeedStats) -> dict[str, Discipline]:
    """The organisation's disciplines, in the order lists show them."""
    return {
        slug: upsert(
            Discipline, lookup={"slug": slug}, values={"name": name, "order": n}, stats=stats
        )
        for n, (slug, name) in enumerate(DISCIPLINES, start=1)
    }


# --- Products -------------------------------------------------------------------------------


class DemoProduct(NamedTuple):
    slug: str
    name: str
    stage: str
    description: str


S = Product.Stage
PRODUCTS: Sequence[DemoProduct] = (
    DemoProduct(
        "online-account-opening",
        "Online account opening",
        S.GROWTH,
        "Open a current or savings account from a phone in under ten minutes.",
    ),
    DemoProduct(
        "identity-verification",
        "Identity verification (KYC)",
        S.MATURE,
        "Checks a new customer's identity documents and face match; anti-money-laundering screening.",
    ),
    DemoProduct(
        "digital-signing",
        "Digital signing",
        S.MATURE,
        "Legally binding e-signatures for account, loan and policy contracts.",
    ),
    DemoProduct(
        "welcome-journeys",
        "Welcome journeys",
        S.DISCOVERY,
        "The first 90 days: card activation, first salary, switching direct debits.",
    ),
    DemoProduct(
        "customer-profile",
        "Customer profile",
        S.GROWTH,
        "One place where customers keep their contact details, consents and preferences.",
    ),
    DemoProduct(
        "instant-payments",
        "Instant payments",
        S.GROWTH,
        "Account-to-account transfers that settle in seconds, around the clock.",
    ),
    DemoProduct(
        "card-processing",
        "Card processing",
        S.MATURE,
        "Debit and credit card authorisation, clearing and settlement.",
    ),
    DemoProduct(
        "payment-hub",
        "Payment hub",
        S.MATURE,
        "Routes every payment to the right scheme and keeps the audit trail.",
    ),
    DemoProduct(
        "fraud-monitoring",
        "Fraud monitoring",
        S.GROWTH,
        "Scores payments and claims for fraud in real time and queues the suspicious ones.",
    ),
    DemoProduct(
        "statements-notifications",
        "Statements & notifications",
        S.MATURE,
        "Monthly statements and the push, e-mail and text messages customers rely on.",
    ),
    DemoProduct(
        "mortgage-origination",
        "Mortgage origination",
        S.GROWTH,
        "From application to offer for home loans, with brokers and direct customers.",
    ),
    DemoProduct(
        "personal-loans",
        "Personal loans",
        S.GROWTH,
        "Unsecured loans with an instant decision and money paid out the same day.",
    ),
    DemoProduct(
        "credit-decisioning",
        "Credit decision engine",
        S.MATURE,
        "Affordability and credit-risk rules shared by every lending product.",
    ),
    DemoProduct(
        "loan-servicing",
        "Loan servicing",
        S.MATURE,
        "Repayment schedules, overpayments, payment holidays and redemption statements.",
    ),
    DemoProduct(
        "collections",
        "Collections & recoveries",
        S.SUNSET,
        "Arrears handling; being replaced by the new loan-servicing flows.",
    ),
    DemoProduct(
        "first-notice-of-loss",
        "First notice of loss",
        S.GROWTH,
        "Report a home or travel insurance claim online, with photos, any time.",
    ),
    DemoProduct(
        "claims-workbench",
        "Claims workbench",
        S.MATURE,
        "The claims handlers' tool: triage, assessment, settlement decisions.",
    ),
    DemoProduct(
        "repair-network",
        "Repair network portal",
        S.DISCOVERY,
        "Where approved builders and repairers receive jobs and send quotes.",
    ),
    DemoProduct(
        "claims-payouts",
        "Claims payouts",
        S.GROWTH,
        "Pays settled claims to customers and repairers through the payment hub.",
    ),
    DemoProduct(
        "policy-administration",
        "Policy administration",
        S.SUNSET,
        "The legacy policy system, kept running until policies move to the new platform.",
    ),
    DemoProduct(
        "identity-platform",
        "Identity & access platform",
        S.MATURE,
        "Sign-in, strong customer authentication and consent for every channel.",
    ),
    DemoProduct(
        "customer-data-platform",
        "Customer data platform",
        S.GROWTH,
        "A single, consented view of each customer for the teams that need it.",
    ),
    DemoProduct(
        "analytics-reporting",
        "Analytics & regulatory reporting",
        S.GROWTH,
        "Management information and the returns the regulators ask for.",
    ),
    DemoProduct(
        "cloud-platform",
        "Cloud platform",
        S.MATURE,
        "Paved roads for building, deploying and running services in the cloud.",
    ),
    DemoProduct(
        "api-gateway",
        "API gateway",
        S.MATURE,
        "Open-banking and partner APIs, published, secured and metered in one place.",
    ),
)

# The product owner who signs in as ``po`` owns the onboarding products.
PO_PRODUCTS = (
    "online-account-opening",
    "identity-verification",
    "digital-signing",
    "welcome-journeys",
    "customer-profile",
)
# Left without a product owner on purpose: the portfolio shows what needs attention.
UNOWNED_PRODUCTS = ("policy-administration",)


# --- Teams ----------------------------------------------------------------------------------


class DemoTeam(NamedTuple):
    slug: str
    name: str
    mission: str
    formed_on: datetime.date
    products: tuple[str, ...]


D = datetime.date
TEAMS: Sequence[DemoTeam] = (
    DemoTeam(
        "account-opening",
        "Account Opening",
        "New customers bank with us the same day they decide to.",
        D(2023, 1, 9),
        ("online-account-opening", "welcome-journeys", "customer-profile"),
    ),
    DemoTeam(
        "kyc-signing",
        "KYC & Signing",
        "Know every customer without making them wait.",
        D(2023, 1, 9),
        ("identity-verification", "digital-signing"),
    ),
    DemoTeam(
        "instant-payments",
        "Instant Payments",
        "Money moves in seconds, every time.",
        D(2023, 3, 6),
        ("instant-payments", "payment-hub"),
    ),
    DemoTeam(
        "cards-statements",
        "Cards & Statements",
        "Cards that just work, and statements people understand.",
        D(2023, 3, 6),
        ("card-processing", "statements-notifications"),
    ),
    DemoTeam(
        "risk-analytics",
        "Risk Analytics",
        "Stop fraud and bad debt before they reach the customer.",
        D(2023, 6, 5),
        ("fraud-monitoring", "credit-decisioning"),
    ),
    DemoTeam(
        "home-lending",
        "Home Lending",
        "A mortgage offer in days, not weeks.",
        D(2023, 6, 5),
        ("mortgage-origination", "loan-servicing"),
    ),
    DemoTeam(
        "personal-lending",
        "Personal Lending",
        "Fair credit in minutes, and help when repayments get hard.",
        D(2023, 9, 4),
        ("personal-loans", "collections"),
    ),
    DemoTeam(
        "claims-experience",
        "Claims Experience",
        "Reporting a claim is the easiest part of a bad day.",
        D(2023, 9, 4),
        ("first-notice-of-loss", "repair-network"),
    ),
    DemoTeam(
        "claims-operations",
        "Claims Operations",
        "Settle fairly and pay fast.",
        D(2024, 1, 8),
        ("claims-workbench", "claims-payouts", "policy-administration"),
    ),
    DemoTeam(
        "identity-access",
        "Identity & Access",
        "Secure sign-in that customers do not notice.",
        D(2024, 1, 8),
        ("identity-platform", "identity-verification"),
    ),
    DemoTeam(
        "data-platform",
        "Data Platform",
        "Trusted data, ready to use, for every team.",
        D(2024, 4, 2),
        ("customer-data-platform", "analytics-reporting"),
    ),
    DemoTeam(
        "cloud-integration",
        "Cloud & Integration",
        "Paved roads to production and partners.",
        D(2024, 4, 2),
        ("cloud-platform", "api-gateway"),
    ),
)


# --- People ---------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aisha", "Ben", "Carla", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Kemi", "Liam", "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Samir", "Tara",
    "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Anders", "Bianca", "Chidi", "Dana",
    "Emil", "Fatima", "Gareth", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Marco", "Nadia",
    "Oscar", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Viktor", "Wanjiru", "Yara", "Zain",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero",
    "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Yilmaz", "Zielinski",
    "Ahmed", "Brennan", "Chen", "Novak", "Silva", "Murphy", "Kaur", "Lindqvist", "Mensah",
)  # fmt: skip

# How many people of each discipline, and how many of them split their time 0.5/0.5 between
# two teams (so the disciplines with fewer people than teams still reach every team).
STAFFING: Sequence[tuple[str, int, int]] = (
    ("product-manager", 10, 2),
    ("designer", 8, 4),
    ("engineer", 36, 0),
    ("data", 8, 4),
    ("operations", 10, 0),
    ("qa", 8, 4),
)
MOVERS = 6  # engineers who worked in another team before (an ended membership)
MOVED_ON = D(2025, 3, 1)  # ... and joined their current team on this day

# The person behind the ``po`` sign-in (a product manager in Account Opening).
PO_PERSON = ("Omar Haddad", "omar.haddad")


class DemoPerson(NamedTuple):
    name: str
    email: str
    discipline: str


class DemoMembership(NamedTuple):
    email: str
    team: str
    fte: Decimal
    start_date: datetime.date
    end_date: datetime.date | None


def _email(local: str) -> str:
    return f"{local}@{EMAIL_DOMAIN}"


def demo_people() -> list[DemoPerson]:
    """80 people with unique names, by discipline; the same list on every run (fixed seed)."""
    rng = random.Random(SEED)
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    names = iter(p for p in pairs if f"{p[0]} {p[1]}" != PO_PERSON[0])
    people = [DemoPerson(PO_PERSON[0], _email(PO_PERSON[1]), "product-manager")]
    for discipline, count, _ in STAFFING:
        wanted = count - 1 if discipline == "product-manager" else count
        for _ in range(wanted):
            first, last = next(names)
            people.append(
                DemoPerson(f"{first} {last}", _email(f"{first}.{last}".lower()), discipline)
            )
    return people


def demo_memberships(people: Sequence[DemoPerson]) -> list[DemoMembership]:
    """Who works where: most people 1.0 FTE in one team, some 0.5/0.5 in two, a few moved teams.

    Each discipline is dealt round the teams in turn, so every team is cross-functional; a
    person never has more than 1 FTE on any day.
    """
    teams = [t.slug for t in TEAMS]
    formed = {t.slug: t.formed_on for t in TEAMS}
    rng = random.Random(SEED + 1)
    memberships: list[DemoMembership] = []
    by_discipline: dict[str, list[DemoPerson]] = {}
    for person in people:
        by_discipline.setdefault(person.discipline, []).append(person)
    slot = 0
    for discipline, _count, splits in STAFFING:
        members = by_discipline[discipline]
        full_time = len(members) - splits
        for i, person in enumerate(members):
            if i < full_time:
                homes = [(teams[slot % len(teams)], Decimal("1.00"))]
                slot += 1
            else:
                first, second = teams[slot % len(teams)], teams[(slot + 1) % len(teams)]
                homes = [(first, Decimal("0.50")), (second, Decimal("0.50"))]
                slot += 2
            for team, fte in homes:
                start = formed[team] + datetime.timedelta(days=rng.randrange(0, 120))
                memberships.append(DemoMembership(person.email, team, fte, start, None))
    # A few engineers moved: their earlier membership ended the day before they joined the team
    # they are in now.
    engineers = [m for m in memberships if m.email in {p.email for p in by_discipline["engineer"]}]
    for k, current in enumerate(rng.sample(engineers, MOVERS)):
        index = memberships.index(current)
        previous_team = teams[(teams.index(current.team) + 5 + k) % len(teams)]
        memberships[index] = current._replace(start_date=MOVED_ON)
        memberships.append(
            DemoMembership(
                current.email,
                previous_team,
                Decimal("1.00"),
                formed[previous_team],
                MOVED_ON - datetime.timedelta(days=1),
            )
        )
    return memberships


# --- Writing it -----------------------------------------------------------------------------


def _owner_account(person: DemoPerson, group: Group | None, stats: SeedStats) -> Any:
    """A user account without a password for a product manager, so they can own products."""
    first, _, last = person.name.partition(" ")
    user = upsert(
        get_user_model(),
        lookup={"username": person.email.split("@")[0]},
        values={"first_name": first, "last_name": last, "email": person.email},
        stats=stats,
        on_create=lambda new: new.set_unusable_password(),
    )
    if group is not None and not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
    return user


def _seed_membership(
    actor: AbstractBaseUser, person: Person, team: Team, wanted: DemoMembership, stats: SeedStats
) -> None:
    """Create or correct one membership through the services (they hold the 1-FTE rule)."""
    label = str(TeamMembership._meta.verbose_name_plural)
    existing = TeamMembership.objects.filter(
        person=person, team=team, start_date=wanted.start_date
    ).first()
    try:
        if existing is None:
            services.membership_create(
                actor=actor,
                person=person,
                team=team,
                fte=wanted.fte,
                start_date=wanted.start_date,
                end_date=wanted.end_date,
            )
            stats.count(label, "created")
        elif (existing.fte, existing.end_date) != (wanted.fte, wanted.end_date):
            services.membership_update(
                actor=actor, membership=existing, fte=wanted.fte, end_date=wanted.end_date
            )
            stats.count(label, "updated")
        else:
            stats.count(label, "unchanged")
    except ValidationError as error:
        # Someone changed this person's memberships by hand; the rule wins over the demo.
        stats.skipped.append(f"{person.name} in {team.name}: {'; '.join(error.messages)}")


def seed_products(
    *,
    actor: AbstractBaseUser,
    product_owner: AbstractBaseUser,
    owner_group: Group | None = None,
) -> SeedStats:
    """Disciplines, products, teams, people and memberships of the demo organisation.

    ``product_owner`` (the ``po`` sign-in) becomes the person Omar Haddad and owns the onboarding
    products; the other product managers get accounts without a password (in ``owner_group``)
    and own their teams' products.
    """
    stats = SeedStats()
    disciplines = seed_disciplines(stats=stats)

    products = {
        p.slug: upsert(
            Product,
            lookup={"slug": p.slug},
            values={"name": p.name, "lifecycle_stage": p.stage, "description": p.description},
            stats=stats,
        )
        for p in PRODUCTS
    }

    teams: dict[str, Team] = {}
    for t in TEAMS:
        team = upsert(
            Team,
            lookup={"slug": t.slug},
            values={"name": t.name, "mission": t.mission, "formed_on": t.formed_on},
            stats=stats,
        )
        set_related(team.products, [products[s] for s in t.products])
        teams[t.slug] = team

    people: dict[str, Person] = {}
    for p in demo_people():
        values: dict[str, Any] = {"name": p.name, "discipline": disciplines[p.discipline]}
        if p.email == _email(PO_PERSON[1]):
            values["user"] = product_owner
        elif p.discipline == "product-manager":
            values["user"] = _owner_account(p, owner_group, stats)
        people[p.email] = upsert(Person, lookup={"email": p.email}, values=values, stats=stats)

    plan = demo_memberships(demo_people())
    # Ended memberships first: a person's history is written in the order it happened.
    for wanted in sorted(plan, key=lambda m: (m.email, m.start_date)):
        _seed_membership(actor, people[wanted.email], teams[wanted.team], wanted, stats)

    # Product owners: the product managers of each product's teams.
    managers_by_team: dict[str, list[Person]] = {}
    pm_emails = {p.email for p in demo_people() if p.discipline == "product-manager"}
    for wanted in plan:
        if wanted.email in pm_emails and wanted.end_date is None:
            managers_by_team.setdefault(wanted.team, []).append(people[wanted.email])
    for product in PRODUCTS:
        if product.slug in UNOWNED_PRODUCTS:
            owners: list[Any] = []
        elif product.slug in PO_PRODUCTS:
            owners = [product_owner]
        else:
            first_team = next(t for t in TEAMS if product.slug in t.products)
            owners = [manager.user for manager in managers_by_team[first_team.slug]]
        set_related(products[product.slug].owners, owners)
    return stats
