"""Ringkasan: headline figures of the programme and the pipeline per regency."""

import pandas as pd
import streamlit as st

from services import overview
from services.charts import funnel_chart, funnel_summary
from ui.data import cached
from ui.format import fmt_date, today_wib
from ui.i18n import t
from ui.session import context

ctx = context()
today = today_wib()
rows = cached(ctx, overview.funnel_by_kabupaten, as_of=today)
total = overview.totals(rows)
# Each tile's change against the same day one quarter earlier (stages come from dated facts,
# so the programme as it stood then is counted the same way).
earlier = overview.quarter_before(today)
before = overview.totals(cached(ctx, overview.funnel_by_kabupaten, as_of=earlier))

st.title(t("overview.title"))
st.caption(t("overview.as_of", date=fmt_date(today)))

if total["registered"] == 0:
    st.info(t("overview.empty"))

of_target = t("overview.of_target", target=total["target_ikm"])
tiles = [
    ("overview.registered", total["registered"], of_target),
    ("overview.trained", total["trained"], of_target),
    ("overview.in_retail", total["in_retail"], None),
    ("overview.assessed", total["assessed"], None),
    ("overview.shortlisted", total["shortlisted"], None),
    ("overview.exporting", total["exporting"], None),
]
for column, (key, value, note) in zip(st.columns(len(tiles)), tiles, strict=True):
    # "dilatih" is services.overview.trained, the count the Cohorts page shows too
    stage = key.removeprefix("overview.")
    change = value - before[stage]
    helps = [t("pipeline.trained_help")] if key == "overview.trained" else []
    helps.append(t("overview.delta_help", date=fmt_date(earlier)))
    column.metric(t(key), f"{value:,}".replace(",", "."),
                  delta=f"{change:+,}".replace(",", ".") if change else None,
                  help="\n\n".join(helps))
    if note:
        column.caption(note)

# The funnel of each regency against its target, above the fold next to the tiles (issue 10).
if total["registered"]:
    stage_labels = {s: t(f"col.{s}") for s in overview.STAGE_COLUMNS}
    summary = funnel_summary(rows, stage_labels=stage_labels,
                             template=t("overview.funnel_line"))
    st.markdown(f"**{t('overview.funnel')}**")
    st.altair_chart(
        funnel_chart(rows, stage_labels=stage_labels, width=190, height=150, label_size=16,
                     texts={k: t(f"chart.{k}") for k in ("count", "stage", "kabupaten",
                                                         "target", "of_target", "conversion")}
                     | {"title": ""}),
        theme=None, width="content", alt=" ".join(summary))

st.subheader(t("overview.per_kabupaten"))
table = pd.DataFrame(rows)
table = pd.concat([table, pd.DataFrame([{"name": t("col.total"), **total}])], ignore_index=True)
table["trained_pct"] = (100 * table["trained"] / table["target_ikm"].where(table["target_ikm"] > 0))
columns = {"name": t("col.kabupaten"), "target_ikm": t("col.target"),
           "registered": t("col.registered"), "trained": t("col.trained"),
           "trained_pct": t("col.trained_pct"), "upgraded": t("col.upgraded"),
           "in_retail": t("col.in_retail"), "assessed": t("col.assessed"),
           "shortlisted": t("col.shortlisted"), "exporting": t("col.exporting")}
# Every column fits beside the open sidebar at 1280×720 (ui/theme.py makes the room; checked by
# tests/e2e/test_contrast.py); an empty cell (no target yet) shows a dash, not "None".
st.dataframe(
    table[list(columns)].rename(columns=columns), hide_index=True, width="stretch",
    placeholder="—", column_config={t("col.trained_pct"): st.column_config.ProgressColumn(
        t("col.trained_pct"), min_value=0, max_value=100, format="%.0f%%")})
