"""Flow metrics at scale (issue 4, "Performance"): recomputation, ingestion and the API answer.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench-flow
      (reduced scale: BENCH_ITEMS=100000 BENCH_PRODUCTS=50 make bench-flow;
      the dashboard figure alone on already built data: BENCH_ONLY=dashboard make bench-flow)

PostgreSQL only. The benchmark never touches the database DATABASE_URL names: it works in its own
database on that server (BENCH_DATABASE, default ``portfolio_flowbench``, created when missing),
migrates it and fills it in SQL (``generate_series``) with BENCH_PRODUCTS products (default 200)
in value streams of 10, BENCH_ITEMS work items (default 1,000,000) with BENCH_CHANGES_PER_ITEM
status changes each (default 5: To Do, In Progress, In Review, Ready for QA, Done; every tenth
item is reopened instead of done). The data is rebuilt when its scale differs from the last run's.

It prints, each beside the time PostgreSQL alone takes for the core work (so the overhead is a
ratio):
- the weekly run: every item's flow facts derived again from all the raw changes, then every
  snapshot, beside one SQL statement deriving each item's start, completion and active time
  from the raw changes and aggregating them per product and week (no target of its own);
- full recomputation of every product's and value stream's weekly and monthly snapshots (the
  nightly run) from the per-item facts the ingests keep, beside one statement aggregating those
  facts per product and week (target 60 s);
- ingestion through the bulk API (``POST /api/v1/work-items/ingest/``, DRF test client, JSON) in
  status changes per second, the touched items' flow facts kept in the same transaction, beside
  inserting the same rows with one bare statement (target 20,000/s);
- incremental recomputation after an ingest of 10,000 status changes (BENCH_INGEST_PRODUCTS
  products, default 10), beside the facts aggregation over those products (target 5 s);
- the product flow-metrics API answer (``GET /api/v1/products/<id>/flow-metrics/``, median of
  BENCH_REPEATS requests), beside the snapshot query alone (target 150 ms);
- the CIO dashboard (``GET /``, the executive's home page, Django test client, median of
  BENCH_REPEATS requests), beside its value streams' monthly snapshot query alone (target 150 ms).
"""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URL = os.environ.get("DATABASE_URL", "")
if not URL.startswith(("postgres://", "postgresql://")):
    sys.exit(
        "bench/flow.py needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/any-database "
        "(the benchmark works in its own database BENCH_DATABASE on that server). "
        "SQLite is not supported: the scale is PostgreSQL's."
    )
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "portfolio_flowbench")
parts = urlsplit(URL)
os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + BENCH_DATABASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import warnings  # noqa: E402

import psycopg2  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")


def ensure_database() -> None:
    """Create the benchmark's database on the server when it does not exist."""
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    admin.close()


ensure_database()

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from products.models import Product  # noqa: E402
from valuestreams.flow import flow_recompute  # noqa: E402
from valuestreams.models import ValueStream, WorkSource  # noqa: E402

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "200"))
PER_ITEM = int(os.environ.get("BENCH_CHANGES_PER_ITEM", "5"))
INGEST_CHANGES = int(os.environ.get("BENCH_INGEST_CHANGES", "10000"))
INGEST_BATCHES = int(os.environ.get("BENCH_INGEST_BATCHES", "3"))
INGEST_PRODUCTS = int(os.environ.get("BENCH_INGEST_PRODUCTS", "10"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "20"))
STREAM_SIZE = 10
SOURCE = "bench"
STATUSES = ("To Do", "In Progress", "In Review", "Ready for QA", "Done")
TABLES = {
    "item": "valuestreams_workitem",
    "change": "valuestreams_statuschange",
    "mapping": "valuestreams_statusmapping",
    "snapshot": "valuestreams_flowsnapshot",
}


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - started, value


def sql(statement: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else []


# Building the data.


def scale_marker() -> str:
    return f"items={ITEMS} products={PRODUCTS} per_item={PER_ITEM}"


def build(now: dt.datetime) -> None:
    """Products, value streams, items and their changes, in SQL; skipped when already built."""
    call_command("migrate", verbosity=0)
    source = WorkSource.objects.filter(slug=SOURCE).first()
    if source is not None and source.name == scale_marker():
        print(f"Data already built ({scale_marker()}).")
        return
    print(f"Building {scale_marker()} ...", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"TRUNCATE {TABLES['change']}, {TABLES['item']}, {TABLES['snapshot']}, "
            "valuestreams_flowfact, valuestreams_flowspan, valuestreams_worksource CASCADE"
        )
    ValueStream.objects.all().delete()
    Product.objects.all().delete()
    products = Product.objects.bulk_create(
        Product(name=f"Product {i:04d}", slug=f"product-{i:04d}", lifecycle_stage="growth")
        for i in range(PRODUCTS)
    )
    for start in range(0, PRODUCTS, STREAM_SIZE):
        stream = ValueStream.objects.create(
            name=f"Stream {start // STREAM_SIZE:03d}", slug=f"stream-{start // STREAM_SIZE:03d}"
        )
        stream.products.set(products[start : start + STREAM_SIZE])
    source = WorkSource.objects.create(slug=SOURCE, name="building")
    first_product = products[0].pk
    statuses = "ARRAY[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SELECT setseed(0.42)")
        # Created over the year before now, leaving a month for the histories to finish.
        cursor.execute(
            f"""
            INSERT INTO {TABLES["item"]}
                (created_at, updated_at, source_id, key, product_id, type, tracker_type, title)
            SELECT %s::timestamptz - make_interval(secs => 30 * 86400 + random() * 335 * 86400),
                   now(), %s, 'B-' || g, %s + (g %% %s),
                   (ARRAY['feature','feature','feature','feature','feature','feature',
                          'defect','defect','risk','debt'])[1 + g %% 10],
                   '', ''
            FROM generate_series(1, %s) AS g
            """,
            [now, source.pk, first_product, PRODUCTS, ITEMS],
        )
        # Change k of each item: k-1 steps of a per-item pace after its creation; every tenth
        # item goes back to In Progress instead of Done (still in progress at the end).
        cursor.execute(
            f"""
            INSERT INTO {TABLES["change"]} (item_id, from_status, to_status, status_key, at)
            SELECT i.id,
                   CASE WHEN k = 1 THEN '' ELSE s.names[LEAST(k - 1, 5)] END,
                   st.status, lower(st.status),
                   i.created_at + make_interval(secs => (k - 1) * (3600 + (i.id * 7919 %% 400000))
                                                       + k * 600)
            FROM {TABLES["item"]} i
            CROSS JOIN (SELECT {statuses} AS names) s
            CROSS JOIN generate_series(1, %s) AS k
            CROSS JOIN LATERAL (
                SELECT CASE
                    WHEN k > 5 THEN s.names[2 + (k %% 3)]
                    WHEN k = 5 AND i.id %% 10 = 0 THEN 'In Progress'
                    ELSE s.names[k] END AS status
            ) st
            WHERE i.source_id = %s
            """,
            [PER_ITEM, source.pk],
        )
        cursor.execute(f"ANALYZE {TABLES['item']}")
        cursor.execute(f"ANALYZE {TABLES['change']}")
    source.name = scale_marker()
    source.save(update_fields=["name"])
    changes = sql(f"SELECT COUNT(*) FROM {TABLES['change']}")[0][0]
    print(
        f"Built {ITEMS:,} items and {changes:,} status changes in "
        f"{time.perf_counter() - started:.1f} s.",
        flush=True,
    )


# PostgreSQL alone: the core of each measured operation in one statement.

CORE = f"""
WITH c AS (
    SELECT sc.item_id, sc.at, m.category,
           LEAD(sc.at) OVER w AS next_at, LAG(m.category) OVER w AS prev_cat
    FROM {TABLES["change"]} sc
    JOIN {TABLES["item"]} i ON i.id = sc.item_id
    LEFT JOIN {TABLES["mapping"]} m ON m.value_stream_id IS NULL AND m.status_key = sc.status_key
    WHERE %(where)s
    WINDOW w AS (PARTITION BY sc.item_id ORDER BY sc.at, sc.id)
), f AS (
    SELECT item_id,
           MIN(at) FILTER (WHERE category IN ('active', 'waiting')) AS start_at,
           MAX(at) FILTER (WHERE category = 'done' AND prev_cat IS DISTINCT FROM 'done') AS done_at,
           SUM(EXTRACT(EPOCH FROM next_at - at)) FILTER (WHERE category = 'active') AS active_s
    FROM c GROUP BY item_id
), per_week AS (
    SELECT i.product_id, date_trunc('week', f.done_at) AS wk, COUNT(*) AS velocity,
           percentile_cont(ARRAY[0.5, 0.85]) WITHIN GROUP (
               ORDER BY EXTRACT(EPOCH FROM f.done_at - f.start_at)) AS pct,
           SUM(f.active_s) AS active_s
    FROM f JOIN {TABLES["item"]} i ON i.id = f.item_id
    WHERE f.done_at IS NOT NULL AND f.start_at IS NOT NULL
    GROUP BY 1, 2
)
SELECT COUNT(*), SUM(velocity) FROM per_week
"""


# The weekly per-product aggregation over the per-item facts the ingests keep.
CORE_FACTS = """
SELECT COUNT(*), SUM(velocity) FROM (
    SELECT product_id, done_week, COUNT(*) AS velocity, SUM(active_s) AS active_s,
           percentile_cont(ARRAY[0.5, 0.85]) WITHIN GROUP (ORDER BY done_t - start_t) AS pct
    FROM valuestreams_flowfact
    WHERE for_product AND done_t IS NOT NULL AND %(where)s
    GROUP BY 1, 2
) per_week
"""


def core_seconds(product_ids: list[int] | None = None, *, facts: bool = False) -> float:
    if facts:
        where = "TRUE" if product_ids is None else "product_id = ANY(%(ids)s)"
        statement = CORE_FACTS.replace("%(where)s", where)
    else:
        where = "TRUE" if product_ids is None else "i.product_id = ANY(%(ids)s)"
        statement = CORE.replace("%(where)s", where)
    params = {"ids": product_ids} if product_ids is not None else None
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        cursor.fetchall()
    return time.perf_counter() - started


# The measurements.


def line(label: str, value: str, seconds_app: float, seconds_db: float, target: str) -> None:
    ratio = seconds_app / seconds_db if seconds_db else float("nan")
    print(
        f"{label:<34} {value:>16}   PostgreSQL alone {seconds_db * 1000:>9.1f} ms"
        f"   x{ratio:>5.1f}   target {target}",
        flush=True,
    )


def full_rebuild(now: dt.datetime) -> None:
    """The weekly run: every item's facts derived again from the whole history, then every
    snapshot; beside one statement deriving the facts and aggregating them per product-week."""
    seconds, result = timed(flow_recompute, now=now, rebuild=True)
    line("full, facts rederived (weekly)", f"{seconds:.2f} s", seconds, core_seconds(), "-")
    print(
        f"    {result.products} products, {result.value_streams} value streams, "
        f"{result.snapshots:,} snapshots",
        flush=True,
    )


def vacuum() -> None:
    """What autovacuum does after a rewrite of the flow tables (a server may have it off, as
    this machine's has): without it every run leaves a million dead rows behind to scan."""
    started = time.perf_counter()
    for table in ("valuestreams_flowfact", "valuestreams_flowspan", TABLES["snapshot"]):
        sql(f"VACUUM (ANALYZE) {table}")
    autovacuum = sql("SHOW autovacuum")[0][0]
    print(
        f"    flow tables vacuumed in {time.perf_counter() - started:.1f} s "
        f"(autovacuum is {autovacuum} on this server)",
        flush=True,
    )


def full_recompute(now: dt.datetime) -> None:
    """The nightly run: every snapshot from the facts the ingests keep; beside the weekly
    per-product aggregation over those facts."""
    seconds, result = timed(flow_recompute, now=now)
    line(
        "full recomputation (nightly)",
        f"{seconds:.2f} s",
        seconds,
        core_seconds(facts=True),
        "60 s",
    )
    print(
        f"    {result.products} products, {result.value_streams} value streams, "
        f"{result.snapshots:,} snapshots",
        flush=True,
    )


def ingest_payload(batch: int, product_slugs: list[str], now: dt.datetime) -> dict:
    """New items of a few products and five changes each over the last days: INGEST_CHANGES
    changes in all."""
    rng = random.Random(batch)
    items, transitions = [], []
    count = INGEST_CHANGES // 5
    for n in range(count):
        key = f"I{batch}-{n}"
        created = now - dt.timedelta(days=6, minutes=rng.randrange(600))
        items.append(
            {
                "key": key,
                "type": "feature",
                "product": product_slugs[n % len(product_slugs)],
                "title": f"Ingested {n}",
                "created_at": created.isoformat(),
            }
        )
        at = created
        previous = ""
        for status in STATUSES:
            at = at + dt.timedelta(hours=rng.randrange(1, 20))
            transitions.append(
                {"key": key, "from_status": previous, "to_status": status, "at": at.isoformat()}
            )
            previous = status
    return {"source": "bench-ingest", "items": items, "transitions": transitions}


def bare_insert_seconds(payload: dict) -> float:
    """The payload's changes inserted by one statement into a scratch copy of the table."""
    rows = [
        (n + 1, t["from_status"], t["to_status"], t["to_status"].lower(), t["at"])
        for n, t in enumerate(payload["transitions"])
    ]
    columns = [list(column) for column in zip(*rows, strict=True)]
    with transaction.atomic():
        sql(
            f"CREATE TEMP TABLE bench_changes (LIKE {TABLES['change']} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING INDEXES) ON COMMIT DROP"
        )
        started = time.perf_counter()
        sql(
            "INSERT INTO bench_changes (item_id, from_status, to_status, status_key, at) "
            "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[], "
            "%s::timestamptz[]) ON CONFLICT DO NOTHING",
            columns,
        )
        return time.perf_counter() - started


def ingest_and_incremental(now: dt.datetime, client: APIClient) -> None:
    # The previous run's ingested items go, so every run ingests the same new rows.
    ingested = (
        "SELECT id FROM valuestreams_workitem WHERE source_id IN (SELECT id FROM "
        "valuestreams_worksource WHERE slug = 'bench-ingest')"
    )
    for table in ("valuestreams_flowfact", "valuestreams_flowspan", TABLES["change"]):
        sql(f"DELETE FROM {table} WHERE item_id IN ({ingested})")
    sql(f"DELETE FROM {TABLES['item']} WHERE id IN ({ingested})")
    products = list(Product.objects.order_by("id").values_list("id", "slug")[:INGEST_PRODUCTS])
    slugs = [slug for _, slug in products]
    spent, bare, sent = 0.0, 0.0, 0
    payload: dict = {}
    # A running server has loaded its URLs and views: one empty request first, as the API
    # answer's warm-up does.
    warm_up = client.post(
        "/api/v1/work-items/ingest/", {"items": [], "transitions": []}, format="json"
    )
    assert warm_up.status_code == 200, warm_up.content[:300]
    for batch in range(INGEST_BATCHES):
        payload = ingest_payload(batch, slugs, now)
        body = json.dumps(payload)
        started = time.perf_counter()
        response = client.post("/api/v1/work-items/ingest/", body, content_type="application/json")
        spent += time.perf_counter() - started
        assert response.status_code == 200, response.content[:500]
        assert response.json()["transitions"]["created"] == len(payload["transitions"])
        sent += len(payload["transitions"])
        bare += bare_insert_seconds(payload)
    rate, bare_rate = sent / spent, sent / bare
    line(
        "ingestion (bulk API, JSON)",
        f"{rate:,.0f} changes/s",
        spent / INGEST_BATCHES,
        bare / INGEST_BATCHES,
        "20,000 changes/s",
    )
    print(
        f"    {INGEST_BATCHES} requests of {INGEST_CHANGES:,} changes, times per request; "
        f"the bare insert alone: {bare_rate:,.0f} changes/s",
        flush=True,
    )
    since = min(dt.datetime.fromisoformat(t["at"]) for t in payload["transitions"])
    since = min(since, *(dt.datetime.fromisoformat(i["created_at"]) for i in payload["items"]))
    ids = [pk for pk, _ in products]
    seconds, result = timed(flow_recompute, product_ids=ids, since=since, now=now)
    line(
        f"incremental ({len(ids)} products)",
        f"{seconds:.2f} s",
        seconds,
        core_seconds(ids, facts=True),
        "5 s",
    )
    print(
        f"    after {INGEST_CHANGES:,} changes: {result.products} products, "
        f"{result.value_streams} value streams, {result.snapshots:,} snapshots rewritten",
        flush=True,
    )


def api_answer(client: APIClient) -> None:
    product = Product.objects.order_by("id").first()
    assert product is not None
    url = f"/api/v1/products/{product.pk}/flow-metrics/"
    client.get(url)  # warm up
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    windows = response.json()
    bare = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        sql(
            f"SELECT * FROM {TABLES['snapshot']} WHERE product_id = %s AND \"window\" = 'week' "
            "ORDER BY window_start",
            [product.pk],
        )
        bare.append(time.perf_counter() - started)
    app, db = statistics.median(times), statistics.median(bare)
    line("flow-metrics API answer (median)", f"{app * 1000:.1f} ms", app, db, "150 ms")
    size = len(windows.get("results", windows)) if isinstance(windows, dict) else len(windows)
    print(f"    {REPEATS} requests, {size} entries in the answer", flush=True)


def dashboard_answer() -> None:
    """Median server time of the CIO dashboard page, as an executive sees it."""
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-exec")
    user.groups.set([Group.objects.get(name="executive")])
    client = Client()
    client.force_login(user)
    client.get("/")  # warm up
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get("/")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    bare = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        sql(
            f"SELECT value_stream_id, window_start, velocity, flow_time_median_days, distribution "
            f"FROM {TABLES['snapshot']} WHERE value_stream_id IS NOT NULL AND \"window\" = 'month' "
            "AND window_start >= %s",
            [(timezone.localdate() - dt.timedelta(days=400)).replace(day=1)],
        )
        bare.append(time.perf_counter() - started)
    app, db = statistics.median(times), statistics.median(bare)
    line("dashboard median ms", f"{app * 1000:.1f} ms", app, db, "150 ms")
    print(f"    {REPEATS} requests of GET / as an executive", flush=True)


def main() -> None:
    now = timezone.now()
    build(now)
    user, _ = get_user_model().objects.get_or_create(username="bench-pm")
    user.groups.set([Group.objects.get(name="portfolio_manager")])
    client = APIClient()
    client.force_authenticate(user)
    print(
        f"PostgreSQL {sql('SHOW server_version')[0][0]}, database {BENCH_DATABASE}, {scale_marker()}"
    )
    if os.environ.get("BENCH_ONLY") == "dashboard":  # the dashboard figure alone, on built data
        dashboard_answer()
        return
    full_rebuild(now)
    vacuum()
    full_recompute(now)
    ingest_and_incremental(now, client)
    api_answer(client)
    dashboard_answer()


if __name__ == "__main__":
    main()
