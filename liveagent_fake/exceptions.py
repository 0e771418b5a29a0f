"""API errors of the fake, one class per documented status code.

Models and handlers raise these; the server renders every one of them into the documented
error envelope in a single place.
"""

from __future__ import annotations


class ApiError(Exception):
    status: int = 500
    reason: str = "Common processing error"

    def __init__(self, message: str, debug: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.debug = debug

    def envelope(self) -> dict:
        return {
            "response": {
                "status": "ERROR",
                "statuscode": self.status,
                "errormessage": self.message,
                "debugmessage": self.debug,
            }
        }


class BadRequest(ApiError):
    status = 400
    reason = "Bad request"


class Forbidden(ApiError):
    """The reference names 401 'Forbidden'; it is what a wrong or missing API key gets."""

    status = 401
    reason = "Forbidden"


class Forbidden403(ApiError):
    """HTTP 403, outside the reference's list: what a key of API v3 gets on the v1 endpoints
    (observed by the dianhailu/cs--center client). Not `Forbidden`, the documented 401."""

    status = 403
    reason = "Forbidden"


class NotFound(ApiError):
    status = 404
    reason = "Not found"


class TooManyRequests(ApiError):
    status = 429
    reason = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"API request limit exceeded, retry after {retry_after} s")
        self.retry_after = retry_after


class ServerError(ApiError):
    status = 500
    reason = "Common processing error"


class ServiceUnavailable(ApiError):
    status = 503
    reason = "Service unavailable"


def error_for_status(status: int, message: str) -> ApiError:
    """An error of the documented class for `status` (used by fault injection)."""
    if status == TooManyRequests.status:
        return TooManyRequests(retry_after=1)
    for cls in (BadRequest, Forbidden, Forbidden403, NotFound, ServerError, ServiceUnavailable):
        if cls.status == status:
            return cls(message)
    error = ApiError(message)
    error.status = status
    return error
