"""The warehouse paper-slip bridge (R11): ``GET/POST /slip``.

A clerk keys in (or scans) the order number and the 6-digit code printed top right on the
slip and sees the three key facts: the current shortage, the latest failed QC batch of the
order's products and a recommended alternative supplier. The service counts wrong codes
per number and per client and locks both (:class:`~orderflow.SlipLocked`); the page
says until when, in the factory's zone. The client is also rate-limited here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from orderflow.exceptions import InputError, NotFound, SlipLocked
from orderflow.service import NO_SUCH_SLIP
from orderflow.service.views import SlipStatus
from orderflow.web.security import (
    FORM_EXPIRED,
    TOO_MANY,
    client_id,
    form_token,
    form_token_ok,
    set_form_cookie,
)

if TYPE_CHECKING:
    from orderflow.web.app import WebState

__all__ = ["routes"]


def routes(state: WebState) -> list[BaseRoute]:
    """The slip routes over ``state``."""
    secure = state.config.secure_cookies

    def form(request: Request, *, status: int = 200, **extra: Any) -> Response:
        token = form_token(request)
        context = {
            "csrf": token,
            "number": request.query_params.get("n", "")[:64],
            "error": "",
            "locked": "",
            "slip": None,
            **extra,
        }
        response = state.page("slip.html", context, status=status)
        set_form_cookie(response, token, secure=secure)
        return response

    def show(request: Request) -> Response:
        return form(request)

    async def lookup(request: Request) -> Response:
        data = await request.form()
        number = str(data.get("number", "")).strip()
        code = str(data.get("code", "")).strip()
        if not form_token_ok(request, data.get("csrf")):
            return form(request, status=403, number=number, error=FORM_EXPIRED)
        caller = client_id(request)
        if not state.limits.allow("slip", caller):
            return form(request, status=429, number=number, error=TOO_MANY)
        try:
            slip: SlipStatus = await run_in_threadpool(
                state.service.slip_status, number, code, caller=caller
            )
        except SlipLocked as locked:
            until = state.local(locked.until)
            return form(request, status=429, number=number, locked=until, scope=locked.scope)
        except (NotFound, InputError):
            return form(request, status=404, number=number, error=NO_SUCH_SLIP)
        return form(request, number=number, slip=slip)

    return [
        Route("/slip", show, methods=["GET"]),
        Route("/slip", lookup, methods=["POST"]),
    ]
