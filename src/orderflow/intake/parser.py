"""OCR lines -> :class:`~orderflow.intake.model.Contract`: labels, table columns, prose lines.

The parser never relies on spaces (OCR drops them between adjacent fields).
It reads three things:

* **labelled fields** -- ``甲方（买方）：宁波华东阀门有限公司``: the value runs from
  the label's colon to the next label on the same OCR line, or, when the label
  stands alone in its box, is the nearest box to its right on the same row;
* **a table of lines** -- a header row naming 型号/规格, 数量, 单位, 单价, 金额
  fixes the columns; every row below whose model column holds a model code is
  a line, its cells assigned to the nearest column by horizontal position;
* **prose lines** -- ``产品型号：HV-012，数量：120台，单价：1,250.00元，金额：…``.

Each value's confidence is the OCR confidence of its source text, lowered
when the value had to be taken from a neighbouring box.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

import attrs

from orderflow.intake._layout import Item, layout_page, right_neighbour, row_of
from orderflow.intake._text import (
    MODEL_RE,
    NUMBER_RE,
    UNITS,
    normalise_model,
    parse_date,
    parse_number,
)
from orderflow.intake.model import Contract, ContractLine, Field, OcrLine, Region

__all__ = ["NEIGHBOUR_FACTOR", "SEAL_CONFIDENCE", "SEAL_OVERLAP_FACTOR", "parse_contract"]

T = TypeVar("T")

#: Confidence factor for a value read from the box right of its label, not the label's own box.
NEIGHBOUR_FACTOR = 0.97
#: How sure a red-seal detection is taken to be when combined with a signature block.
SEAL_CONFIDENCE = 0.9
#: Confidence factor for a value whose text lies under a red seal (always below review level).
SEAL_OVERLAP_FACTOR = 0.85

_PAREN = r"(?:\([^()]{1,4}\))?"
_LABELS: dict[str, str] = {
    "buyer": r"(?:甲方|买方|需方|订货方|购货方)",
    "seller": r"(?:乙方|卖方|供方|供货方)",
    "number": r"(?:合同编号|合同号|编号)",
    "delivery_address": r"(?:交货地址|收货地址|送货地点|交货地点|送货地址)",
    "requested_date": r"(?:交货日期|交货时间|要求交期|到货日期|交期)",
}
# any label ends the previous value ("甲方:X公司乙方:Y公司" on one OCR line)
# a label needs its colon (OCR sometimes reads it as ; or !): without one, "甲方向乙方订购"
# would make "向乙方订购" the buyer
_COLON = "[:;!]"
_ANY_LABEL = re.compile("(" + "|".join(_LABELS.values()) + ")" + _PAREN + _COLON)
_LABEL_RES = {name: re.compile(pat + _PAREN + _COLON) for name, pat in _LABELS.items()}
_SIGNATURE_RE = re.compile(r"(?:签字|签章|盖章|签名)\)?[:;!]|^\((?:签字|签章|盖章)\)$|授权代表")
_TABLE_END_RE = re.compile(r"合计|总计|大写|^" + _ANY_LABEL.pattern)
_HEADERS: dict[str, re.Pattern[str]] = {
    "model": re.compile(r"规格型号|型号|规格"),
    "qty": re.compile(r"数量"),
    "unit": re.compile(r"单位"),
    "unit_price": re.compile(r"单价"),
    "amount": re.compile(r"金额|总价|小计"),
}
_INLINE = {
    "model": re.compile(r"(?:型号|规格):?(" + MODEL_RE.pattern + ")"),
    "qty": re.compile(r"数量:?(" + NUMBER_RE.pattern + ")(" + "|".join(UNITS) + ")?"),
    "unit_price": re.compile(r"单价:?(?:¥|￥|RMB)?(" + NUMBER_RE.pattern + ")"),
    "amount": re.compile(r"(?:金额|总价|小计):?(?:¥|￥|RMB)?(" + NUMBER_RE.pattern + ")"),
}


def _field(
    value: object,
    items: Sequence[Item],
    factor: float = 1.0,
    span: tuple[int, int] | None = None,
) -> Field[object]:
    """A field from ``items``; its confidence is that of the characters in ``span`` of
    the items' joined text (all of it when ``None``), times ``factor``."""
    region = items[0].line.region
    for it in items[1:]:
        region = region.union(it.line.region)
    conf = [p for it in items for p in it.conf]
    chosen = conf[span[0] : span[1]] if span is not None else conf
    confidence = min(chosen or conf) * factor
    source = "".join(it.line.text for it in items)
    return Field(value, round(confidence, 4), source, region)


_Found = tuple[str, list[Item], float, tuple[int, int] | None]


def _labelled(name: str, items: Sequence[Item]) -> _Found | None:
    """Raw text after the first colon-terminated ``name`` label, with the boxes it came from."""
    pattern = _LABEL_RES[name]
    for item in items:
        for match in pattern.finditer(item.text):
            if match.start() > 0 and _ANY_LABEL.match(item.text, match.start()) is None:
                continue  # "产品编号" or "甲方向乙方": a label word inside prose
            rest = item.text[match.end() :]
            nxt = _ANY_LABEL.search(rest)
            value = rest[: nxt.start()] if nxt else rest
            if value:
                return value, [item], 1.0, (match.end(), match.end() + len(value))
            if match.end() == len(item.text):  # the label stands alone in its box
                neighbour = right_neighbour(item, items)
                if neighbour is not None and _ANY_LABEL.match(neighbour.text) is None:
                    return neighbour.text, [neighbour], NEIGHBOUR_FACTOR, None
    return None


def _text_field(name: str, items: Sequence[Item], clean: Callable[[str], str | None]) -> Field[str]:
    found = _labelled(name, items)
    if found is None:
        return Field.missing()
    value = clean(found[0])
    factor = found[2] if value is not None else 0.0
    return _field(value, found[1], factor, found[3])  # type: ignore[return-value]


def _party(raw: str) -> str | None:
    value = raw.strip(",.;:、。")
    return value or None


def _contract_no(raw: str) -> str | None:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9-]*", raw)
    return match.group().upper() if match else None


def _date_field(items: Sequence[Item]) -> Field[dt.date]:
    found = _labelled("requested_date", items)
    if found is None:
        return Field.missing()
    value = parse_date(found[0])
    factor = found[2] if value else 0.0
    return _field(value, found[1], factor, found[3])  # type: ignore[return-value]


def _columns(header: Sequence[Item]) -> dict[str, float]:
    """Column name -> x centre, splitting merged header boxes by character position."""
    cols: dict[str, float] = {}
    for item in header:
        width = (item.x1 - item.x0) / max(len(item.text), 1)
        for name, pattern in _HEADERS.items():
            match = pattern.search(item.text)
            if match and name not in cols:
                mid = (match.start() + match.end()) / 2
                cols[name] = item.x0 + mid * width
    return cols


def _find_header(items: Sequence[Item]) -> tuple[Item, dict[str, float]] | None:
    for item in items:
        if _HEADERS["model"].search(item.text) and ":" not in item.text:
            cols = _columns(row_of(item, items))
            if {"model", "qty"} <= cols.keys():
                return item, cols
    return None


def _number_field(cell: list[Item]) -> Field[Decimal]:
    if not cell:
        return Field.missing()
    value = parse_number("".join(it.text for it in cell))
    return _field(value, cell, 1.0 if value is not None else 0.0)  # type: ignore[return-value]


def _table_lines(items: Sequence[Item]) -> list[ContractLine]:
    found = _find_header(items)
    if found is None:
        return []
    header, cols = found
    body = [it for it in items if it.y > header.y + 0.6 * header.h]
    end = next((it.y for it in body if _TABLE_END_RE.search(it.text)), None)
    if end is not None:
        body = [it for it in body if it.y < end - 0.5 * it.h]
    lines = []
    for anchor in body:
        nearest = min(cols, key=lambda c: abs(cols[c] - anchor.xc))
        if nearest != "model" or not MODEL_RE.search(anchor.text.upper()):
            continue
        cells: dict[str, list[Item]] = {name: [] for name in cols}
        for it in row_of(anchor, body):
            cells[min(cols, key=lambda c: abs(cols[c] - it.xc))].append(it)
        qty = _number_field(cells.get("qty", []))
        unit_cells = cells.get("unit") or cells.get("qty", [])
        unit_text = "".join(it.text for it in unit_cells)
        unit_value = next((u for u in UNITS if u in unit_text), None)
        unit = _field(unit_value, unit_cells, 1.0) if unit_cells else Field.missing()
        model_match = MODEL_RE.search(anchor.text.upper())
        model = normalise_model(model_match.group()) if model_match else None
        lines.append(
            ContractLine(
                _field(model, [anchor]),  # type: ignore[arg-type]
                qty,
                unit if unit_value else Field.missing(),  # type: ignore[arg-type]
                _number_field(cells.get("unit_price", [])),
                _number_field(cells.get("amount", [])),
            )
        )
    return lines


def _prose_lines(items: Sequence[Item]) -> list[ContractLine]:
    lines = []
    for item in items:
        if _INLINE["model"].search(item.text) is None or ":" not in item.text:
            continue
        parts = [it for it in row_of(item, items) if it.x0 >= item.x0 - 1]
        text = "".join(it.text for it in parts)
        found = {name: pattern.search(text) for name, pattern in _INLINE.items()}
        model_m, qty_m = found["model"], found["qty"]
        if model_m is None or qty_m is None:
            continue

        def num(m: re.Match[str] | None, parts: list[Item] = parts) -> Field[Decimal]:
            if m is None:
                return Field.missing()
            value = parse_number(m.group(1))
            return _field(value, parts, span=m.span(1))  # type: ignore[return-value]

        unit = qty_m.group(2)
        model = normalise_model(model_m.group(1))
        lines.append(
            ContractLine(
                _field(model, parts, span=model_m.span(1)),  # type: ignore[arg-type]
                num(qty_m),
                _field(unit, parts, span=qty_m.span(2))  # type: ignore[arg-type]
                if unit
                else Field.missing(),
                num(found["unit_price"]),
                num(found["amount"]),
            )
        )
    return lines


def _signature(items: Sequence[Item], seal: bool) -> Field[bool]:
    # a seal often covers part of a block, so the best-read block speaks for all
    blocks = sorted(
        (it for it in items if _SIGNATURE_RE.search(it.text)), key=lambda it: -min(it.conf)
    )
    if blocks and seal:
        # two independent signs: wrong only if both are (the seal detector ~0.9 sure)
        best = _field(True, blocks[:1])
        combined = 1 - (1 - best.confidence) * (1 - SEAL_CONFIDENCE)
        return attrs.evolve(best, confidence=round(combined, 4))  # type: ignore[return-value]
    if blocks:
        # an unsealed block: signed, perhaps, but a person should look
        return attrs.evolve(_field(True, blocks[:1]), confidence=0.6)  # type: ignore[return-value]
    if seal:
        # a seal without a signature block is a seam seal or a seal stamped over the text,
        # not the signature page
        return Field(False, 0.6, "red seal", None)
    return Field(False, 0.9, "", None)


def _overlaps(a: Region, b: Region) -> bool:
    return a.page == b.page and a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _under_seal(field: Field[T], seals: Sequence[Region]) -> Field[T]:
    region = field.region
    if region is None or not any(_overlaps(region, seal) for seal in seals):
        return field
    return attrs.evolve(field, confidence=round(field.confidence * SEAL_OVERLAP_FACTOR, 4))


def parse_contract(
    pages: Sequence[Sequence[OcrLine]], seals: Sequence[Sequence[Region]] = ()
) -> Contract:
    """Read a contract from the OCR lines of its pages (in page order).

    ``seals[i]`` lists the red seals found on page ``i`` (see
    :func:`orderflow.intake.seal.find_seals`): a sealed page counts towards the
    signature, and a field whose text lies under a seal has its confidence
    multiplied by :data:`SEAL_OVERLAP_FACTOR` (seal ink hides strokes, so OCR can
    drop a character and still be sure of the rest). Fields the pages do not
    yield are :meth:`Field.missing`; nothing is guessed.
    """
    items: list[Item] = []
    for number, page_lines in enumerate(pages):
        placed = [ln if ln.page == number else _on_page(ln, number) for ln in page_lines]
        items.extend(layout_page(placed))
    per_page: dict[int, list[Item]] = {}
    for it in items:
        per_page.setdefault(it.line.page, []).append(it)
    found: list[ContractLine] = []
    for page_items in per_page.values():
        found.extend(_table_lines(page_items) or _prose_lines(page_items))
    stamps = [seal for page in seals for seal in page]

    def sealed(field: Field[T]) -> Field[T]:
        return _under_seal(field, stamps)

    lines = tuple(
        ContractLine(
            sealed(ln.model),
            sealed(ln.qty),
            sealed(ln.unit),
            sealed(ln.unit_price),
            sealed(ln.amount),
        )
        for ln in found
    )
    return Contract(
        buyer=sealed(_text_field("buyer", items, _party)),
        seller=sealed(_text_field("seller", items, _party)),
        number=sealed(_text_field("number", items, _contract_no)),
        delivery_address=sealed(_text_field("delivery_address", items, _party)),
        requested_date=sealed(_date_field(items)),
        lines=lines,
        signature=_signature(items, bool(stamps)),
    )


def _on_page(line: OcrLine, page: int) -> OcrLine:
    return OcrLine(line.text, line.box, line.confidence, page)
