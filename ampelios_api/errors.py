"""The API's error codes and the one exception resolvers and routes raise.

GraphQL responses carry the code as `extensions.code`; REST responses carry
it in the envelope {"error": {"code": ..., "message": ...}} with the HTTP
status below.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

HTTP_STATUS_BY_CODE = {
    "INVALID_ARGUMENT": 400,
    "UNKNOWN_FIELD": 400,
    "PATH_OUTSIDE_DATA_DIR": 400,
    "UNAUTHENTICATED": 401,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "RUN_IN_PROGRESS": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "INTERNAL_ERROR": 500,
}


class ApiError(Exception):
    """An error the caller can act on, with a stable code."""

    def __init__(self, code: str, message: str):
        if code not in HTTP_STATUS_BY_CODE:
            raise ValueError(f"unknown API error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        # graphql-core copies this attribute into the GraphQL error it builds.
        self.extensions = {"code": code}

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_CODE[self.code]


def error_response(code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Return the REST error envelope for `code`."""
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=HTTP_STATUS_BY_CODE[code],
        headers=headers,
    )
