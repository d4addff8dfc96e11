"""The composition root: build an :class:`~orderflow.service.OrderService` from a URL.

``sqlite:///path/to/file.db`` (the embedded default), ``sqlite:///:memory:``,
``memory://`` and ``postgresql://user@host:port/db`` (the ``postgres`` extra).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from orderflow.clock import Clock
from orderflow.exceptions import InputError
from orderflow.geo.geocoder import Geocoder
from orderflow.geo.router import Router
from orderflow.ports import Store
from orderflow.service import OrderService
from orderflow.service.logmeta import stored_origin
from orderflow.workflow import Workflow

__all__ = ["connect", "open_store"]

DEFAULT_ORIGIN = "orderflow.local/plant"


def open_store(url: str, *, origin: str = DEFAULT_ORIGIN, **options: Any) -> Store:
    """Open the store a URL names. Extra ``options`` go to the adapter.

    SQLite URLs accept ``?synchronous=NORMAL`` (default ``FULL``); PostgreSQL URLs
    ``?schema=plant_nb1``, ``?pool_size=N`` and ``?factory=NB1`` (a store scoped to one
    plant: it must log in as that plant's role, see ``docs/guides/group.md``) besides
    libpq's own parameters.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if scheme == "memory":
        from orderflow.adapters.memory import MemoryStore

        return MemoryStore(origin)
    if scheme == "sqlite":
        from orderflow.adapters.sqlite import SqliteStore

        path = parts.path
        if parts.netloc:
            raise InputError(f"use sqlite:///relative.db or sqlite:////absolute.db, not {url!r}")
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise InputError(f"no database file in {url!r} (e.g. sqlite:///orderflow.db)")
        sync = options.pop("synchronous", query.get("synchronous", "FULL"))
        return SqliteStore(path, origin=origin, synchronous=sync, **options)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        from orderflow.adapters.postgres import PostgresStore

        # ?schema=plant_nb1 (one schema per plant, as the PostgreSQL guide recommends) and
        # ?pool_size=N are the store's; every other parameter is libpq's
        ours = {k: query.pop(k) for k in ("schema", "pool_size", "factory") if k in query}
        if "pool_size" in ours:
            try:
                options.setdefault("pool_size", int(ours.pop("pool_size")))
            except ValueError:
                raise InputError(f"pool_size in {url!r} must be a whole number") from None
        if "schema" in ours:
            options.setdefault("schema", ours["schema"])
        if "factory" in ours:  # a plant-scoped store (row-level security, R10)
            options.setdefault("factory", ours["factory"])
        clean = parts._replace(scheme="postgresql", query=urlencode(query)).geturl()
        return PostgresStore(clean, origin=origin, **options)
    raise InputError(
        f"unknown store URL {url!r}: use sqlite:///file.db, memory:// or postgresql://..."
    )


def connect(
    url: str = "sqlite:///orderflow.db",
    *,
    origin: str | None = None,
    clock: Clock | None = None,
    workflow: Workflow | None = None,
    router: Router | None = None,
    geocoder: Geocoder | None = None,
    number_prefix: str = "HY",
    **options: Any,
) -> OrderService:
    """An order service over the store at ``url``; ``options`` go to the store adapter.

    ``origin`` names a NEW audit log (default ``orderflow.local/plant``); an existing
    database keeps the origin it was created with, and naming another one raises
    :class:`~orderflow.StoreError` naming both. With a ``router`` and a ``geocoder``,
    drafts without a factory are routed to the nearest factory able to make them (R10).
    ``number_prefix`` starts every order number the service assigns.

    Example::

        import orderflow

        service = orderflow.connect("sqlite:///plant.db", origin="plant.example/ningbo")
    """
    store = open_store(url, origin=origin or DEFAULT_ORIGIN, **options)
    try:
        if origin is None:
            store.origin = stored_origin(store) or DEFAULT_ORIGIN
        return OrderService(
            store,
            clock=clock,
            workflow=workflow,
            router=router,
            geocoder=geocoder,
            number_prefix=number_prefix,
        )
    except BaseException:
        store.close()
        raise
