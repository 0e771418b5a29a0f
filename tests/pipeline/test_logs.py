"""dlt's loader records about single jobs, and its warnings about a trace it could not save, go
to DEBUG in one line; everything else is as dlt writes it, and `--debug`
(quiet_load_jobs(False)) keeps them as they are."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dlt.common import logger as dlt_logger
from dlt.pipeline.trace import save_trace

from pipelines.logs import DLT_LOGGER, quiet_load_jobs

LOADER = os.path.join("site-packages", "dlt", "load", "load.py")
PIPELINE = os.path.join("site-packages", "dlt", "pipeline", "pipeline.py")


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kept]:
    logger = logging.getLogger(DLT_LOGGER)
    saved = logger.level, logger.handlers[:], logger.filters[:]
    handler = Kept()
    logger.handlers = [handler]
    logger.setLevel(logging.WARNING)
    monkeypatch.setattr(dlt_logger, "LOGGER", dlt_logger.LOGGER or logger)  # as a pipeline
    yield handler
    logger.level, logger.handlers, logger.filters = saved[0], saved[1], saved[2]


def log(pathname: str, level: int = logging.ERROR) -> None:
    try:
        raise ConnectionError("server closed the connection unexpectedly")
    except ConnectionError:
        record = logging.LogRecord(DLT_LOGGER, level, "/venv/" + pathname, 1,
                                   "Transient exception in job %s\nmore", ("a.csv",),
                                   sys.exc_info())
    logging.getLogger(DLT_LOGGER).handle(record)


def test_a_retried_jobs_traceback_is_not_shown_at_the_default_level(kept: Kept) -> None:
    quiet_load_jobs()
    log(LOADER)
    log(LOADER, logging.WARNING)
    assert kept.records == []


def test_it_is_one_debug_line_when_dlt_logs_at_debug(kept: Kept) -> None:
    quiet_load_jobs()
    logging.getLogger(DLT_LOGGER).setLevel(logging.DEBUG)
    log(LOADER)
    [record] = kept.records
    assert (record.levelno, record.getMessage(), record.exc_info) == \
        (logging.DEBUG, "Transient exception in job a.csv", None)


def test_other_records_and_debug_runs_keep_dlts_records(kept: Kept) -> None:
    quiet_load_jobs()
    log(PIPELINE)
    quiet_load_jobs(False)
    log(LOADER)
    assert [(r.levelno, r.exc_info is not None) for r in kept.records] == \
        [(logging.ERROR, True), (logging.ERROR, True)]


def save_a_trace_pickle_refuses(where: Path) -> None:
    """dlt saving a run's trace that holds something pickle cannot take (a lock, as a failure
    object may hold)."""
    save_trace(str(where), {"failure": threading.Lock()})  # type: ignore[arg-type]


def test_a_trace_dlt_cannot_save_is_one_debug_line(kept: Kept, tmp_path: Path) -> None:
    quiet_load_jobs()
    save_a_trace_pickle_refuses(tmp_path)
    assert kept.records == []
    logging.getLogger(DLT_LOGGER).setLevel(logging.DEBUG)
    save_a_trace_pickle_refuses(tmp_path)
    [record] = kept.records
    assert (record.levelno, record.getMessage(), record.exc_info) == (
        logging.DEBUG, "Failed to create trace dump via pickle: TypeError: cannot pickle "
        "'_thread.lock' object", None)
    quiet_load_jobs(False)
    save_a_trace_pickle_refuses(tmp_path)
    assert (kept.records[-1].levelno, kept.records[-1].exc_info is not None) == \
        (logging.WARNING, True)
