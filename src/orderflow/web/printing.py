"""Printable paper slips (R11): order facts, the 6-digit code, a QR code and a barcode.

The QR code (segno) carries the slip lookup link ``<public url>/slip?n=<number>``: a
clerk's phone opens the lookup with the number filled in and keys the code printed top
right (the code itself never goes into a link, where browser histories and proxy logs
would keep it). The barcode is Code 128 of each product code, drawn by ``python-barcode``
as SVG, for the PDA scanners already on the floor.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import barcode
import segno
from barcode.writer import SVGWriter
from markupsafe import Markup

from orderflow.domain import Order

if TYPE_CHECKING:
    from orderflow.service import OrderService
    from orderflow.web.app import WebState

__all__ = ["barcode_svg", "qr_svg", "slip_context", "slip_link"]

_STYLE_FILL = re.compile(r'style="fill:([#a-z0-9]+);?"')


def qr_svg(data: str) -> Markup:
    """``data`` as an inline SVG QR code (error correction M, for smudged paper)."""
    return Markup(segno.make(data, error="m", micro=False).svg_inline(scale=3, title="QR"))


def barcode_svg(code: str) -> Markup:
    """``code`` as an inline Code 128 SVG (no inline styles: the page's CSP forbids them)."""
    out = io.BytesIO()
    barcode.get("code128", code, writer=SVGWriter()).write(
        out,
        options={
            "write_text": False,
            "module_height": 12.0,
            "module_width": 0.33,
            "quiet_zone": 2.0,
        },
    )
    text = out.getvalue().decode()
    svg = text[text.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return Markup(_STYLE_FILL.sub(r'fill="\1"', svg))


def slip_link(public_url: str, number: str) -> str:
    """The slip lookup link printed as the QR code."""
    return f"{public_url.rstrip('/')}/slip?n={quote(number, safe='')}"


def slip_context(
    service: OrderService, order: Order, *, actor: Any, public_url: str, zone_label: Any
) -> dict[str, Any]:
    """What ``slip_print.html`` draws for ``order`` (the service checks ``actor``'s scope)."""
    code = service.slip_code(order.id, actor=actor)
    products = list(dict.fromkeys(line.product for line in order.lines))
    link = slip_link(public_url, order.number)
    return {
        "order": order,
        "code": code,
        "qr": qr_svg(link),
        "link": link,
        "barcodes": [(p, barcode_svg(p)) for p in products],
        "stage_label": zone_label(order.stage),
        "printed_at": service.clock.now(),
    }


def render_slip(
    state: WebState, order: Order, *, actor: Any, public_url: str, standalone: bool
) -> str:
    """The slip page; ``standalone`` inlines its stylesheet (one file for ``orderflow slip``)."""
    from orderflow.web.app import PACKAGE

    context = slip_context(
        state.service, order, actor=actor, public_url=public_url, zone_label=state.label
    )
    css = (PACKAGE / "static" / "slip.css").read_text(encoding="utf-8") if standalone else ""
    return state.render("slip_print.html", {**context, "inline_css": Markup(css)})
