"""dlt's log at a terminal: what its loader writes about single jobs, and its warnings about
its own bookkeeping, go to DEBUG.

dlt logs every retried load job at ERROR with its traceback (`RunnableLoadJob.run_managed`,
`Load.w_run_job`), then again at WARNING with the traceback in the message
(`Load.complete_jobs`), and a package it could not finish at WARNING. Measured: a Postgres
that went away mid-load printed 2,942 lines of these (98 tracebacks) before the run's one-line
error, and a dropped connection that a retry mended printed 90 lines under a run that exited 0.
Every such job is either retried until it loads or ends the run with a message of its own, so
at a terminal they are noise.

dlt also saves each run's trace (`trace.pickle` in the pipeline's directory) and reports a
trace it could not save, or a tracking hook that failed, at WARNING with the traceback
(`suppress_and_warn`): on a full disk the trace cannot be written either, and that warning
put 50 lines (a failure chained to a failed step: 70-100) above the run's one-line error. The
run does not depend on its trace, so that is noise too.

Both go to the log at DEBUG, first line only (seen with `[runtime] log_level = "DEBUG"`);
`--debug` keeps dlt's records as they are.
"""

from __future__ import annotations

import logging
import os

DLT_LOGGER = "dlt"
_LOADER = os.sep + os.path.join("dlt", "load") + os.sep
_BOOKKEEPING = "suppress_and_warn"  # dlt.common.logger's: a trace or tracking hook failed


class QuietRecords(logging.Filter):
    """Turns the loader's WARNING and ERROR records, and dlt's warnings about its trace, into
    DEBUG ones of one line (the bookkeeping warning with its exception's reason)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not quieted(record):
            return True
        message = record.getMessage().strip().splitlines()[0]
        if record.funcName == _BOOKKEEPING and record.exc_info and record.exc_info[1]:
            error = record.exc_info[1]
            message += f": {type(error).__name__}: {str(error).strip().splitlines()[0]}" \
                if str(error).strip() else f": {type(error).__name__}"
        record.msg, record.args = message, None
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quieted(record: logging.LogRecord) -> bool:
    return _LOADER in record.pathname or record.funcName == _BOOKKEEPING


_QUIET_RECORDS = QuietRecords()


def quiet_load_jobs(quiet: bool = True) -> None:
    """Sends the loader's records about single jobs and dlt's warnings about its trace to
    DEBUG (or back, with `quiet=False`)."""
    logger = logging.getLogger(DLT_LOGGER)
    if quiet:
        logger.addFilter(_QUIET_RECORDS)
    else:
        logger.removeFilter(_QUIET_RECORDS)
