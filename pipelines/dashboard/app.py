"""The starter dashboard, a Streamlit script: `liveagent-pipeline dashboard` (or
`demo --dashboard`) runs it as `streamlit run app.py -- --duckdb-path FILE --dataset NAME`.

Numbers are shown as text (st.metric, st.table: HTML in the page, not a canvas grid), so a
reader can copy them and the tests can read them from the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pipelines.dashboard.charts import daily_lines, labelled_bars, so_far_note
from pipelines.dashboard.queries import (
    BusinessFirstResponse,
    Figures,
    MartsMissing,
    Satisfaction,
    load,
)

PERIODS = {"7 days": 7, "30 days": 30, "90 days": 90}
DEFAULT_PERIOD = "30 days"
CACHE_SECONDS = 60  # a run that loads meanwhile shows within a minute; reloads are free
# a tile whose mart or column the warehouse's analyst layer does not have yet
NOT_BUILT = "not yet built"
REBUILD = ("the analyst layer in this file was built by an earlier release: "
           "`liveagent-pipeline run --transform` rebuilds it")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="liveagent dashboard")
    parser.add_argument("--duckdb-path", required=True)
    parser.add_argument("--dataset", default="liveagent")
    return parser.parse_args(sys.argv[1:])


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def figures(path: str, dataset: str, days: int) -> Figures:
    # opened and closed per load: a reader that held the file would make a run wait for it
    return load(Path(path), dataset, days)


def minutes(seconds: float | None) -> str:
    return "–" if seconds is None or pd.isna(seconds) else f"{seconds / 60:,.1f}"


def hours(seconds: float | None) -> str:
    return "–" if seconds is None or pd.isna(seconds) else f"{seconds / 3600:,.1f}"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.1%}"


def count(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{int(value):,}"


def overview(data: Figures) -> None:
    o = data.overview
    first, second, third, fourth = st.columns(4)
    first.metric("New conversations", count(o.new_conversations), border=True,
                 help="created in the period (liveagent__daily_kpis)")
    second.metric("Median first response", f"{minutes(o.median_first_response_seconds)} min",
                  border=True, help="creation to the first agent answer, of the conversations "
                  "first answered in the period (liveagent__conversation_metrics)")
    third.metric("Median resolution time", f"{hours(o.median_resolution_seconds)} h",
                 border=True, help="creation to the last resolve, of the conversations resolved or "
                 "closed now whose last resolve fell in the period "
                 "(liveagent__conversation_metrics)")
    delta = None if o.open_week_before is None else \
        f"{o.open_conversations - o.open_week_before:+,} in 7 days"
    fourth.metric("Open conversations", count(o.open_conversations), delta=delta,
                  delta_color="inverse", border=True,
                  help=f"at the end of {data.period.last} (liveagent__daily_backlog)")
    service, ratings, _ = st.columns(3)  # wider than the row above: longer labels
    business_first_response(service, data.business_first_response)
    satisfaction(ratings, data.satisfaction)


def business_first_response(column: DeltaGenerator, figure: BusinessFirstResponse | None
                            ) -> None:
    label = "Median first response, business hours"
    if figure is None:
        column.metric(label, NOT_BUILT, border=True, help=REBUILD)
        return
    column.metric(label, f"{minutes(figure.median_seconds)} min", border=True,
                  help=f"creation to the first agent answer counting only the business hours "
                  f"(sources.liveagent.business_hours; none set: all hours), of the "
                  f"{figure.first_responses:,} conversations first answered in the period "
                  "(liveagent__conversation_metrics, as liveagent__daily_kpis' "
                  "median_first_response_business_seconds per day)")


def satisfaction(column: DeltaGenerator, figure: Satisfaction | None) -> None:
    label = "Satisfaction"
    if figure is None:
        column.metric(label, NOT_BUILT, border=True, help=REBUILD)
        return
    rated = f"{percent(figure.rated_share)} of resolves rated"
    column.metric(label, f"{percent(figure.positive_share)} positive", delta=rated,
                  delta_color="off", delta_arrow="off", border=True,
                  help=f"positive ratings of the {figure.positive + figure.negative:,} ratings, "
                  f"and the share of the {figure.resolved:,} resolves that got one, from "
                  f"LiveAgent's reports (liveagent__daily_satisfaction, the account's rows; "
                  f"{figure.days_covered} days of the period covered)")


def trends(data: Figures) -> None:
    last = data.period.last
    left, right = st.columns(2)
    with left, st.container(key="daily_volume"):
        st.subheader("New and resolved per day")
        st.altair_chart(daily_lines(data.daily, {"new_conversations": "New",
                                                 "resolved": "Resolved"},
                                    "Conversations per day", last), height=260)
    with right, st.container(key="daily_backlog"):
        st.subheader("Backlog: open at each day's end")
        st.altair_chart(daily_lines(data.daily, {"open_conversations": "Open"},
                                    "Open conversations", last), height=260)
    st.caption(f"{so_far_note(last)}: the last day is partial, its figures are the day so far "
               "(the marts were built during it); dashed, with hollow points.")


def volume(title: str, key: str, label: str, data: Figures, frame: pd.DataFrame) -> None:
    with st.container(key=key):
        st.subheader(title)
        st.altair_chart(labelled_bars(
            frame, "new_conversations", f"New conversations (count), {data.period.first} to "
            f"{data.period.last}", label))
        st.table(pd.DataFrame({
            label: frame["name"],
            "New conversations": frame["new_conversations"].map(count),
            "Answers": frame["answers"].map(count),
            "Resolved": frame["resolved"].map(count),
            "Median first response (min)": frame["median_first_response"].map(minutes),
        }).set_index(label))


def agents(frame: pd.DataFrame) -> None:
    with st.container(key="agents"):
        st.subheader("Agents")
        st.table(pd.DataFrame({
            "Agent": frame["name"],
            "Answers": frame["answers"].map(count),
            "Resolved": frame["resolved"].map(count),
            "First responses": frame["first_responses"].map(count),
            "Median first response (min)": frame["median_first_response"].map(minutes),
        }).set_index("Agent"))


def main() -> None:
    args = arguments()
    st.set_page_config(page_title="LiveAgent dashboard", layout="wide")
    st.title("LiveAgent: support overview")
    period = st.segmented_control("Period", list(PERIODS), default=DEFAULT_PERIOD,
                                  key="period") or DEFAULT_PERIOD
    try:
        data = figures(args.duckdb_path, args.dataset, PERIODS[period])
    except (MartsMissing, FileNotFoundError) as error:
        st.error(str(error))
        return
    except duckdb.IOException as error:  # a run holds the file for writing
        st.error(f"{args.duckdb_path} cannot be read now ({str(error).splitlines()[0]}); "
                 "reload the page when the run has finished")
        return
    st.caption(f"{data.period.first} to {data.period.last} (account-local days), from the "
               f"analyst layer {args.dataset}_analytics in {args.duckdb_path}")
    overview(data)
    trends(data)
    left, right = st.columns(2)
    with left:
        volume("Volume by channel", "channels", "Channel", data, data.channels)
    with right:
        volume("Volume by department", "departments", "Department", data, data.departments)
    agents(data.agents)


if __name__ == "__main__":  # streamlit runs the script as __main__
    main()
