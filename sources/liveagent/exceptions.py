"""Errors the LiveAgent source raises; messages never contain the API key."""

from __future__ import annotations


class LiveAgentError(Exception):
    """Base of every error the LiveAgent source raises on purpose."""


class ConfigurationError(LiveAgentError):
    """A setting is missing or malformed."""


class AuthenticationError(LiveAgentError):
    """LiveAgent refused the API key (401, or 403 for a key of another API version)."""


class NotFoundError(LiveAgentError):
    """LiveAgent answered 404 (an unknown id, or a conversation deleted meanwhile)."""


class RequestError(LiveAgentError):
    """LiveAgent refused a request (400) or answered something that is not its API."""


class UnavailableError(LiveAgentError):
    """LiveAgent could not be reached or kept failing (5xx, 429, timeouts) after retries."""


class AnswerError(LiveAgentError):
    """LiveAgent answered one request badly after every attempt: an error envelope, an error
    status or a body that is not its JSON. For a request about one object (a conversation's
    messages, a company's details) it costs that object, not the run."""


class KeptFailingError(AnswerError, UnavailableError):
    """Every attempt got a retryable bad answer (5xx or 429, either as HTTP status or in the
    envelope; an empty, truncated, HTML or malformed body)."""


class RefusedError(AnswerError, RequestError):
    """LiveAgent refused the request with an error that another attempt would not change."""


class IncompleteListingError(RequestError):
    """A listing that finds deletions does not look complete: it lacks more of the rows loaded
    before than one listing may drop (see deletions.py), or its pages break the continuity the
    API's paging gives. Taken for a wrong answer: nothing is marked or removed."""


class BadRowError(RequestError):
    """A row breaks the contract (no key, a malformed datetime, a structure where a value
    belongs, a changed type): it is kept in `rejected_rows` instead of loaded."""


class TablesFailedError(LiveAgentError):
    """Every table a load read failed after its retries (each costs only itself, see
    isolation.py; when none is left, nothing of the load is worth loading)."""
