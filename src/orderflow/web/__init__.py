"""The customer, warehouse and staff web (R8, R9, R10, R11): the ``web`` extra.

:func:`create_app` builds a Starlette application over an
:class:`~orderflow.service.OrderService` that a host application can serve on its own
(``orderflow serve``) or mount. Without the extra installed, it raises
:class:`~orderflow.MissingExtra` naming ``pip install "orderflow[web]"``.

Routes: the customer status page ``/t/{token}`` and its JSON twin ``/api/v1/t/{token}``;
the paper-slip bridge ``/slip``; staff pages behind a login (``/login``, ``/dashboard``,
``/orders/{number}``, ``/orders/{number}/slip``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from orderflow._extras import require
from orderflow.web.auth import StaffUser, hash_password, load_users, verify_password
from orderflow.web.config import WebConfig

if TYPE_CHECKING:
    from orderflow.service import OrderService

__all__ = [
    "StaffUser",
    "WebConfig",
    "create_app",
    "hash_password",
    "load_users",
    "verify_password",
]


def create_app(
    service: OrderService,
    *,
    templates_dir: str | Path | None = None,
    config: WebConfig | None = None,
) -> Any:
    """A Starlette application serving ``service`` (see the module docstring for routes).

    ``templates_dir`` is searched before the package's own templates, so a plant can
    override any page (``customer.html``, ``base.html`` ...) by dropping a file of the same
    name there. ``config`` carries the staff users, the session key and the rate limits
    (:class:`WebConfig`; the default has no staff users and a random session key).
    """
    for module in ("starlette", "jinja2", "limits", "segno", "barcode", "python_multipart"):
        require(module, "web")
    from orderflow.web.app import build_app

    return build_app(service, templates_dir=templates_dir, config=config or WebConfig())
