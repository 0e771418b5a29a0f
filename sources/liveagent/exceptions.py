"""Errors the LiveAgent source raises; messages never contain the API key."""

from __future__ import annotations


class LiveAgentError(Exception):
    """Base of every error the LiveAgent source raises on purpose."""


class ConfigurationError(LiveAgentError):
    """A setting is missing or malformed."""


class AuthenticationError(LiveAgentError):
    """LiveAgent answered 401: the API key is wrong or lacks access."""


class NotFoundError(LiveAgentError):
    """LiveAgent answered 404 (an unknown id, or a conversation deleted meanwhile)."""


class RequestError(LiveAgentError):
    """LiveAgent refused a request (400) or answered something that is not its API."""


class UnavailableError(LiveAgentError):
    """LiveAgent could not be reached or kept failing (5xx, 429, timeouts) after retries."""
