"""The tables of a Kingdee K3 WISE-shaped fixture database, with SQLAlchemy Core.

The tables the ``kingdee-k3-wise`` preset reads (``SEOrder``, ``SEOrderEntry``,
``t_ICItem``, ``t_Organization``, ``ICInventory``) plus the stock bills ``ICStockBill`` /
``ICStockBillEntry``, in any database SQLAlchemy reaches; :mod:`orderflow.testing.k3_fixture`
fills them. Needs the ``erp`` extra.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from orderflow._extras import require

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = require("sqlalchemy", "erp")

__all__ = ["create_k3_schema", "drop_k3_schema", "k3_metadata"]


class _DecimalText(sa.types.TypeDecorator[Decimal]):
    """SQLite has no exact decimal type: keep the digits as text (read back exactly)."""

    impl = sa.String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return None if value is None else Decimal(value)


def _money() -> sa.types.TypeEngine[Any]:
    return sa.Numeric(28, 10).with_variant(_DecimalText(), "sqlite")


def _key(name: str, kind: Any = sa.Integer) -> sa.Column[Any]:
    """A part of a table's primary key, numbered by K3 itself (never by the database)."""
    return sa.Column(name, kind, primary_key=True, autoincrement=False)


def _flag(name: str, default: int = 0, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.SmallInteger, nullable=nullable, server_default=str(default))


def k3_metadata(schema: str | None = None) -> sa.MetaData:
    """The K3 WISE tables (the columns orderflow reads, plus a few for realism).

    Keys are K3's: ``SEOrder.FInterID``; ``SEOrderEntry`` (``FInterID``, ``FEntryID``);
    ``ICInventory`` per material, warehouse, location and batch; the stock bills as
    ``ICStockBill``/``ICStockBillEntry``. ``FClassTypeID`` 0 on ordinary orders is a
    placeholder (the public sources only name 1007100, the change-history class).
    """
    md = sa.MetaData(schema=schema)
    sa.Table(
        "t_Organization",
        md,
        _key("FItemID"),
        sa.Column("FNumber", sa.String(80), nullable=False),
        sa.Column("FName", sa.String(255), nullable=False),
    )
    sa.Table(
        "t_ICItem",
        md,
        _key("FItemID"),
        sa.Column("FNumber", sa.String(80), nullable=False),
        sa.Column("FName", sa.String(255), nullable=False),
        sa.Column("FModel", sa.String(255)),
        sa.Column("FUnitID", sa.Integer, server_default="1"),
    )
    sa.Table(
        "SEOrder",
        md,
        _key("FInterID"),
        sa.Column("FBillNo", sa.String(50), nullable=False),
        _flag("FTranType", 81),
        sa.Column("FDate", sa.DateTime),
        sa.Column("FCustID", sa.Integer),
        _flag("FCancellation", nullable=True),
        _flag("FStatus"),
        sa.Column("FCheckerID", sa.Integer, nullable=True, server_default="0"),
        _flag("FClosed"),
        _flag("FChangeMark"),
        sa.Column("FClassTypeID", sa.Integer, server_default="0"),
        sa.Column("FCurrencyID", sa.Integer, server_default="1"),
        sa.Column("FExchangeRate", _money(), server_default="1"),
    )
    sa.Table(
        "SEOrderEntry",
        md,
        _key("FInterID"),
        _key("FEntryID"),
        sa.Column("FItemID", sa.Integer),
        sa.Column("FQty", _money()),
        sa.Column("FAuxQty", _money()),
        sa.Column("FUnitID", sa.Integer, server_default="1"),
        sa.Column("FPrice", _money()),
        sa.Column("FAuxPrice", _money()),
        sa.Column("FAuxTaxPrice", _money()),
        sa.Column("FCess", _money(), server_default="0"),
        sa.Column("FTaxRate", _money(), server_default="0"),
        sa.Column("FAllStdAmount", _money()),
        sa.Column("FDate", sa.DateTime),
        _flag("FMrpClosed"),
    )
    sa.Table(
        "ICInventory",
        md,
        _key("FItemID"),
        _key("FStockID"),
        sa.Column("FStockPlaceID", sa.Integer, primary_key=True, server_default="0"),
        sa.Column("FBatchNo", sa.String(50), primary_key=True, server_default=""),
        sa.Column("FQty", _money()),
    )
    sa.Table(
        "t_LockStock",
        md,
        _key("FTranType", sa.SmallInteger),
        _key("FInterID"),
        _key("FEntryID"),
        sa.Column("FItemID", sa.Integer),
        sa.Column("FStockID", sa.Integer),
        sa.Column("FQty", _money()),
    )
    sa.Table(
        "ICStockBill",
        md,
        _key("FInterID"),
        sa.Column("FBillNo", sa.String(50), nullable=False),
        sa.Column("FDate", sa.DateTime),
        sa.Column("FTranType", sa.SmallInteger),
        _flag("FROB", 1),
        _flag("FCancellation", nullable=True),
        sa.Column("FCheckerID", sa.Integer, server_default="0"),
    )
    sa.Table(
        "ICStockBillEntry",
        md,
        _key("FInterID"),
        _key("FEntryID"),
        sa.Column("FItemID", sa.Integer),
        sa.Column("FQty", _money()),
        sa.Column("FDCStockID", sa.Integer),
        sa.Column("FOrderInterID", sa.Integer, index=True),
        sa.Column("FOrderEntryID", sa.Integer),
        sa.Column("FSourceInterId", sa.Integer),
        sa.Column("FSourceTranType", sa.SmallInteger),
    )
    return md


def create_k3_schema(engine: sa.Engine, schema: str | None = None) -> sa.MetaData:
    """Create the K3 tables (and the schema itself, on PostgreSQL) and return them."""
    with engine.begin() as conn:
        if schema is not None:
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        md = k3_metadata(schema)
        md.create_all(conn)
    return md


def drop_k3_schema(engine: sa.Engine, schema: str | None = None) -> None:
    """Drop the K3 tables (and, on PostgreSQL, the schema with everything in it)."""
    with engine.begin() as conn:
        if schema is not None and conn.dialect.name == "postgresql":
            conn.execute(sa.schema.DropSchema(schema, cascade=True, if_exists=True))
        else:
            k3_metadata(schema).drop_all(conn)
