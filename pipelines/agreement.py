"""How far the marts agree with LiveAgent's own reports: for each figure with a report
counterpart, the share of (day, member) report rows whose figure the mart recomputes exactly
(counts as they are, means floored to the second as the reports give them; nothing to
average is 0 in a report and NULL in a mart). Used by the `agreement` benchmark and the
tests; `query` runs SQL on the warehouse and returns rows as dicts."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Rows = list[dict[str, Any]]

# report column -> the KPI mart column that recomputes it
COUNTS = {"created_tickets": "new_conversations", "answers": "answers",
          "resolved_tickets": "resolved"}
MEANS = {"new_answer_avg_time": "avg_first_response_seconds",
         "new_answer_avg_time_sla": "avg_first_response_business_seconds",
         "next_answer_avg_time": "avg_next_response_seconds",
         "next_answer_avg_time_sla": "avg_next_response_business_seconds",
         "first_resolve_avg_time": "avg_first_resolution_seconds",
         "first_resolve_avg_time_sla": "avg_first_resolution_business_seconds"}
FIGURES = (*COUNTS, *MEANS)

# (report table, KPI mart, the mart's key column, the report's key column)
GRAINS = (
    ("report_performance", "liveagent__daily_kpis", None, None),
    ("report_agents", "liveagent__daily_agent_kpis", "agent_id", "id"),
    ("report_departments", "liveagent__daily_department_kpis", "department_id", "id"),
    ("report_channels", "liveagent__daily_channel_kpis", "channel_label", "channel_name"),
    ("report_tags", "liveagent__daily_tag_kpis", "tag_id", "id"),
)


def as_reported(row: dict[str, Any] | None) -> tuple[int, ...]:
    """A KPI mart row in the report's terms (no row: a day without events, all zeros)."""
    if row is None:
        return (0,) * len(FIGURES)
    return (*(row[column] for column in COUNTS.values()),
            *(0 if row[column] is None else math.floor(row[column])
              for column in MEANS.values()))


@dataclass
class Agreement:
    report: str
    figure: str
    compared: int  # report rows with something to compare (a non-zero figure on either side)
    equal: int

    @property
    def share(self) -> float:
        return self.equal / self.compared if self.compared else 1.0


def agreement(query: Callable[[str], Rows], dataset: str) -> list[Agreement]:
    """Per report and figure, how many report rows the marts recompute exactly."""
    marts = f"{dataset}_analytics"
    results = []
    for report, mart, mart_key, report_key in GRAINS:
        built = {(row["date_day"], row[mart_key] if mart_key else None): row
                 for row in query(f"SELECT * FROM {marts}.{mart}")}
        rows = query(f"SELECT * FROM {dataset}.{report}")
        for position, figure in enumerate(FIGURES):
            if report == "report_agents" and figure == "created_tickets":
                continue  # the assignee's, which only conversation_details carries
            compared = equal = 0
            for row in rows:
                found = as_reported(built.get((row["report_date"],
                                               row[report_key] if report_key else None)))
                if row[figure] or found[position]:
                    compared += 1
                    equal += found[position] == row[figure]
            results.append(Agreement(report, figure, compared, equal))
    return results
