"""The dashboard's charts, as Altair (Vega-Lite) specifications; no Streamlit here.

Every chart says what it measures in its axis titles, bars carry their values, and a daily
chart marks the marts' last day as partial: dbt built the marts during that day, so its figures
are the day so far (a dashed last segment, hollow points and a labelled rule). Drawn as SVG, so
the labels are page text a reader can select and the tests can read.
"""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

SO_FAR = "so far"  # the partial day's mark in a daily chart
DAY_AXIS = "Day (account-local)"
BARS_SHOWN = 8
BAR_HEIGHT = 26  # pixels per bar, so that every bar keeps its name on the axis
# Streamlit fits the whole chart into its height, the value axis and its title included
VALUE_AXIS_HEIGHT = 60
# SVG, not canvas: text in the page (Streamlit picks canvas only for large data)
SVG = {"embedOptions": {"renderer": "svg"}}


def so_far_note(day: date) -> str:
    return f"{day:%a %d %b} {SO_FAR}"


def daily_lines(daily: pd.DataFrame, series: dict[str, str], y_title: str,
                partial_day: date) -> alt.LayerChart:
    """Lines of `series` (column: legend name) over `daily.date_day`; the segment into
    `partial_day`, its points and a rule on it say that day is not over."""
    long = daily.melt(id_vars="date_day", value_vars=list(series), var_name="series",
                      value_name="value")
    long["series"] = long["series"].map(series)
    long["date_day"] = pd.to_datetime(long["date_day"])
    partial = pd.Timestamp(partial_day)
    complete_days = long[long["date_day"] < partial]
    last_complete = complete_days["date_day"].max()
    color = alt.Color("series:N", title=None, sort=list(series.values()),
                      legend=alt.Legend(orient="bottom") if len(series) > 1 else None)
    x = alt.X("date_day:T", title=DAY_AXIS, axis=alt.Axis(format="%d %b"))
    y = alt.Y("value:Q", title=y_title)
    tooltip = [alt.Tooltip("date_day:T", title="Day", format="%a %d %b"),
               alt.Tooltip("series:N", title="Figure"), alt.Tooltip("value:Q", title="Value")]

    def chart(frame: pd.DataFrame) -> alt.Chart:
        return alt.Chart(frame).encode(x=x, y=y, color=color, tooltip=tooltip)

    marker = pd.DataFrame({"date_day": [partial], "note": [so_far_note(partial_day)]})
    layers = [
        chart(complete_days).mark_line(point=alt.OverlayMarkDef(filled=True, size=30)),
        chart(long[long["date_day"] >= last_complete]).mark_line(strokeDash=[4, 4]),
        chart(long[long["date_day"] == partial]).mark_point(filled=False, size=60,
                                                            opacity=0.6),
        alt.Chart(marker).mark_rule(strokeDash=[2, 3], color="gray").encode(x=x),
        # above the plot, where no line runs
        alt.Chart(marker).mark_text(align="right", baseline="bottom", dy=-4, color="gray")
        .encode(x=x, y=alt.value(0), text="note:N"),
    ]
    return alt.layer(*layers).properties(usermeta=SVG)


def labelled_bars(frame: pd.DataFrame, value: str, x_title: str, y_title: str
                  ) -> alt.LayerChart:
    """Horizontal bars of `value` per `name` (the first BARS_SHOWN rows, in the frame's
    order), each with its value at its end."""
    shown = frame.head(BARS_SHOWN)
    largest = float(shown[value].max()) if len(shown) else 0.0
    base = alt.Chart(shown).encode(
        y=alt.Y("name:N", title=y_title, sort=list(shown["name"]),
                axis=alt.Axis(labelLimit=160, labelOverlap=False)),
        # room right of the longest bar for its label
        x=alt.X(f"{value}:Q", title=x_title,
                scale=alt.Scale(domain=[0, max(largest * 1.15, 1.0)], nice=False)))
    bars = base.mark_bar()
    labels = base.mark_text(align="left", baseline="middle", dx=3).encode(
        text=alt.Text(f"{value}:Q", format=","))
    height = BAR_HEIGHT * max(len(shown), 1) + VALUE_AXIS_HEIGHT
    return alt.layer(bars, labels).properties(height=height, usermeta=SVG)
