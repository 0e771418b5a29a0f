"""What to do about a failed file operation: its reason (errno) and where it happened.

A full disk, a quota or a read-only file system is a property of a whole filesystem, so it is
named by its mount point, with the file that met it beside: the file is often a temporary one
(dlt's `.tmp` copies, DuckDB's write-ahead log next to a working copy), and its directory says
little about which disk to free. An `OSError` from a write carries no file name; the frame that
wrote holds the open file, which names it.
"""

from __future__ import annotations

import errno
import io
import os
import re
from collections.abc import Iterator
from types import FrameType, TracebackType

_PLACES = "--pipelines-dir/--duckdb-path"
# what a person can do, most telling first: a full disk is often reported as the rename that
# failed before the copy that hit it (EXDEV)
OS_ERRORS = {
    errno.ENOSPC: f"no space left on device{{at}}; free space there or move {_PLACES}",
    errno.EDQUOT: f"disk quota exceeded{{at}}; free space there or move {_PLACES}",
    errno.EROFS: f"read-only file system{{at}}; choose another {_PLACES}",
    errno.EACCES: f"permission denied{{at}}; make it writable for this user or choose "
                  f"another {_PLACES}",
    errno.EPERM: f"operation not permitted{{at}}; make it writable for this user or choose "
                 f"another {_PLACES}",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) or lower "
                  "sources.liveagent.max_workers",
    errno.ENFILE: "too many open files in the system; raise its limit or lower "
                  "sources.liveagent.max_workers",
}
# reasons that belong to a whole filesystem rather than to one file or directory
FILESYSTEM_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
# a quoted absolute path, looked for on the line that gives the reason: the same text may hold
# a traceback whose lines quote source files (`File "/venv/.../sql_client.py", line 3`)
_QUOTED_PATH = re.compile(r'"(/[^"]+)"|\'(/[^\']+)\'')


def system_error(chain: list[BaseException]) -> str | None:
    """What to do about a failed file operation anywhere in the chain, by its errno, else by
    the same reason in the text of errors that carry no errno (DuckDB's)."""
    for code, advice in OS_ERRORS.items():
        found = next((c for c in chain if isinstance(c, OSError) and c.errno == code), None)
        if found is not None:
            path = found.filename if isinstance(found.filename, str) else written_file(found)
            return advice.format(at=where(code, path))
    for code, advice in OS_ERRORS.items():
        reason = os.strerror(code)
        lines = (line for c in chain for line in str(c).splitlines() if reason in line)
        path = next((quoted.group(1) or quoted.group(2) for line in lines
                     if (quoted := _QUOTED_PATH.search(line))), None)
        if path is not None or any(reason in str(c) for c in chain):
            return advice.format(at=where(code, path))
    return None


def where(code: int, path: str | None) -> str:
    """' at PATH', or for a reason of a whole filesystem ' (the filesystem mounted at M,
    writing PATH)'; '' without a path."""
    if not path:
        return ""
    if code in FILESYSTEM_ERRORS:
        return f" (the filesystem mounted at {mount_point(path)}, writing {path})"
    return f" at {path}"


def mount_point(path: str) -> str:
    """The mount point of the filesystem `path` is (or would be) on."""
    current = os.path.abspath(path)
    while not os.path.ismount(current):
        current = os.path.dirname(current)
    return current


def written_file(error: OSError) -> str | None:
    """The file a failed write was writing: the innermost frame of `error`'s traceback that
    holds an open (or just closed) file with an absolute name."""
    for frame in reversed(list(_frames(error.__traceback__))):
        for value in frame.f_locals.values():
            name = getattr(value, "name", None)
            if isinstance(value, io.IOBase) and isinstance(name, str) and os.path.isabs(name):
                return name
    return None


def _frames(traceback: TracebackType | None) -> Iterator[FrameType]:
    while traceback is not None:
        yield traceback.tb_frame
        traceback = traceback.tb_next
