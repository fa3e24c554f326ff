"""Chart builders (issue 10, in progress) are pure functions: tested through to_dict() and the
server-side rendering, with rows made here (no database)."""

import struct

import pytest

from services.charts import (
    BAR,
    conversion_rates,
    funnel_chart,
    funnel_frame,
    funnel_summary,
    to_png,
    to_svg,
)
from services.overview import STAGE_COLUMNS

LABELS = {s: f"Tahap {i}" for i, s in enumerate(STAGE_COLUMNS)}
TEXTS = {"count": "IKM", "stage": "Tahap", "kabupaten": "Kabupaten", "target": "Target",
         "of_target": "% dari target", "conversion": "Konversi", "title": "Corong"}


def row(name: str, target: int, *counts: int) -> dict:
    return {"name": name, "target_ikm": target, **dict(zip(STAGE_COLUMNS, counts, strict=True))}


ROWS = [row("Bangkalan", 120, 100, 80, 40, 10, 4, 2, 1),
        row("Sampang", 120, 60, 0, 0, 0, 0, 0, 0),
        row("Pamekasan", 90, 0, 0, 0, 0, 0, 0, 0),
        row("Sumenep", 120, 130, 120, 70, 30, 12, 6, 3)]


def test_conversion_is_the_share_of_the_stage_before_and_none_after_an_empty_stage():
    rates = conversion_rates(ROWS[0])
    assert rates["trained"] == pytest.approx(0.8) and rates["exporting"] == pytest.approx(0.5)
    assert "registered" not in rates
    assert conversion_rates(ROWS[1])["upgraded"] is None  # nobody trained: no rate, not 0 %
    assert set(conversion_rates(ROWS[2]).values()) == {None}


def test_the_frame_has_every_regency_and_stage_with_its_share_of_the_target():
    frame = funnel_frame(ROWS, LABELS)
    assert len(frame) == len(ROWS) * len(STAGE_COLUMNS)
    sumenep = frame[(frame.kabupaten == "Sumenep") & (frame.stage == "registered")].iloc[0]
    assert sumenep["count"] == 130 and sumenep["of_target"] == pytest.approx(130 / 120)
    assert list(frame[frame.kabupaten == "Bangkalan"]["stage_label"]) == list(LABELS.values())


def test_the_funnel_chart_keeps_regency_and_stage_order_draws_the_target_and_explains_marks():
    spec = funnel_chart(ROWS, stage_labels=LABELS, texts=TEXTS).to_dict()
    assert spec["facet"]["sort"] == ["Bangkalan", "Sampang", "Pamekasan", "Sumenep"]
    bars, target = spec["spec"]["layer"]
    assert bars["mark"]["type"] == "bar" and target["mark"]["type"] == "rule"
    assert bars["encoding"]["x"]["sort"] == list(LABELS.values())  # registered → exporting
    assert bars["encoding"]["color"] == {"value": BAR}
    assert target["encoding"]["y"]["field"] == "target" and \
        target["encoding"]["y"]["aggregate"] == "max"
    titles = {t["title"] for t in bars["encoding"]["tooltip"]}
    assert titles == {"Kabupaten", "Tahap", "IKM", "Target", "% dari target", "Konversi"}
    assert target["encoding"]["tooltip"]  # every mark has a tooltip
    assert spec["title"] == "Corong"


def test_the_summary_names_each_regency_its_count_target_and_furthest_stage():
    lines = funnel_summary(ROWS, stage_labels=LABELS,
                           template="{kabupaten}: {registered}/{target}; {stage} {count}")
    assert lines == ["Bangkalan: 100/120; Tahap 6 1", "Sampang: 60/120; Tahap 0 60",
                     "Pamekasan: 0/90; Tahap 0 0", "Sumenep: 130/120; Tahap 6 3"]


def test_a_chart_renders_to_png_and_svg_on_the_server():
    chart = funnel_chart(ROWS, stage_labels=LABELS, texts=TEXTS)
    png = to_png(chart, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    assert width > 4 * 220 and height > 180  # four panels side by side
    wide = struct.unpack(">II", to_png(chart, scale=2)[16:24])
    assert wide[0] >= 2 * width - 2
    svg = to_svg(chart)
    assert svg.lstrip().startswith("<svg") and all(r["name"] in svg for r in ROWS)


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-06-15", "2026-03-15"), ("2026-02-10", "2025-11-10"), ("2026-05-31", "2026-02-28"),
    ("2028-05-31", "2028-02-29"), ("2026-12-31", "2026-09-30"), ("2027-01-01", "2026-10-01")])
def test_one_quarter_earlier_is_the_same_day_or_the_months_last(day, expected):
    from datetime import date

    from services.overview import quarter_before

    assert quarter_before(date.fromisoformat(day)) == date.fromisoformat(expected)
