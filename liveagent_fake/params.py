"""Reading request parameters: every check answers 400 in the documented envelope."""

from __future__ import annotations

from collections.abc import Mapping

from .exceptions import BadRequest


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise BadRequest(f"Missing mandatory parameter '{name}'")
    return value


def optional(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    return None if value is None or value == "" else value


def integer(
    params: Mapping[str, str], name: str, default: int, maximum: int | None = None,
    minimum: int = 0,
) -> int:
    raw = optional(params, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            f"Invalid value of parameter '{name}': '{raw}' (expected integer)"
        ) from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise BadRequest(f"Invalid value of parameter '{name}': {value} (allowed {bounds})")
    return value


def codes(params: Mapping[str, str], name: str, allowed: str) -> str | None:
    """A comma-separated list of one-character constlist codes, e.g. status=R,T,C."""
    raw = optional(params, name)
    if raw is None:
        return None
    items = [item.strip() for item in raw.split(",") if item.strip()]
    bad = [item for item in items if len(item) != 1 or item not in allowed]
    if bad or not items:
        raise BadRequest(f"Invalid value of parameter '{name}': '{raw}' (allowed codes: "
                         f"{','.join(allowed)})")
    return "".join(items)


def choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = optional(params, name)
    if raw is None:
        return default
    if raw not in allowed:
        raise BadRequest(f"Invalid value of parameter '{name}': '{raw}' (allowed: "
                         f"{', '.join(allowed)})")
    return raw
