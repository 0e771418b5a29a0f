"""Runs `liveagent-pipeline` and kills its own process with SIGKILL at a chosen point, the way
an OOM killer or a pulled plug would: python -m tests.reliability.killer POINT N [INT] -- ARGS...
With INT it sends SIGINT once instead, as Ctrl-C at a terminal would.

POINT is extract (after N API requests of the run), normalize (after N normalized packages
were written, before they are committed), load (after N load jobs ran and were recorded as
done), copied (after N COPY statements committed in Postgres, before dlt records the job as
done: the window in which a resumed job finds its rows already in the table), inserted (the
same for an INSERT job) or reconcile (when the Nth reconciliation of conversation ids has
listed every id, before it records anything). POINT seconds kills the run N (a float)
seconds after it started, wherever it is then."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
from typing import Any

from dlt.destinations.impl.postgres.postgres import PostgresCsvCopyJob
from dlt.destinations.insert_job_client import InsertValuesLoadJob
from dlt.load.load import Load
from dlt.normalize.normalize import Normalize

from pipelines.liveagent_pipeline import main
from sources.liveagent.client import LiveAgentClient

# the module, not the `conversations` resource the package exports under the same name
conversation_family = importlib.import_module("sources.liveagent.conversations")


def kill_after(owner: Any, name: str, count: int, signum: int = signal.SIGKILL) -> None:
    original = getattr(owner, name)
    calls = 0
    lock = threading.Lock()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = original(*args, **kwargs)
        with lock:
            calls += 1
            if calls == count:  # once: a second SIGINT would be a second Ctrl-C
                os.kill(os.getpid(), signum)
        return result

    setattr(owner, name, wrapper)


POINTS = {
    "extract": (LiveAgentClient, "get"),
    "normalize": (Normalize, "spool_schema_files"),
    "load": (Load, "w_run_job"),
    "reconcile": (conversation_family, "_record_deleted"),
    "copied": (PostgresCsvCopyJob, "run"),
    "inserted": (InsertValuesLoadJob, "run"),  # dlt writes its state table so in Postgres
}

def kill_in(seconds: float) -> None:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGKILL))
    timer.daemon = True  # a run that ends first exits as usual
    timer.start()


if __name__ == "__main__":
    point, count, *options = sys.argv[1:sys.argv.index("--")]
    cli_args = sys.argv[sys.argv.index("--") + 1:]
    if point == "seconds":
        kill_in(float(count))
    else:
        (name,) = options or ["KILL"]
        kill_after(*POINTS[point], int(count), {"KILL": signal.SIGKILL, "INT": signal.SIGINT}[name])
    sys.exit(main(cli_args))
