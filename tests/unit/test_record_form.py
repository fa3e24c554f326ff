"""Values a record form is prefilled with read back as the same values when saved unchanged."""

import pytest

from services.validation import parse_money, parse_positive
from ui.record_form import as_text


@pytest.mark.parametrize("value", [2.125, 1500.0, 0.5, 1e-05, 123456.789, 12.5, 1000.001])
def test_fractions_round_trip_through_the_number_rules(value):
    assert parse_positive(as_text(value)) == value


@pytest.mark.parametrize(("value", "shown"), [(None, ""), (25000, "25000"), (1500.0, "1500"),
                                              (2.125, "2,1250"), (2.5, "2,5"), ("MY", "MY")])
def test_how_values_are_shown(value, shown):
    assert as_text(value) == shown


@pytest.mark.parametrize("value", [0, 5, 999, 1_000, 17_800, 1_250_000, 2_110_100_000])
def test_rupiah_is_grouped_and_round_trips(value):
    shown = as_text(value, money=True)
    assert parse_money(shown) == value
    assert shown == f"{value:,}".replace(",", ".")
