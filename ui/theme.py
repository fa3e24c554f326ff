"""CSS on top of the theme in .streamlit/config.toml (no user text in here).

Readable on a projector, and by everyone (issue 9). The theme sets an 18 px root, the palette's
text colours and the data grid's header colour; what it cannot reach is set here:

- Streamlit draws secondary text faded (captions at 60 % opacity, sidebar icons and links at
  60-80 %, disabled labels and placeholders at about 40 %): 2.3-4.1:1 on our backgrounds. Here
  they get solid colours instead: MUTED (at least 7:1 on white, the sidebar and the metric
  tiles) for text the Overview shows, FAINT (at least 5:1 on them) for placeholders and disabled
  controls, which the Overview does not have. The disabled look stays in the control's box.
- Small print (captions, metric labels, help tooltips) at 16 px or more, labels never cut
  with an ellipsis.
- A narrower sidebar and side padding, so the Overview's table shows every column at 1280×720.

tests/e2e/test_contrast.py measures all of this in Chromium.
"""

import streamlit as st

TEXT = "#1b2a24"  # theme.textColor: 15:1 on white
MUTED = "#3f4f48"  # 8.7:1 on white, 7.9:1 on the sidebar (#f1f5f3), 8.1:1 on the tiles
FAINT = "#52605a"  # 6.6:1 on white, 6.0:1 on the sidebar and on input boxes
PRIMARY_TEXT = "#075239"  # the primary green, darkened for text: 9.2:1 on white, 7.3:1 on its tint
SMALL = "max(16px, 0.875rem)"  # Streamlit's small text (0.875rem), never under 16 px

CSS = f"""
<style>
:root {{ --ikm-text: {TEXT}; --ikm-muted: {MUTED}; --ikm-faint: {FAINT};
         --ikm-primary-text: {PRIMARY_TEXT}; --ikm-small: {SMALL}; }}

/* layout: room for the Overview's table at 1280×720 with the sidebar open, even beside a
   classic 17 px scrollbar (sidebar 14rem = 252 px instead of 300 px; side padding 27 px instead
   of 90 px on screens up to 1400 px; less empty space under the last element) */
[data-testid="stSidebar"][data-collapsed="false"] {{
  width: 14rem !important; min-width: 14rem !important; }}
.block-container {{ padding: 2.2rem 3rem 4rem; }}
[data-testid="stSidebarHeader"] {{ margin-bottom: 0.5rem; }}
[data-testid="stSidebarUserContent"] {{ padding-top: 0.75rem; }}
[data-testid="stSidebarUserContent"] [data-testid="stVerticalBlock"] {{ gap: 0.75rem; }}
@media (max-width: 1400px) {{
  .block-container {{ padding-left: 1.5rem; padding-right: 1.5rem; }} }}
/* the cookie manager's invisible frame: out of the flow (it took a 29 px line and a gap above
   every page's title), still loaded and running */
[data-testid="stElementContainer"]:has(iframe[title^="extra_streamlit_components.CookieManager"]) {{
  position: absolute; height: 0; overflow: hidden; }}

/* secondary text: solid colours instead of opacity */
[data-testid="stCaptionContainer"] {{
  opacity: 1; color: var(--ikm-muted); font-size: var(--ikm-small); }}
[data-testid="stSidebarNavLink"] span,
[data-testid="stSidebarNavLink"] [data-testid="stIconMaterial"],
[data-testid="stSidebarCollapseButton"] [data-testid="stIconMaterial"] {{
  color: var(--ikm-text); }}
input::placeholder, textarea::placeholder {{ color: var(--ikm-faint) !important; opacity: 1; }}
button:disabled, button:disabled *, [aria-disabled="true"] [data-testid="stMarkdownContainer"],
label[data-testid="stWidgetLabel"][disabled], label[data-testid="stWidgetLabel"][disabled] *,
input:disabled, textarea:disabled {{
  color: var(--ikm-faint) !important; -webkit-text-fill-color: var(--ikm-faint); opacity: 1; }}
[data-testid="stButtonGroup"] button[aria-checked="true"] *,
[data-testid="stButtonGroup"] button[aria-pressed="true"] * {{
  color: var(--ikm-primary-text); }}

/* metric tiles: labels at 16 px, wrapped rather than cut with an ellipsis */
[data-testid="stMetric"] {{ background: #f6f8f7; border-radius: 0.5rem; padding: 0.6rem 0.8rem; }}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {{
  font-size: var(--ikm-small); white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; }}
[data-testid="stMetricValue"] {{ font-size: 2rem; }}
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {{ font-size: var(--ikm-small); }}
[data-testid="stTooltipContent"], [data-testid="stTooltipContent"] * {{
  font-size: var(--ikm-small) !important; }}
</style>
"""


def apply_theme() -> None:
    """Inject the app's fixed CSS."""
    st.html(CSS)
