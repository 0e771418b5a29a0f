"""Does the connector use the request budget it is given, without tripping the server's limit?

The fake throttles at R requests/minute with a burst of one second's worth (strict); the
connector is configured with the same R. Achieved rate = successful requests / extract seconds.
"""

from __future__ import annotations

from ..child import pipeline_spec, run_child
from ..common import Context, ScenarioResult, ratio, say
from ..fake import FakeConfig, FakeProcess

NAME = "saturation"
REQUESTS_PER_MINUTE = 6000  # 100/s: ~2,900 requests in ~30 s, well below the machine's ~400/s
CONVERSATIONS = 2000


def run(context: Context) -> ScenarioResult:
    result = ScenarioResult(NAME)
    rpm = REQUESTS_PER_MINUTE
    config = FakeConfig(CONVERSATIONS, requests_per_minute=rpm, burst=rpm / 60)
    with FakeProcess(config, context.path(NAME, "fake.log")) as fake:
        say(f"{NAME}: full run of {CONVERSATIONS} conversations at {rpm}/min")
        outcome = run_child(pipeline_spec(fake, context.path(NAME), NAME,
                                          requests_per_minute=rpm))
        stats = fake.stats()
    answered = stats["by_status"].get("200", 0)
    throttled = stats["by_status"].get("429", 0)
    extract = outcome.get("steps", {}).get("extract", 0.0)
    achieved = ratio(answered / extract * 60, rpm) if extract else float("nan")
    result.add("achieved rate / limit", achieved, ">= 0.95", achieved >= 0.95)
    result.add("requests/s during extract (limit)",
               f"{answered / extract if extract else 0:.1f} ({rpm / 60:.0f})")
    result.add("429 answers", throttled, "0", throttled == 0)
    result.add("run succeeded", outcome["ok"], "True", bool(outcome["ok"]))
    result.details = {"requests_per_minute": rpm, "burst": rpm / 60,
                      "conversations": CONVERSATIONS,
                      "fake_stats": stats, "run": outcome}
    return result
