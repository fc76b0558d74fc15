"""The limits hold through the API under concurrency: two clients on two real PostgreSQL
connections each POST the team's last 60 % at the same moment; exactly one is saved."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connections
from rest_framework.test import APIClient

from funding.models import Allocation
from funding.services import team_allocated_percent
from tests.funding.factories import AllocationFactory, FiscalPeriodFactory, RateFactory
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory

P = Decimal


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_clients_cannot_both_take_the_last_60_percent(make_user, attempt):
    period = FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=P("120000.00"))
    team = TeamFactory(name="Checkout")
    TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer), fte=1)
    AllocationFactory(period=period, team=team, value_stream=ValueStreamFactory(), percent=P("40"))
    streams = [ValueStreamFactory(name="Payments"), ValueStreamFactory(name="Search")]
    users = [make_user("fin-a", "finance"), make_user("fin-b", "finance")]

    start = threading.Barrier(2)
    answers: dict[str, tuple[int, dict]] = {}

    def post(user, stream) -> None:
        client = APIClient()
        client.force_authenticate(user=user)
        try:
            start.wait(5)
            response = client.post(
                "/api/v1/allocations/",
                {
                    "period": period.id,
                    "team": team.id,
                    "value_stream": stream.id,
                    "percent": "60.00",
                },
                format="json",
            )
            answers[stream.name] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=post, args=(user, stream))
        for user, stream in zip(users, streams, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)

    codes = sorted(code for code, _ in answers.values())
    assert codes == [201, 400], answers
    refused = next(body for code, body in answers.values() if code == 400)
    assert refused == {
        "percent": [
            "Checkout would be allocated 160.00 % of its capacity in FY2030: 60.00 % over the "
            "100 % limit."
        ]
    }
    assert Allocation.objects.filter(period=period, team=team).count() == 2
    assert team_allocated_percent(period=period, team_id=team.pk) == P("100.00")
