"""The conversion of a service's Django ValidationError into the API's 400 ``{field: [messages]}``."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from rest_framework import serializers

from portfolio.common.api import drf_validation_error, service_errors


def test_field_errors_keep_their_field():
    error = drf_validation_error(
        ValidationError({"fte": ["Too much.", "Really."], "end_date": "Before the start."})
    )
    assert error.detail == {"fte": ["Too much.", "Really."], "end_date": ["Before the start."]}


def test_errors_of_no_field_go_under_non_field_errors():
    error = drf_validation_error(
        ValidationError({NON_FIELD_ERRORS: ["Overlaps another row."], "name": "Empty."})
    )
    assert error.detail == {"non_field_errors": ["Overlaps another row."], "name": ["Empty."]}


def test_a_plain_message_goes_under_non_field_errors():
    error = drf_validation_error(ValidationError(["One.", "Two."]))
    assert error.detail == {"non_field_errors": ["One.", "Two."]}


def test_service_errors_raises_the_drf_error_and_passes_others_through():
    with pytest.raises(serializers.ValidationError) as caught, service_errors():
        raise ValidationError({"slug": "Taken."})
    assert caught.value.detail == {"slug": ["Taken."]}
    assert caught.value.status_code == 400
    with pytest.raises(KeyError), service_errors():
        raise KeyError("a real bug is not turned into a 400")
