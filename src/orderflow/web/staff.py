"""Staff pages behind a login: dashboard, order page with its actions, printable slip.

Every staff request resolves the signed session to a :class:`~orderflow.web.StaffUser`
and hands its :class:`~orderflow.geo.Actor` to the service, which checks the factory
scope (R10: a factory-B user asking for a factory-A order gets
"您无权访问该区域订单，请联系区域管理员"). Every POST carries the session's CSRF token.
Each action is one service call and so ends in an audit entry; a refused transition
shows every failed guard with its measured values.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from orderflow.domain import Order
from orderflow.exceptions import ConcurrencyConflict, InputError, NotFound, TransitionRefused
from orderflow.web.auth import Session, StaffUser, check_login, open_session, seal_session
from orderflow.web.dashboard import dashboard_context
from orderflow.web.printing import render_slip
from orderflow.web.security import (
    FORM_EXPIRED,
    TOO_MANY,
    client_id,
    csrf_ok,
    form_token,
    form_token_ok,
    set_form_cookie,
)

if TYPE_CHECKING:
    from orderflow.web.app import WebState

__all__ = ["SESSION_COOKIE", "routes"]

SESSION_COOKIE = "orderflow_session"
BAD_MONTH = "月份格式应为 2026-11 / month must look like 2026-11"

Handler = Callable[[Request, StaffUser, Session], Awaitable[Response]]


def _safe_next(target: str) -> str:
    # only a path on this site: never "//evil.example" or "https://..."
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


def routes(state: WebState) -> list[BaseRoute]:
    """The staff routes over ``state``."""
    config = state.config
    service = state.service

    def who(request: Request) -> tuple[StaffUser, Session] | None:
        session = open_session(request.cookies.get(SESSION_COOKIE), config.session_key)
        if session is None:
            return None
        user = config.users.get(session.user)
        return None if user is None else (user, session)

    def staff(handler: Handler, *, post: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            found = who(request)
            if found is None:
                if post:
                    raise HTTPException(403, "请先登录 Please sign in first")
                target = quote(request.url.path, safe="/")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            user, session = found
            if post:
                form = await request.form()
                if not csrf_ok(session.csrf, form.get("csrf")):
                    raise HTTPException(403, FORM_EXPIRED)
                request.state.form = form
            return await handler(request, user, session)

        return endpoint

    def load(number: str, user: StaffUser) -> Order:
        found = service.find(number=number)
        if found is None:
            raise HTTPException(404)
        return service.get(found.id, actor=user.actor)  # AccessDenied outside the scope

    def order_context(order: Order, user: StaffUser, session: Session) -> dict[str, Any]:
        history = service.history(order.id, actor=user.actor)
        events = service.workflow.allowed_events(order)
        return {
            "user": user,
            "csrf": session.csrf,
            "order": order,
            "history": history,
            "explanations": [service.explain(order.id, e) for e in events],
            "incidents": [i for i in service.incidents() if i.order_id == order.id],
            # R13 notices as of now (staff only; the customer page never shows them)
            "risk_flags": service.risk_flags(order.id, actor=user.actor),
            "categories": service.policy.exception_categories,
            "components": sorted({c for line in order.lines for c in _bom(line.product)}),
            "key": secrets.token_urlsafe(12),
            "refusal": None,
            "problem": "",
        }

    def _bom(product: str) -> list[str]:
        from orderflow.domain import Product
        from orderflow.service import records

        with service.store.transaction() as tx:
            found = records.get_typed(tx, Product, product)
        return [b.component for b in found.bom] if found is not None else []

    # --- login ------------------------------------------------------------------------
    def login_form(request: Request, *, status: int = 200, error: str = "") -> Response:
        token = form_token(request)
        nxt = _safe_next(request.query_params.get("next", "/dashboard"))
        response = state.page(
            "login.html", {"csrf": token, "next": nxt, "error": error}, status=status
        )
        set_form_cookie(response, token, secure=config.secure_cookies)
        return response

    async def login(request: Request) -> Response:
        form = await request.form()
        if not form_token_ok(request, form.get("csrf")):
            return login_form(request, status=403, error=FORM_EXPIRED)
        if not state.limits.allow("login", client_id(request)):
            return login_form(request, status=429, error=TOO_MANY)
        name, password = str(form.get("user", "")), str(form.get("password", ""))
        user = await run_in_threadpool(check_login, config.users, name, password)
        if user is None:
            return login_form(
                request, status=401, error="用户名或密码错误 Wrong user name or password"
            )
        expires = int(time.time() + config.session_hours * 3600)
        cookie = seal_session(
            Session(user.id, expires, secrets.token_urlsafe(24)), config.session_key
        )
        response = RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=int(config.session_hours * 3600),
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
            path="/",
        )
        return response

    async def logout(request: Request, user: StaffUser, session: Session) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # --- pages ------------------------------------------------------------------------
    async def dashboard(request: Request, user: StaffUser, session: Session) -> Response:
        month = request.query_params.get("month") or None
        try:
            context = await run_in_threadpool(dashboard_context, state, user.actor, month)
        except ValueError:
            raise HTTPException(400, BAD_MONTH) from None
        return state.page("dashboard.html", {**context, "user": user, "csrf": session.csrf})

    async def order_page(request: Request, user: StaffUser, session: Session) -> Response:
        def build() -> dict[str, Any]:
            order = load(request.path_params["number"], user)
            return order_context(order, user, session)

        context = await run_in_threadpool(build)
        context["done"] = request.query_params.get("done", "")[:80]
        return state.page("order.html", context)

    async def slip_page(request: Request, user: StaffUser, session: Session) -> Response:
        public = config.public_url or str(request.base_url)

        def build() -> str:
            order = load(request.path_params["number"], user)
            return render_slip(state, order, actor=user.actor, public_url=public, standalone=False)

        return Response(await run_in_threadpool(build), media_type="text/html")

    # --- actions ----------------------------------------------------------------------
    def action(do: Callable[[Order, StaffUser, FormData], str]) -> Handler:
        async def handler(request: Request, user: StaffUser, session: Session) -> Response:
            form: FormData = request.state.form
            number = request.path_params["number"]

            def run() -> Response:
                order = load(number, user)
                try:
                    done = do(order, user, form)
                except (TransitionRefused, ConcurrencyConflict, InputError, NotFound) as exc:
                    context = order_context(service.get(order.id, actor=user.actor), user, session)
                    context["done"] = ""
                    if isinstance(exc, TransitionRefused):
                        context["refusal"] = exc
                    else:
                        context["problem"] = str(exc)
                    return state.page("order.html", context, status=409)
                target = f"/orders/{quote(number, safe='')}?done={quote(done)}"
                return RedirectResponse(target, status_code=303)

            return await run_in_threadpool(run)

        return handler

    def text(form: FormData, name: str, limit: int = 500) -> str:
        return str(form.get(name, "")).strip()[:limit]

    def fire(order: Order, user: StaffUser, form: FormData) -> str:
        event = text(form, "event", 64)
        service.fire(
            order.id,
            event,
            actor=user.actor,
            reason=text(form, "reason") or None,
            idempotency_key=text(form, "key", 64) or None,
            context={"operator": user.id, "via": "web"},
        )
        return event

    def open_incident(order: Order, user: StaffUser, form: FormData) -> str:
        incident = service.open_incident(
            order.id,
            text(form, "category", 64),
            actor=user.actor,
            note=text(form, "note"),
            device=text(form, "device", 64),
            batch=text(form, "batch", 64),
            idempotency_key=text(form, "key", 64) or None,
        )
        return f"incident {incident.id}"

    def resolve_incident(order: Order, user: StaffUser, form: FormData) -> str:
        incident_id = text(form, "incident", 64)
        if incident_id not in {i.id for i in service.incidents() if i.order_id == order.id}:
            raise NotFound("incident", incident_id, f"no incident {incident_id} on this order")
        service.resolve_incident(
            incident_id,
            text(form, "root_cause"),
            actor=user.actor,
            idempotency_key=text(form, "key", 64) or None,
        )
        return f"resolved {incident_id}"

    def scan(order: Order, user: StaffUser, form: FormData) -> str:
        component = text(form, "component", 64)
        service.record_scan(
            component,
            text(form, "qty", 32),
            direction=text(form, "direction", 8),
            actor=user.actor,
            factory_id=order.factory_id,
            device=text(form, "device", 64),
            batch=text(form, "batch", 64),
            idempotency_key=text(form, "key", 64) or None,
        )
        return f"scan {component}"

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", staff(logout, post=True), methods=["POST"]),
        Route("/dashboard", staff(dashboard), methods=["GET"]),
        Route("/orders/{number}", staff(order_page), methods=["GET"]),
        Route("/orders/{number}/slip", staff(slip_page), methods=["GET"]),
        Route("/orders/{number}/fire", staff(action(fire), post=True), methods=["POST"]),
        Route(
            "/orders/{number}/incidents", staff(action(open_incident), post=True), methods=["POST"]
        ),
        Route(
            "/orders/{number}/resolve", staff(action(resolve_incident), post=True), methods=["POST"]
        ),
        Route("/orders/{number}/scans", staff(action(scan), post=True), methods=["POST"]),
    ]
