"""Synthetic contract photos with ground truth, for tests and the intake benchmark (R12).

:func:`generate` draws one contract (Pillow + a Debian CJK font) in one of
three layouts -- ``table`` (ruled table of lines), ``prose`` (one labelled
sentence per line), ``two_page`` (table, then a separate signature page) --
and, when ``degraded``, applies phone-photo damage: rotation up to ±8°,
perspective, blur, JPEG quality 35, uneven light, a red seal over the buyer's
name, or a missing signature page. Buyers come from :func:`demo_master`,
addresses from places the built-in geocoder knows, models from the demo
plant's products. :func:`write_corpus` saves images with a JSON ground truth
beside each contract.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from orderflow.domain.master import Customer
from orderflow.intake import _degrade
from orderflow.intake._render import Page, draw_seal, find_font, money
from orderflow.intake.matching import MasterData
from orderflow.serialization import unstructure
from orderflow.simulate.profile import PlantProfile, master_data

__all__ = [
    "DEGRADATIONS",
    "LAYOUTS",
    "ContractTruth",
    "GeneratedContract",
    "TruthLine",
    "demo_master",
    "generate",
    "write_corpus",
]

LAYOUTS = ("table", "prose", "two_page")
DEGRADATIONS = (
    "rotation",
    "perspective",
    "blur",
    "jpeg35",
    "uneven_light",
    "seal_over_text",
    "missing_signature_page",
)

_BRANDS = [
    "华东",
    "恒达",
    "精工",
    "永信",
    "鑫源",
    "宏达",
    "天力",
    "金鼎",
    "振华",
    "博远",
    "明泰",
    "通宇",
    "瑞丰",
    "海天",
    "嘉诚",
    "东方",
    "长城",
    "新亚",
    "科维",
    "联众",
]
_TRADES = [
    "机械",
    "阀门",
    "流体设备",
    "液压",
    "自动化设备",
    "管道工程",
    "水务",
    "化工装备",
    "暖通",
    "环保设备",
]
_SELLERS = ["浙江甬立液压阀门有限公司", "宁波北仑精密流体有限公司", "宁波甬江阀业有限公司"]
# (prefix, place): the place is a name the built-in geocoder knows
_PLACES = [
    ("浙江省宁波市", "北仑区"),
    ("浙江省宁波市", "鄞州区"),
    ("浙江省宁波市", "海曙区"),
    ("浙江省宁波市", "镇海区"),
    ("浙江省", "慈溪市"),
    ("浙江省", "余姚市"),
    ("浙江省宁波市", "宁海县"),
    ("浙江省杭州市", "萧山区"),
    ("上海市", "浦东新区"),
    ("上海市", "嘉定区"),
    ("上海市", "松江区"),
    ("江苏省苏州市", "吴江区"),
    ("江苏省", "昆山市"),
    ("江苏省", "常熟市"),
    ("广东省深圳市", "宝安区"),
    ("广东省深圳市", "龙岗区"),
    ("广东省", "东莞市"),
    ("广东省", "佛山市"),
    ("山东省", "青岛市"),
    ("湖北省", "武汉市"),
    ("四川省", "成都市"),
]
_STREETS = [
    "明州路",
    "新大路",
    "长江路",
    "黄山路",
    "工业大道",
    "科技园路",
    "滨海二路",
    "振兴东路",
    "迎宾大道",
    "创业路",
]
_UNITS = ["台", "套", "件", "个"]
_BUYER_LABELS = ["甲方（买方）：", "买方：", "需方："]
_SELLER_LABELS = ["乙方（卖方）：", "卖方：", "供方："]
_ADDRESS_LABELS = ["交货地址：", "收货地址：", "送货地点："]
_TERMS = [
    "质量标准：按国家标准及双方确认的技术协议执行。",
    "付款方式：货到验收合格后30日内付清全部货款。",
    "运输方式：乙方负责送货，运费由乙方承担。",
    "本合同一式两份，双方签字盖章后生效。",
]


@attrs.frozen
class TruthLine:
    """One product line as written on the synthetic contract."""

    model: str
    qty: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


@attrs.frozen
class ContractTruth:
    """What a synthetic contract says (and how it was drawn and damaged)."""

    buyer: str
    buyer_id: str
    seller: str
    number: str
    delivery_address: str
    requested_date: dt.date
    lines: tuple[TruthLine, ...]
    signature: bool
    layout: str
    degradations: tuple[str, ...]


@attrs.frozen
class GeneratedContract:
    """Encoded page images (JPEG or PNG bytes, in page order) and their ground truth."""

    pages: tuple[bytes, ...]
    truth: ContractTruth


def demo_master(seed: int = 2026, customers: int = 60) -> MasterData:
    """Master data for synthetic contracts: Chinese-named customers, the demo plant's products."""
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < customers:
        city = rng.choice(["宁波", "杭州", "上海", "苏州", "深圳", "东莞", "青岛", "武汉"])
        name = f"{city}{rng.choice(_BRANDS)}{rng.choice(_TRADES)}有限公司"
        if name not in names:
            names.append(name)
    people = [Customer(f"C{i:04d}", n, "A", Decimal(5_000_000)) for i, n in enumerate(names)]
    _, _, products = master_data(PlantProfile(), random.Random(seed))
    return MasterData(people, products)


def _truth(rng: random.Random, master: MasterData, index: int, layout: str) -> ContractTruth:
    customer = rng.choice(master.customers)
    lines = []
    for product in rng.sample(master.products, rng.randint(1, 4)):
        qty = Decimal(rng.choice([rng.randint(1, 20), rng.randint(20, 500)]))
        price = (Decimal(rng.randint(4_000, 2_000_000)) / 100).quantize(Decimal("0.01"))
        lines.append(TruthLine(product.code, qty, rng.choice(_UNITS), price, qty * price))
    prefix, place = rng.choice(_PLACES)
    street = f"{rng.choice(_STREETS)}{rng.randint(1, 999)}号"
    return ContractTruth(
        buyer=customer.name,
        buyer_id=customer.id,
        seller=rng.choice(_SELLERS),
        number=f"HT-{rng.randint(2025, 2026)}-{index:05d}",
        delivery_address=f"{prefix}{place}{street}",
        requested_date=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 400)),
        lines=tuple(lines),
        signature=True,
        layout=layout,
        degradations=(),
    )


def _date_text(day: dt.date, rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat() if rng.random() < 0.5 else day.strftime("%Y/%m/%d")


def _header(page: Page, t: ContractTruth, rng: random.Random) -> tuple[int, int]:
    page.centred(rng.choice(["购销合同", "工业品买卖合同", "产品订购合同"]), 46)
    page.labelled("合同编号：", t.number, split=False)
    signed = t.requested_date - dt.timedelta(days=rng.randint(10, 60))
    page.labelled("签订日期：", _date_text(signed, rng), split=False)
    buyer_at = (90 + 260, page.y + 14)
    page.labelled(rng.choice(_BUYER_LABELS), t.buyer, split=rng.random() < 0.3)
    page.labelled(rng.choice(_SELLER_LABELS), t.seller, split=rng.random() < 0.3)
    return buyer_at


def _lines_table(page: Page, t: ContractTruth, rng: random.Random) -> None:
    commas = rng.random() < 0.5
    page.line("一、产品名称、型号、数量及价款：", 28)
    columns = [
        ("序号", 80),
        ("型号", 190),
        ("品名", 150),
        ("数量", 120),
        ("单位", 100),
        ("单价(元)", 180),
        ("金额(元)", 240),
    ]
    rows = [
        [
            str(i + 1),
            ln.model,
            "液压阀",
            str(ln.qty),
            ln.unit,
            money(ln.unit_price, commas),
            money(ln.amount, commas),
        ]
        for i, ln in enumerate(t.lines)
    ]
    page.table(columns, rows)
    total = sum((ln.amount for ln in t.lines), Decimal(0))
    page.line(f"合计金额：¥{money(total, commas)}元", 28)


def _lines_prose(page: Page, t: ContractTruth, rng: random.Random) -> None:
    page.line("一、订购产品：", 28)
    for i, ln in enumerate(t.lines):
        text = (
            f"{i + 1}.型号：{ln.model}，数量：{ln.qty}{ln.unit}，单价："
            f"{money(ln.unit_price, False)}元，金额：{money(ln.amount, False)}元"
        )
        page.line(text, 27, x=110)


def _delivery(page: Page, t: ContractTruth, rng: random.Random) -> None:
    page.y += 10
    page.labelled(rng.choice(_ADDRESS_LABELS), t.delivery_address, split=rng.random() < 0.2)
    page.labelled(
        rng.choice(["交货日期：", "交货时间："]), _date_text(t.requested_date, rng), split=False
    )
    for i, term in enumerate(_TERMS):
        page.line(f"{'二三四五'[i]}、{term}", 26)


def _signature(page: Page, t: ContractTruth, font: str, rng: random.Random) -> Any:
    page.y += 40
    top = page.y
    page.text(90, "甲方（盖章）：")
    page.text(680, "乙方（盖章）：")
    page.y += 90
    page.text(90, "授权代表签字：")
    page.text(680, "授权代表签字：")
    page.y += 90
    page.text(90, "日期：")
    page.text(680, "日期：")
    image = draw_seal(page.image, (880 + rng.randint(-30, 30), top + 80), t.seller, font, rng)
    return draw_seal(image, (300 + rng.randint(-30, 30), top + 90), t.buyer, font, rng)


def generate(
    seed: int, index: int, *, degraded: bool, master: MasterData, font: str | None = None
) -> GeneratedContract:
    """Contract number ``index`` of the corpus ``seed`` (deterministic for both)."""
    font_path = find_font(font)
    rng = random.Random(f"{seed}:{index}")
    layout = LAYOUTS[index % len(LAYOUTS)]
    t = _truth(rng, master, index, layout)
    first = Page(font_path)
    buyer_at = _header(first, t, rng)
    (_lines_table if layout != "prose" else _lines_prose)(first, t, rng)
    _delivery(first, t, rng)
    if layout == "two_page":
        first.line("（以下为签字盖章页，无正文）", 26)
        second = Page(font_path)
        second.line("本页为合同签字盖章页。", 28)
        images = [first.image, _signature(second, t, font_path, rng)]
    else:
        images = [_signature(first, t, font_path, rng)]
    damage: list[str] = []
    if degraded:
        chosen = [d for d in DEGRADATIONS[1:6] if rng.random() < 0.4]
        if layout == "two_page" and rng.random() < 0.4:
            images = images[:1]
            chosen.append("missing_signature_page")
        damage = ["rotation", *chosen]
        if "seal_over_text" in damage:
            images[0] = draw_seal(images[0], buyer_at, t.seller, font_path, rng)
    pages = tuple(_photo(img, damage, rng) for img in images)
    signature = "missing_signature_page" not in damage
    return GeneratedContract(
        pages, attrs.evolve(t, signature=signature, degradations=tuple(damage))
    )


def _photo(img: Any, damage: list[str], rng: random.Random) -> bytes:
    if "perspective" in damage:
        img = _degrade.perspective(img, rng)
    if "rotation" in damage:
        img = _degrade.rotate(img, rng.uniform(-8, 8))
    if "uneven_light" in damage:
        img = _degrade.uneven_light(img, rng)
    if "blur" in damage:
        img = _degrade.blur(img, rng.uniform(0.8, 1.4))
    if "jpeg35" in damage:
        return _degrade.jpeg(img, 35)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG" if not damage else "JPEG", quality=85)
    return buffer.getvalue()


def write_corpus(
    directory: str | Path, count: int, seed: int = 17, *, master: MasterData | None = None
) -> list[Path]:
    """Write ``count`` contracts (half clean, half degraded) with ``cNNNN.json`` ground truth.

    Returns the truth files; page images are ``cNNNN_p1.jpg`` (``.png`` when clean).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    master = master or demo_master()
    written = []
    for i in range(count):
        contract = generate(seed, i, degraded=i % 2 == 1, master=master)
        names = []
        for p, data in enumerate(contract.pages, start=1):
            suffix = "png" if data.startswith(b"\x89PNG") else "jpg"
            name = f"c{i:04d}_p{p}.{suffix}"
            (out / name).write_bytes(data)
            names.append(name)
        truth = {"pages": names, **unstructure(contract.truth)}
        path = out / f"c{i:04d}.json"
        path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(path)
    return written
