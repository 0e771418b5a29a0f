"""What goes on the wire: JSON encoded the way the API's PHP does it, and a ready reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


def encode_json(payload: dict) -> bytes:
    """JSON as PHP's json_encode writes it: ASCII only, slashes escaped."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode()


@dataclass(frozen=True)
class Reply:
    """A complete answer that bypasses the account (fault injection)."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
