"""Chart builders for regional progress (issue 10): pure functions from service rows to Altair
charts, with every label passed in (services know no session language), tooltips on every
mark and a colour-blind-safe palette. The same chart is drawn on a page (st.altair_chart),
rendered to PNG/SVG on the server (vl-convert) and put into the PDF report.

Work in progress: the funnel per regency and its conversion rates; the other charts of issue 10
(trend, map, category mix, retail, bottlenecks, GIZ, completeness) are still to come."""

from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from services.overview import STAGE_COLUMNS

# Okabe & Ito's palette (distinguishable with every common colour-vision deficiency), the
# colours with at least 3:1 against white first, for categories a chart tells apart by colour.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9")
BAR = PALETTE[0]  # one colour where the axis already names each bar (5.1:1 on white)
TARGET_COLOUR = "#1b2a24"
FONT = "Source Sans Pro, Segoe UI, Arial, sans-serif"


def conversion_rates(row: Mapping) -> dict[str, float | None]:
    """For one funnel row: the share (0-1) of the previous stage that reached each stage after
    `registered`; None where the previous stage has nobody."""
    rates: dict[str, float | None] = {}
    for before, stage in zip(STAGE_COLUMNS, STAGE_COLUMNS[1:], strict=False):
        previous = int(row.get(before) or 0)
        rates[stage] = (int(row.get(stage) or 0) / previous) if previous else None
    return rates


def funnel_frame(rows: Sequence[Mapping], stage_labels: Mapping[str, str]) -> pd.DataFrame:
    """The funnel rows (services.overview.funnel_by_kabupaten) in long form: one row per regency
    and stage, with its count, target, share of the target and conversion from the stage
    before."""
    records = []
    for row in rows:
        rates = conversion_rates(row)
        target = int(row.get("target_ikm") or 0)
        for order, stage in enumerate(STAGE_COLUMNS):
            count = int(row.get(stage) or 0)
            records.append({
                "kabupaten": row["name"], "stage": stage, "stage_label": stage_labels[stage],
                "order": order, "count": count, "target": target,
                "of_target": (count / target) if target else None,
                "conversion": rates.get(stage)})
    return pd.DataFrame.from_records(records, columns=[
        "kabupaten", "stage", "stage_label", "order", "count", "target", "of_target",
        "conversion"])


def funnel_chart(rows: Sequence[Mapping], *, stage_labels: Mapping[str, str],
                 texts: Mapping[str, str], width: int = 220, height: int = 180,
                 label_size: int = 12) -> alt.Chart:
    """Small multiples: one panel per regency, a bar per stage (registered → exporting) and the
    regency's target drawn as a rule. `texts` names the axes and tooltips: keys "count",
    "stage", "kabupaten", "target", "of_target", "conversion", "title"."""
    frame = funnel_frame(rows, stage_labels)
    order = [stage_labels[s] for s in STAGE_COLUMNS]
    tooltip = [alt.Tooltip("kabupaten:N", title=texts["kabupaten"]),
               alt.Tooltip("stage_label:N", title=texts["stage"]),
               alt.Tooltip("count:Q", title=texts["count"], format=",d"),
               alt.Tooltip("target:Q", title=texts["target"], format=",d"),
               alt.Tooltip("of_target:Q", title=texts["of_target"], format=".0%"),
               alt.Tooltip("conversion:Q", title=texts["conversion"], format=".0%")]
    bars = alt.Chart().mark_bar().encode(
        x=alt.X("stage_label:N", sort=order, title=None,
                axis=alt.Axis(labelAngle=-40, labelLimit=170)),
        y=alt.Y("count:Q", title=texts["count"]),
        color=alt.value(BAR), tooltip=tooltip)
    target = alt.Chart().mark_rule(color=TARGET_COLOUR, strokeDash=[6, 3],
                                        strokeWidth=2).encode(
        y=alt.Y("max(target):Q"),
        tooltip=[alt.Tooltip("kabupaten:N", title=texts["kabupaten"]),
                 alt.Tooltip("max(target):Q", title=texts["target"], format=",d")])
    return (alt.layer(bars, target, data=frame)
            .properties(width=width, height=height)
            .facet(facet=alt.Facet("kabupaten:N", title=None,
                                   sort=[row["name"] for row in rows],
                                   header=alt.Header(labelFontSize=label_size + 2,
                                                     labelFont=FONT,
                                                     labelColor=TARGET_COLOUR)),
                   columns=4)
            .properties(title=texts["title"])
            .configure(font=FONT)
            .configure_axis(labelFontSize=label_size, titleFontSize=label_size + 1,
                            labelColor=TARGET_COLOUR, titleColor=TARGET_COLOUR)
            .configure_title(fontSize=label_size + 4, color=TARGET_COLOUR))


def funnel_summary(rows: Sequence[Mapping], *, stage_labels: Mapping[str, str],
                   template: str) -> list[str]:
    """A line of text per regency for people who read rather than look. `template` takes
    {kabupaten}, {registered}, {target}, {stage} (the furthest stage anyone reached) and
    {count}."""
    lines = []
    for row in rows:
        reached = [s for s in STAGE_COLUMNS if int(row.get(s) or 0) > 0]
        furthest = reached[-1] if reached else STAGE_COLUMNS[0]
        lines.append(template.format(kabupaten=row["name"], registered=int(row["registered"]),
                                     target=int(row.get("target_ikm") or 0),
                                     stage=stage_labels[furthest],
                                     count=int(row.get(furthest) or 0)))
    return lines


def to_png(chart: alt.TopLevelMixin, *, scale: float = 2.0) -> bytes:
    """The chart as a PNG, rendered on the server (no browser)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_dict(), scale=scale)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as SVG text, rendered on the server."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())
