"""Notices: the customer's link once, stage news the policy names, alerts to purchasing."""

from __future__ import annotations

import json
from pathlib import Path

from orderflow.adapters.memory import MemoryStore
from orderflow.events import Relay
from orderflow.events.notify import FileNotifier, NoticeSink, NoticeTemplates
from orderflow.testing.contracts import MAINLINE, draft, seeded_service


def test_the_customer_gets_the_link_once_and_news_of_named_stages(tmp_path: Path) -> None:
    svc = seeded_service(MemoryStore())
    sub = svc.submit(draft(), actor="s")
    for event in MAINLINE:
        svc.fire(sub.order.id, event, actor="p")
    svc.record_scan("Q23-7", 850, direction="out", actor="wh.li")  # 50 left: under the safety
    svc.record_scan("Q23-7", 1, direction="out", actor="wh.li")  # 49: crossed the line
    out = tmp_path / "notices.jsonl"
    templates = NoticeTemplates(plant="恒锐机械", link_base="https://t.example/t/")
    sink = NoticeSink(svc.store, FileNotifier(out), svc.workflow.definition,
                      templates=templates, stages=svc.policy.notify_stages)  # fmt: skip
    Relay(svc.store, sink).run()
    sink.close()
    notices = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    texts = [n["text"] for n in notices]
    assert sub.query_token is not None
    assert texts[0] == (
        f"【恒锐机械】您的订单{sub.order.number}可实时追踪：https://t.example/t/{sub.query_token}"
    )
    assert [n["to"] for n in notices] == ["C001", "C001", "C001", "purchasing"]
    assert "生产中" in texts[1] and "已签收" in texts[2]  # the policy's two stages only
    assert sum(sub.query_token in t for t in texts) == 1  # the token: the link message only
    assert "Q23-7" in texts[3] and "49" in texts[3]
    for text in texts:  # no internal field: no price, supplier, operator
        assert "S1" not in text and "wh.li" not in text and "10.00" not in text
