"""The customer's status link (R9): ``/t/{token}``, ``/api/v1/t/{token}`` and the bundle.

The page shows only what :class:`~orderflow.service.views.CustomerStatus` carries (number,
stage, stage history, expected departure), times in the factory's zone. An unknown, wrong
or malformed code gets the same 404 answer; the code is looked up by its hash, so the
answer's timing does not depend on how close a guess was. Each view is stored as a
``viewed`` query event, so the self-service share and the funnel (R8) count real traffic.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orderflow.exceptions import NotFound, StoreError
from orderflow.serialization import unstructure
from orderflow.service import NO_SUCH_CODE
from orderflow.service.views import CustomerStatus
from orderflow.web.security import client_id

if TYPE_CHECKING:
    from orderflow.web.app import WebState

__all__ = ["routes"]

# tokens are base64url text of >= 128 bits; anything else cannot be one
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")


def _status(state: WebState, request: Request) -> CustomerStatus:
    if not state.limits.allow("customer", client_id(request)):
        retry = str(state.limits.retry_after("customer"))
        raise HTTPException(429, "请稍后再试 Please try again shortly", {"retry-after": retry})
    token = request.path_params["token"]
    if not _TOKEN.fullmatch(token):
        raise NotFound("order", "", NO_SUCH_CODE)
    return state.service.customer_status(token)


def _record_view(state: WebState, status: CustomerStatus) -> None:
    state.queries.add(status.number, state.service.clock.now(), status.stage)


def _context(state: WebState, status: CustomerStatus, token: str) -> dict[str, Any]:
    today = state.service.clock.now().astimezone(state.zone()).date()
    late = status.expected_departure is not None and today > status.expected_departure
    return {
        "s": status,
        "late": late,
        "zone": state.service.policy.timezone,
        "checked_at": state.service.clock.now(),
        "bundle_url": f"/t/{token}/history.json" if state.config.customer_bundle else "",
        "support": state.config.support_contact,
    }


def routes(state: WebState) -> list[BaseRoute]:
    """The customer routes over ``state``."""

    # The handlers are coroutines calling the service inline: a lookup is two indexed
    # SQLite reads (well under a millisecond), and a hop through the thread pool cost
    # more than that under load (measured: p99 several times higher).
    async def page(request: Request) -> Response:
        try:
            status = _status(state, request)
        except NotFound:
            return state.page("not_found.html", {"message": NO_SUCH_CODE}, status=404)
        _record_view(state, status)
        return state.page("customer.html", _context(state, status, request.path_params["token"]))

    async def api(request: Request) -> Response:
        try:
            status = _status(state, request)
        except NotFound:
            return JSONResponse({"error": NO_SUCH_CODE}, status_code=404)
        _record_view(state, status)
        body = unstructure(status)
        body["timezone"] = state.service.policy.timezone
        return JSONResponse(body)

    def bundle(request: Request) -> Response:
        if not state.config.customer_bundle:
            return state.page("not_found.html", {"message": NO_SUCH_CODE}, status=404)
        try:
            status = _status(state, request)
        except NotFound:
            return state.page("not_found.html", {"message": NO_SUCH_CODE}, status=404)
        order = state.service.find(number=status.number)
        assert order is not None  # the code just resolved to it
        audit = state.service.audit
        try:
            evidence = audit.bundle(order.id)
        except StoreError:  # no checkpoint stored yet: anchor the log now
            audit.store_checkpoint()
            evidence = audit.bundle(order.id)
        return Response(
            evidence.to_json(),
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="{status.number}.json"'},
        )

    return [
        Route("/t/{token}", page, methods=["GET"]),
        Route("/t/{token}/history.json", bundle, methods=["GET"]),
        Route("/api/v1/t/{token}", api, methods=["GET"]),
    ]
