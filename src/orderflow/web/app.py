"""The application: templates, shared state, routes, error pages (never a traceback)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import zoneinfo
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from orderflow.exceptions import AccessDenied, InputError, OrderflowError
from orderflow.metrics import QueryEvent, QueryKind
from orderflow.report._html import TEMPLATES as REPORT_TEMPLATES
from orderflow.web.config import WebConfig
from orderflow.web.security import CSP, RateLimits, SecurityHeaders, redact_path

if TYPE_CHECKING:
    from orderflow.service import OrderService

__all__ = ["QueryBuffer", "WebState", "build_app"]

log = logging.getLogger("orderflow.web")
PACKAGE = Path(__file__).parent

_ERROR_TITLES = {
    400: "请求无效 Bad request",
    403: "无权访问 No access",
    404: "未找到 Not found",
    405: "不支持的请求 Method not allowed",
    429: "请求过于频繁 Too many requests",
    500: "服务暂时出错 Something went wrong",
}
_PAGE_HEADERS = {
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}


def _qty(value: Decimal) -> str:
    """A quantity without trailing zeros or exponent (``105.00`` -> ``105``)."""
    return f"{Decimal(value).normalize():f}"


class QueryBuffer:
    """Customer views waiting to be stored as query events (R8 funnel, R9 accuracy).

    A view must not wait for a database write: views are kept as (order number, time,
    stage shown) and stored together every ``WebConfig.query_flush_seconds`` (and when
    ``size`` are waiting, and at shutdown), order numbers resolved to ids then.
    """

    def __init__(self, service: OrderService, *, size: int = 500) -> None:
        self._service = service
        self._size = size
        self._views: list[tuple[str, dt.datetime, str]] = []
        self._lock = threading.Lock()

    def add(self, number: str, at: dt.datetime, stage: str) -> None:
        """Queue one view; store the batch at once if it is full."""
        with self._lock:
            self._views.append((number, at, stage))
            full = len(self._views) >= self._size
        if full:
            self.flush()

    def flush(self) -> int:
        """Store every queued view now; how many were stored."""
        with self._lock:
            views, self._views = self._views, []
        ids: dict[str, str | None] = {}
        events = []
        for number, at, stage in views:
            if number not in ids:
                order = self._service.find(number=number)
                ids[number] = None if order is None else order.id
            order_id = ids[number]
            if order_id is not None:
                events.append(QueryEvent(order_id, QueryKind.VIEWED, at, stage))
        if events:
            self._service.record_queries(events)
        return len(events)


class WebState:
    """What every route shares: the service, settings, templates, limits, caches."""

    def __init__(
        self, service: OrderService, config: WebConfig, templates_dir: str | Path | None
    ) -> None:
        self.service = service
        self.config = config
        loaders: list[jinja2.BaseLoader] = []
        if templates_dir is not None:
            loaders.append(jinja2.FileSystemLoader(str(templates_dir)))
        loaders.append(jinja2.FileSystemLoader(str(PACKAGE / "templates")))
        loaders.append(jinja2.FileSystemLoader(str(REPORT_TEMPLATES)))  # the shared charts
        self.templates = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=True,  # every template, whatever its name
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["local"] = self.local
        self.templates.filters["qty"] = _qty
        self.templates.globals["label"] = self.label
        self.limits = RateLimits(
            customer=config.customer_rate, slip=config.slip_rate, login=config.login_rate
        )
        self.queries = QueryBuffer(service)
        self.cache: dict[Any, Any] = {}
        self.cache_lock = threading.Lock()

    def zone(self) -> zoneinfo.ZoneInfo:
        """The factory time zone of the policy in force."""
        return zoneinfo.ZoneInfo(self.service.policy.timezone)

    def local(self, instant: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """An instant as wall-clock time in the factory zone (empty for ``None``)."""
        if instant is None:
            return ""
        return instant.astimezone(self.zone()).strftime(fmt)

    def label(self, stage: str | None) -> str:
        """A stage's bilingual label from the workflow's one label table."""
        if not stage:
            return ""
        return str(self.service.workflow.definition.label(stage))

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """A template rendered with ``context``."""
        return self.templates.get_template(name).render(**context)

    def page(
        self,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """An HTML response from a template."""
        return HTMLResponse(
            self.render(name, context or {}), status_code=status, headers=dict(headers or {})
        )

    def error(
        self, status: int, message: str = "", *, headers: Mapping[str, str] | None = None
    ) -> HTMLResponse:
        """The one error page (no traceback, no internals), with the page headers set even
        when it is drawn outside the header middleware."""
        title = _ERROR_TITLES.get(status, _ERROR_TITLES[500])
        html = self.render("error.html", {"status": status, "title": title, "message": message})
        return HTMLResponse(html, status_code=status, headers={**_PAGE_HEADERS, **(headers or {})})


def _handlers(state: WebState) -> dict[Any, Any]:
    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail if exc.status_code in (400, 403, 429) else ""
        return state.error(exc.status_code, message, headers=exc.headers)

    def access_denied(request: Request, exc: Exception) -> Response:
        return state.error(403, str(exc).split(" (actor")[0])

    def bad_input(request: Request, exc: Exception) -> Response:
        return state.error(400, str(exc))

    def orderflow_error(request: Request, exc: Exception) -> Response:
        # the message names what failed (no query or slip code ever reaches one)
        log.error(
            "%s %s: %s: %s", request.method, redact_path(request.url.path), type(exc).__name__, exc
        )
        return state.error(500, "")

    def crash(request: Request, exc: Exception) -> Response:
        # the traceback goes to the server log by Starlette; the client sees a plain page
        return state.error(500, "")

    return {
        HTTPException: http_error,
        AccessDenied: access_denied,
        InputError: bad_input,
        OrderflowError: orderflow_error,
        Exception: crash,
    }


def build_app(
    service: OrderService, *, templates_dir: str | Path | None, config: WebConfig
) -> Starlette:
    """The application behind :func:`orderflow.web.create_app`."""
    from orderflow.web import customer, slip, staff

    state = WebState(service, config, templates_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def flush_forever() -> None:
            while True:
                await anyio.sleep(state.config.query_flush_seconds)
                await anyio.to_thread.run_sync(state.queries.flush)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(flush_forever)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
        await anyio.to_thread.run_sync(state.queries.flush)

    routes = [
        *customer.routes(state),
        *slip.routes(state),
        *staff.routes(state),
        Mount("/static", app=StaticFiles(directory=str(PACKAGE / "static")), name="static"),
    ]
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers=_handlers(state),
        lifespan=lifespan,
    )
    app.state.web = state
    return app
