"""Ringkasan's tiles show their change against the same day one quarter earlier (issue 10),
counted from the dated facts as the programme stood then; the numbers are derived here from the
services on the test's own database and pinned date."""

from sqlmodel import Session

from db.engine import get_engine
from services import clock
from services.overview import funnel_by_kabupaten, quarter_before, totals

TILES = {"IKM terdaftar": "registered", "IKM dilatih": "trained",
         "Di ritel modern": "in_retail", "Sudah dinilai": "assessed",
         "Daftar pendek": "shortlisted", "Sudah ekspor": "exporting"}


def test_each_tile_shows_its_change_since_one_quarter_earlier(app_as):
    at = app_as("kepala")
    assert not at.exception
    today = clock.today()
    with Session(get_engine()) as s:
        now = totals(funnel_by_kabupaten(s, as_of=today))
        then = totals(funnel_by_kabupaten(s, as_of=quarter_before(today)))
    shown = {m.label: m for m in at.metric}
    checked = 0
    for label, stage in TILES.items():
        if label not in shown:
            continue
        change = now[stage] - then[stage]
        expected = f"{change:+,}".replace(",", ".") if change else ""
        assert (shown[label].delta or "") == expected, (label, shown[label].delta, expected)
        checked += 1
    assert checked == len(TILES), sorted(shown)
    assert any(now[s] != then[s] for s in TILES.values())  # the demo programme moved meanwhile
    assert quarter_before(today).strftime("%d-%m-%Y") in shown["IKM terdaftar"].help


def test_the_funnel_chart_is_drawn_with_a_text_alternative(app_as):
    import json

    at = app_as("tamu")
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert spec["facet"]["sort"] == ["Bangkalan", "Sampang", "Pamekasan", "Sumenep"]
    with Session(get_engine()) as s:
        rows = funnel_by_kabupaten(s, as_of=clock.today())
    datasets = json.dumps(spec.get("datasets", {})) + str(charts[0].proto.datasets)
    assert all(r["name"] in datasets for r in rows)
    alt_text = charts[0].proto.alt if hasattr(charts[0].proto, "alt") else ""
    assert all(f"{r['name']}: {r['registered']} dari target" in alt_text for r in rows)
