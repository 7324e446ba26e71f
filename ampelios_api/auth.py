"""The optional bearer token: required for writes when set, and for reads when configured."""

from __future__ import annotations

import hmac

from starlette.requests import HTTPConnection

from ampelios_api.errors import ApiError
from ampelios_assets.settings import Settings


def require_token(connection: HTTPConnection, settings: Settings, write: bool) -> None:
    """Raise UNAUTHENTICATED unless the request carries the token the settings require.

    With AMPELIOS_API_TOKEN empty nothing is required. Reads need the token
    only when AMPELIOS_API_TOKEN_FOR_READS is true. The token is compared in
    constant time and never appears in a message or a log line.
    """
    if not settings.api_token or not (write or settings.api_token_for_reads):
        return
    scheme, _, presented = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), settings.api_token.encode()):
        action = "triggering a run" if write else "reading results"
        raise ApiError(
            "UNAUTHENTICATED",
            f"{action} requires the header 'Authorization: Bearer <token>' with the value of AMPELIOS_API_TOKEN",
        )
