"""Registry list pages and API lists at 10x the demo organisation: SQL queries and response times.

Run:  make bench            (SQLite file in var/bench/)
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/portfolio_bench make bench

It builds its own database (never the one `make run` uses), fills it with 50 value streams,
250 products, 120 teams, 800 people and their memberships, then requests each list page and API
list as a portfolio manager and prints the query count and the median time of several requests.
"""

import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

django.setup()

import datetime  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from products.models import Discipline, Person, Product, Team, TeamMembership  # noqa: E402
from valuestreams.models import ValueStream  # noqa: E402

SCALE = int(os.environ.get("BENCH_SCALE", "10"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))


def build() -> None:
    call_command("migrate", verbosity=0)
    for model in (TeamMembership, Person, Team, ValueStream, Product):
        model.objects.all().delete()
    disciplines = [
        Discipline.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
        for slug in ("engineer", "designer", "product-manager", "data", "operations", "qa")
    ]
    products = Product.objects.bulk_create(
        Product(name=f"Product {i:04d}", slug=f"product-{i:04d}", lifecycle_stage="growth")
        for i in range(25 * SCALE)
    )
    teams = Team.objects.bulk_create(
        Team(name=f"Team {i:03d}", slug=f"team-{i:03d}") for i in range(12 * SCALE)
    )
    people = Person.objects.bulk_create(
        Person(name=f"Person {i:04d}", email=f"p{i}@bench.example", discipline=disciplines[i % 6])
        for i in range(80 * SCALE)
    )
    start = datetime.date(2025, 1, 1)
    TeamMembership.objects.bulk_create(
        TeamMembership(person=p, team=teams[i % len(teams)], fte=Decimal("1"), start_date=start)
        for i, p in enumerate(people)
    )
    Team.products.through.objects.bulk_create(
        Team.products.through(team=teams[i % len(teams)], product=p) for i, p in enumerate(products)
    )
    streams = ValueStream.objects.bulk_create(
        ValueStream(name=f"Value stream {i:02d}", slug=f"value-stream-{i:02d}")
        for i in range(5 * SCALE)
    )
    ValueStream.products.through.objects.bulk_create(
        ValueStream.products.through(valuestream=streams[i % len(streams)], product=p)
        for i, p in enumerate(products)
    )


def measure(client: Client, url: str) -> tuple[int, float, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    queries = len(ctx.captured_queries)
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return queries, statistics.median(times), len(response.content)


def main() -> None:
    build()
    user, _ = get_user_model().objects.get_or_create(username="bench-pm")
    user.groups.add(Group.objects.get(name="portfolio_manager"))
    client = Client()
    client.force_login(user)
    team = Team.objects.order_by("slug").first()
    product = Product.objects.order_by("slug").first()
    stream = ValueStream.objects.order_by("slug").first()
    assert team and product and stream
    urls = [
        "/value-streams/",
        f"/value-streams/{stream.slug}/",
        "/products/",
        f"/products/{product.slug}/",
        "/teams/",
        f"/teams/{team.slug}/",
        "/people/",
        "/api/v1/value-streams/",
        "/api/v1/products/",
        "/api/v1/teams/",
        "/api/v1/people/",
        "/api/v1/team-memberships/",
    ]
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"Registry at {SCALE}x the demo ({Product.objects.count()} products, {Team.objects.count()} teams, "
        f"{Person.objects.count()} people, {ValueStream.objects.count()} value streams) on {vendor}"
    )
    print(f"{'page':40} {'queries':>8} {'median ms':>10} {'bytes':>9}")
    for url in urls:
        queries, median, size = measure(client, url)
        print(f"{url:40} {queries:>8} {median:>10.1f} {size:>9}")


if __name__ == "__main__":
    main()
