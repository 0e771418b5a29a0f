"""The marts against LiveAgent's own figures on the demo account (2,000 conversations, the
demo's business hours): for each figure with a report counterpart, the share of report rows
(day, and agent, department, channel or tag) the marts recompute exactly. The README's table
of metrics quotes these shares."""

from __future__ import annotations

from collections import defaultdict

import duckdb

from pipelines import demo
from pipelines.agreement import agreement
from pipelines.runner import RunOptions, run_pipeline

from ..common import Context, ScenarioResult, say

NAME = "agreement"
CONVERSATIONS = {True: 500, False: 2000}  # by --quick


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    conversations = CONVERSATIONS[context.quick]
    path = context.path(NAME, "demo.duckdb")
    options = RunOptions(destination="duckdb", dataset="liveagent", duckdb_path=str(path),
                         full_refresh=True, pipelines_dir=str(context.path(NAME, "pipelines")),
                         transform=True)
    say(f"{NAME}: the demo account ({conversations} conversations), loaded and transformed")
    with demo.fake_account(conversations) as fake:
        run_pipeline(options, **demo.source_options(fake))
    with duckdb.connect(str(options.duckdb_file), read_only=True) as db:
        def query(sql: str) -> list[dict]:
            cursor = db.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        shares = agreement(query, options.dataset)
    by_figure: defaultdict[str, list[str]] = defaultdict(list)
    for share in shares:
        by_figure[share.figure].append(
            f"{share.report.removeprefix('report_')} {share.equal}/{share.compared}")
    for figure, parts in by_figure.items():
        equal = sum(s.equal for s in shares if s.figure == figure)
        compared = sum(s.compared for s in shares if s.figure == figure)
        result.add(f"{figure}: rows equal", f"{equal}/{compared} ({'; '.join(parts)})",
                   "all", equal == compared)
    result.details = {"shares": [vars(s) for s in shares]}
    return result

