"""dlt's log at a terminal: what its loader writes about single jobs goes to DEBUG.

dlt logs every retried load job at ERROR with its traceback (`RunnableLoadJob.run_managed`,
`Load.w_run_job`), then again at WARNING with the traceback in the message
(`Load.complete_jobs`), and a package it could not finish at WARNING. Measured: a Postgres
that went away mid-load printed 2,942 lines of these (98 tracebacks) before the run's one-line
error, and a dropped connection that a retry mended printed 90 lines under a run that exited 0.
Every such job is either retried until it loads or ends the run with a message of its own, so
at a terminal they are noise: they go to the log at DEBUG, first line only (seen with
`[runtime] log_level = "DEBUG"`); `--debug` keeps dlt's records as they are.
"""

from __future__ import annotations

import logging
import os

DLT_LOGGER = "dlt"
_LOADER = os.sep + os.path.join("dlt", "load") + os.sep


class LoadJobRecords(logging.Filter):
    """Turns the loader's WARNING and ERROR records into DEBUG ones of one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or _LOADER not in record.pathname:
            return True
        record.msg = record.getMessage().strip().splitlines()[0]
        record.args = None
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_LOAD_JOB_RECORDS = LoadJobRecords()


def quiet_load_jobs(quiet: bool = True) -> None:
    """Sends the loader's records about single jobs to DEBUG (or back, with `quiet=False`)."""
    logger = logging.getLogger(DLT_LOGGER)
    if quiet:
        logger.addFilter(_LOAD_JOB_RECORDS)
    else:
        logger.removeFilter(_LOAD_JOB_RECORDS)
