"""The roadmap board on the product page: add, edit in place, move with buttons, delete.

Every write is tried by the product's owner and a portfolio manager (allowed) and by an executive,
finance and the owner of another product (403, nothing written), as htmx and as a plain form.
"""

import re

import pytest
from django.urls import reverse

from products import services
from products.models import KeyResult, Product, RoadmapItem
from tests.products.factories import (
    KeyResultFactory,
    OutcomeFactory,
    ProductFactory,
    RoadmapItemFactory,
    outcome_rows,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
WRITERS = ["owner", "portfolio_manager"]
REFUSED = ["executive", "finance", "other_owner"]
EVERYONE = WRITERS + REFUSED
HORIZONS = RoadmapItem.Horizon.values


@pytest.fixture
def people(make_user):
    """The product's owner, another product's owner, and one user per other role."""
    return {
        "owner": make_user("owner", "product_owner"),
        "other_owner": make_user("other-owner", "product_owner"),
        "portfolio_manager": make_user("pm", "portfolio_manager"),
        "executive": make_user("exec", "executive"),
        "finance": make_user("finance", "finance"),
    }


@pytest.fixture
def product(people):
    product = ProductFactory(name="Checkout", slug="checkout", owners=[people["owner"]])
    ProductFactory(name="Ledger", slug="ledger", owners=[people["other_owner"]])
    return product


@pytest.fixture
def krs(product) -> list[KeyResult]:
    outcome = OutcomeFactory(product=product)
    conversion = KeyResultFactory(outcome=outcome, name="Conversion")
    services.measurement_record(
        actor=product.owners.get(),
        key_result=conversion,
        date=conversion.start_date,
        value=conversion.baseline,
    )
    return [conversion, KeyResultFactory(outcome=outcome, name="Basket size")]


@pytest.fixture
def items(product, krs) -> dict[str, RoadmapItem]:
    """Now: Wallet pay, Guest checkout; Next: One-click reorder; Done: Address lookup."""
    rows = [
        RoadmapItemFactory(product=product, title="Wallet pay", horizon="now", key_results=krs[:1]),
        RoadmapItemFactory(product=product, title="Guest checkout", horizon="now"),
        RoadmapItemFactory(
            product=product, title="One-click reorder", horizon="next", key_results=krs
        ),
        RoadmapItemFactory(product=product, title="Address lookup", horizon="done"),
    ]
    return {item.title: item for item in rows}


@pytest.fixture
def login(client, people):
    def sign_in(who: str):
        client.force_login(people[who])
        return client

    return sign_in


def url(name: str, product: Product, *args) -> str:
    return reverse(f"products:{name}", args=[product.slug, *args])


def board(product: Product) -> dict[str, list[str]]:
    """Each horizon's titles in order, after checking the places are exactly 0..n-1."""
    result: dict[str, list[str]] = {}
    for horizon in HORIZONS:
        rows = list(
            RoadmapItem.objects.filter(product=product, horizon=horizon)
            .order_by("position")
            .values_list("position", "title")
        )
        assert [position for position, _ in rows] == list(range(len(rows))), (horizon, rows)
        result[horizon] = [title for _, title in rows]
    return result


def card(html: str, item: RoadmapItem) -> str:
    """The HTML of one item's card on the board."""
    start = html.index(f'<article id="roadmap-item-{item.pk}"')
    return html[start : html.index("</article>", start)]


def column(html: str, horizon: str) -> str:
    start = html.index(f'data-horizon="{horizon}"')
    end = html.find("data-horizon=", start + 1)
    return html[start : end if end > 0 else None]


# Reading the board


def test_the_board_shows_four_columns_in_order_with_linked_key_results(login, product, items):
    html = login("executive").get(product.get_absolute_url()).content.decode()
    assert re.findall(r'data-horizon="(\w+)"', html) == HORIZONS
    now = column(html, "now")
    assert now.index("Wallet pay") < now.index("Guest checkout")
    assert "One-click reorder" in column(html, "next")
    assert "Nothing in Later yet." in column(html, "later")
    wallet = card(html, items["Wallet pay"])
    assert "Conversion" in wallet and "Basket size" not in wallet
    assert '<span class="badge badge-ok">On track</span>' in wallet
    reorder = card(html, items["One-click reorder"])
    assert '<span class="badge badge-none">No data</span>' in reorder


def test_items_without_a_key_result_are_flagged_except_in_done(login, product, items):
    html = login("finance").get(product.get_absolute_url()).content.decode()
    flag = "Output without outcome</span>"
    assert flag in card(html, items["Guest checkout"])
    assert "no-outcome" in card(html, items["Guest checkout"])
    assert flag not in card(html, items["Wallet pay"])
    assert flag not in card(html, items["Address lookup"])
    assert "Linked to no key result." in card(html, items["Address lookup"])


@pytest.mark.parametrize("who", EVERYONE)
def test_move_and_edit_controls_only_for_those_who_may_write(login, who, product, items):
    html = login(who).get(product.get_absolute_url()).content.decode()
    guest = items["Guest checkout"]
    controls = [
        "Add an item",
        url("roadmap_item_move", product, guest.pk),
        url("roadmap_item_edit", product, guest.pk),
        url("roadmap_item_delete", product, guest.pk),
        "Move up",
    ]
    present = [c for c in controls if c in html]
    assert present == (controls if who in WRITERS else [])


def test_each_card_offers_the_moves_its_place_allows(login, product, items):
    html = login("owner").get(product.get_absolute_url()).content.decode()
    wallet = card(html, items["Wallet pay"])  # first of two in Now
    assert "Move up" not in wallet and "Move down" in wallet
    assert 'name="position" value="1"' in wallet
    assert re.findall(r'name="focus" value="to-(\w+)"', wallet) == ["next", "later", "done"]
    guest = card(html, items["Guest checkout"])  # last of two in Now
    assert "Move up" in guest and "Move down" not in guest
    assert 'name="position" value="0"' in guest
    reorder = card(html, items["One-click reorder"])  # alone in Next
    assert "Move up" not in reorder and "Move down" not in reorder
    assert 'Move “One-click reorder” to </span><span aria-hidden="true">→ </span>Now' in reorder


@pytest.mark.parametrize("who", EVERYONE)
def test_everyone_reads_the_board_and_a_card_as_fragments(login, who, product, items):
    client = login(who)
    response = client.get(url("roadmap_board", product), headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="roadmap"')
    guest = items["Guest checkout"]
    one = client.get(url("roadmap_item_detail", product, guest.pk), headers=HTMX)
    assert one.content.decode().lstrip().startswith(f'<article id="roadmap-item-{guest.pk}"')
    assert "HX-Request" in one["Vary"]
    plain = client.get(url("roadmap_item_detail", product, guest.pk))
    assert plain.status_code == 302
    assert plain["Location"] == f"/products/checkout/#roadmap-item-{guest.pk}"
    assert client.get(url("roadmap_board", product))["Location"].endswith("#roadmap")


# Moving


@pytest.mark.parametrize("who", WRITERS)
@pytest.mark.parametrize(
    ("title", "data", "expected"),
    [
        (
            "Guest checkout",
            {"horizon": "now", "position": "0", "focus": "up"},
            {"now": ["Guest checkout", "Wallet pay"]},
        ),
        (
            "Wallet pay",
            {"horizon": "now", "position": "1", "focus": "down"},
            {"now": ["Guest checkout", "Wallet pay"]},
        ),
        (
            "One-click reorder",
            {"horizon": "now", "focus": "to-now"},
            {"now": ["Wallet pay", "Guest checkout", "One-click reorder"], "next": []},
        ),
        (
            "Wallet pay",
            {"horizon": "done", "focus": "to-done"},
            {"now": ["Guest checkout"], "done": ["Address lookup", "Wallet pay"]},
        ),
        (
            "Address lookup",
            {"horizon": "next", "position": "0"},
            {"next": ["Address lookup", "One-click reorder"], "done": []},
        ),
    ],
)
def test_writers_move_items_and_the_board_comes_back(
    login, who, product, items, title, data, expected
):
    before = board(product)
    response = login(who).post(
        url("roadmap_item_move", product, items[title].pk), data, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="roadmap"')
    assert board(product) == {**before, **expected}
    for horizon, titles in expected.items():
        shown = column(html, horizon)
        assert [t for t in titles if t in shown] == titles
        if titles:
            assert sorted(titles, key=shown.index) == titles


def focused(response) -> list[str]:
    """The ids of the elements that take the focus after the swap (htmx honours autofocus)."""
    html = response.content.decode()
    return re.findall(r'id="([\w-]+)"[^>]*\sautofocus>', html)


def test_focus_stays_on_the_button_pressed_or_goes_to_the_moved_item(login, product, items):
    client = login("owner")
    apple = RoadmapItemFactory(product=product, title="Apple pay", horizon="now")
    guest = items["Guest checkout"].pk
    move = url("roadmap_item_move", product, guest)
    # now: Wallet, Guest, Apple. Up to the top: no "Move up" there, so the item takes the focus.
    response = client.post(move, {"horizon": "now", "position": "0", "focus": "up"}, headers=HTMX)
    assert focused(response) == [f"roadmap-item-{guest}"]
    # Down one place: it still has "Move down", which keeps the focus.
    response = client.post(move, {"horizon": "now", "position": "1", "focus": "down"}, headers=HTMX)
    assert focused(response) == [f"roadmap-item-{guest}-down"]
    # Apple up from the bottom to the middle: "Move up" stays under the finger.
    response = client.post(
        url("roadmap_item_move", product, apple.pk),
        {"horizon": "now", "position": "1", "focus": "up"},
        headers=HTMX,
    )
    assert focused(response) == [f"roadmap-item-{apple.pk}-up"]
    # To Next: its "→ Next" button is gone there, so the item takes the focus.
    response = client.post(move, {"horizon": "next", "focus": "to-next"}, headers=HTMX)
    assert focused(response) == [f"roadmap-item-{guest}"]
    # A focus the board does not know is ignored; the item still gets it.
    response = client.post(move, {"horizon": "later", "focus": "elsewhere"}, headers=HTMX)
    assert focused(response) == [f"roadmap-item-{guest}"]
    assert board(product)["now"] == ["Wallet pay", "Apple pay"]
    assert board(product)["later"] == ["Guest checkout"]


def test_without_javascript_a_move_redirects_to_the_moved_item(login, product, items):
    client = login("owner")
    reorder = items["One-click reorder"]
    response = client.post(url("roadmap_item_move", product, reorder.pk), {"horizon": "now"})
    assert response.status_code == 302
    assert response["Location"] == f"/products/checkout/#roadmap-item-{reorder.pk}"
    assert board(product)["now"] == ["Wallet pay", "Guest checkout", "One-click reorder"]
    page = client.get(response["Location"]).content.decode()
    assert "“One-click reorder” moved to place 3 in Now." in page


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"horizon": "someday"}, "Choose a horizon: now, next, later or done."),
        ({"horizon": "now", "position": "-1"}, "A place is 0 (the top) or more."),
        ({"horizon": "now", "position": "top"}, "A place is a whole number."),
        ({"position": "0"}, "Say which horizon: now, next, later or done."),
    ],
)
def test_an_invalid_move_changes_nothing_and_says_why(login, product, items, data, why, htmx):
    client = login("owner")
    before = outcome_rows()
    target = url("roadmap_item_move", product, items["Wallet pay"].pk)
    response = client.post(target, data, headers=HTMX if htmx else {})
    assert outcome_rows() == before
    if htmx:
        assert response.status_code == 200
        assert f'role="alert">Not moved: {why}</p>' in response.content.decode()
    else:
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert f"“Wallet pay” was not moved: {why}" in page


def test_a_move_is_a_post(login, product, items):
    response = login("owner").get(url("roadmap_item_move", product, items["Wallet pay"].pk))
    assert response.status_code == 405


# Adding


@pytest.mark.parametrize("who", WRITERS)
def test_writers_add_an_item_with_key_results(login, who, product, items, krs):
    client = login(who)
    opened = client.get(url("roadmap_item_create", product), {"horizon": "next"}, headers=HTMX)
    body = opened.content.decode()
    assert body.lstrip().startswith('<section id="roadmap"') and "New roadmap item" in body
    assert '<option value="next" selected>Next</option>' in body
    assert "Conversion · On track" in body and "Basket size · No data" in body
    response = client.post(
        url("roadmap_item_create", product),
        {"title": "Saved cards", "description": "", "horizon": "next", "key_results": [krs[1].pk]},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "“Saved cards” added to Next." in html
    assert board(product)["next"] == ["One-click reorder", "Saved cards"]
    saved = RoadmapItem.objects.get(title="Saved cards")
    assert list(saved.key_results.all()) == [krs[1]]
    assert "Output without outcome" not in card(html, saved)


def test_without_javascript_adding_redirects_to_the_new_item(login, product):
    client = login("owner")
    page = client.get(url("roadmap_item_create", product))
    assert b"<html" in page.content and b"New roadmap item" in page.content
    response = client.post(
        url("roadmap_item_create", product), {"title": "Gift cards", "horizon": "later"}
    )
    saved = RoadmapItem.objects.get(title="Gift cards")
    assert response["Location"] == f"/products/checkout/#roadmap-item-{saved.pk}"
    html = client.get(response["Location"]).content.decode()
    assert "Output without outcome</span>" in card(html, saved)


@pytest.mark.parametrize("htmx", [True, False])
def test_an_invalid_item_shows_errors_beside_the_fields(login, product, items, htmx):
    foreign = KeyResultFactory(outcome=OutcomeFactory(product=ProductFactory()))
    before = outcome_rows()
    response = login("owner").post(
        url("roadmap_item_create", product),
        {"title": "", "horizon": "soon", "key_results": [foreign.pk]},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert ("<html" in body) is not htmx
    assert 'id="roadmap-new_title_error">This field is required.' in body
    assert 'id="roadmap-new_horizon_error">Select a valid choice.' in body
    assert 'id="roadmap-new_key_results_error">Select a valid choice.' in body
    assert outcome_rows() == before


# Editing in place


@pytest.mark.parametrize("who", WRITERS)
def test_writers_edit_an_item_in_place(login, who, product, items, krs):
    client = login(who)
    guest = items["Guest checkout"]
    edit = url("roadmap_item_edit", product, guest.pk)
    opened = client.get(edit, headers=HTMX).content.decode()
    assert opened.lstrip().startswith(f'<article id="roadmap-item-{guest.pk}"')
    assert 'value="Guest checkout"' in opened and "Save item" in opened
    assert 'name="horizon"' not in opened.split("<form", 2)[1].split("</form>")[0]
    response = client.post(
        edit,
        {
            "title": "Guest checkout v2",
            "description": "No account needed.",
            "key_results": [krs[0].pk],
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article id="roadmap-item-{guest.pk}"')
    assert "“Guest checkout v2” saved." in html and "No account needed." in html
    assert "Output without outcome" not in html and "Conversion" in html
    # Its place is kept and its card still offers the moves of that place.
    assert "Move up" in html and "Move down" not in html
    assert board(product)["now"] == ["Wallet pay", "Guest checkout v2"]


def test_an_invalid_edit_changes_nothing(login, product, items):
    before = outcome_rows()
    guest = items["Guest checkout"]
    for headers in (HTMX, {}):
        response = login("owner").post(
            url("roadmap_item_edit", product, guest.pk), {"title": ""}, headers=headers
        )
        assert response.status_code == 200
        assert f'id="roadmap-{guest.pk}_title_error">This field is required.' in (
            response.content.decode()
        )
    assert outcome_rows() == before


def test_without_javascript_an_edit_redirects_to_the_item(login, product, items):
    guest = items["Guest checkout"]
    client = login("owner")
    assert b"Save item" in client.get(url("roadmap_item_edit", product, guest.pk)).content
    response = client.post(url("roadmap_item_edit", product, guest.pk), {"title": "Guest pay"})
    assert response["Location"] == f"/products/checkout/#roadmap-item-{guest.pk}"
    assert board(product)["now"] == ["Wallet pay", "Guest pay"]


# Deleting


@pytest.mark.parametrize("who", WRITERS)
def test_writers_delete_an_item_and_the_gap_closes(login, who, product, items):
    response = login(who).post(
        url("roadmap_item_delete", product, items["Wallet pay"].pk), headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="roadmap"')
    assert "“Wallet pay” deleted from the roadmap." in html
    assert board(product)["now"] == ["Guest checkout"]


def test_without_javascript_deleting_asks_once_then_redirects(login, product, items):
    client = login("owner")
    target = url("roadmap_item_delete", product, items["Wallet pay"].pk)
    page = client.get(target)
    assert "Delete “Wallet pay” from the roadmap?" in page.content.decode()
    assert RoadmapItem.objects.filter(title="Wallet pay").exists()
    response = client.post(target)
    assert response["Location"] == "/products/checkout/#roadmap"
    assert board(product)["now"] == ["Guest checkout"]


# Refusals: every write view, GET and POST, htmx or not.


def write_requests(product, items) -> list[tuple[str, str, dict]]:
    pk = items["Guest checkout"].pk
    return [
        ("get", url("roadmap_item_create", product), {}),
        ("post", url("roadmap_item_create", product), {"title": "X", "horizon": "now"}),
        ("get", url("roadmap_item_edit", product, pk), {}),
        ("post", url("roadmap_item_edit", product, pk), {"title": "X"}),
        ("post", url("roadmap_item_move", product, pk), {"horizon": "later"}),
        ("post", url("roadmap_item_move", product, pk), {"horizon": "now", "position": "0"}),
        ("get", url("roadmap_item_delete", product, pk), {}),
        ("post", url("roadmap_item_delete", product, pk), {}),
    ]


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("who", REFUSED)
def test_others_are_refused_every_write_and_nothing_changes(login, who, product, items, htmx):
    client = login(who)
    before = outcome_rows()
    for method, target, data in write_requests(product, items):
        response = getattr(client, method)(target, data, headers=HTMX if htmx else {})
        assert response.status_code == 403, (method, target)
    assert outcome_rows() == before


def test_an_archived_product_refuses_writes_even_to_a_portfolio_manager(
    login, people, product, items
):
    services.product_archive(actor=people["portfolio_manager"], product=product)
    client = login("portfolio_manager")
    before = outcome_rows()
    for method, target, data in write_requests(product, items):
        assert getattr(client, method)(target, data).status_code == 403, (method, target)
    assert outcome_rows() == before


def test_an_item_of_another_product_is_not_found(login, people, product, items):
    mine = ProductFactory(owners=[people["owner"]])
    client = login("owner")
    guest = items["Guest checkout"]
    assert (
        client.post(url("roadmap_item_move", mine, guest.pk), {"horizon": "later"}).status_code
        == 404
    )
    assert client.post(url("roadmap_item_delete", mine, guest.pk)).status_code == 404
    assert board(product)["now"] == ["Wallet pay", "Guest checkout"]


# Query counts: the board costs the same with 2 items or 20.


def many_items(product: Product, krs: list[KeyResult], n: int) -> RoadmapItem:
    """Two items in Now and ``n - 2`` over Next, Later and Done, linked to 0, 1 or 2 key results;
    returns the second in Now."""
    for i in range(n):
        horizon = "now" if i < 2 else HORIZONS[1 + i % 3]
        RoadmapItemFactory(
            product=product, title=f"Item {i}", horizon=horizon, key_results=krs[: i % 3]
        )
    return RoadmapItem.objects.get(product=product, horizon="now", position=1)


# session, user; product (+ owners); permissions (user, groups); the page context: outcomes
# (+ key results, measurements), history, hypotheses, roadmap items (+ key results); role labels.
BOARD_QUERIES = 14
# The same, and the add form's key-result picker (whether it has choices, then the choices).
ADD_FORM_QUERIES = 16
# session, user; product (+ owners); permissions x2; the item (+ key results); the service:
# savepoint, lock, item refresh, the horizon's order, park, one update per item of the horizon (two
# here), item refresh, change record, release; then the page context (8) and the role labels.
MOVE_QUERIES = 26


@pytest.mark.parametrize("n", [2, 20])
def test_board_query_counts_do_not_grow_with_items(
    login, product, krs, django_assert_num_queries, n
):
    many_items(product, krs, n)
    client = login("owner")
    with django_assert_num_queries(BOARD_QUERIES):
        response = client.get(url("roadmap_board", product), headers=HTMX)
    assert response.content.decode().count('<article id="roadmap-item-') == n
    with django_assert_num_queries(ADD_FORM_QUERIES):
        response = client.get(url("roadmap_item_create", product), headers=HTMX)
    assert "New roadmap item" in response.content.decode()


@pytest.mark.parametrize("n", [2, 20])
def test_a_move_costs_the_same_with_2_items_or_20(
    login, product, krs, django_assert_num_queries, n
):
    """The board drawn after the move costs the same however many items it has. (The service
    renumbers with one UPDATE per item of the horizons it touches, so that part follows the size
    of those horizons: two items in Now here.)"""
    second_in_now = many_items(product, krs, n)
    client = login("owner")
    with django_assert_num_queries(MOVE_QUERIES):
        response = client.post(
            url("roadmap_item_move", product, second_in_now.pk),
            {"horizon": "now", "position": "0"},
            headers=HTMX,
        )
    assert response.content.decode().count('<article id="roadmap-item-') == n
    assert board(product)["now"] == ["Item 1", "Item 0"]


def test_a_move_brings_the_history_panel_out_of_band(login, product):
    from products.models import ChangeRecord

    client = login("owner")
    first = RoadmapItemFactory(product=product, title="First", horizon="next")
    response = client.post(
        url("roadmap_item_move", product, first.pk),
        {"horizon": "now", "position": 0},
        headers=HTMX,
    )
    assert response.status_code == 200
    board, history = response.content.decode().split('<section id="history"')
    assert 'id="roadmap"' in board
    assert 'hx-swap-oob="true"' in history
    assert ChangeRecord.objects.filter(action="moved", subject_id=first.pk).exists()
