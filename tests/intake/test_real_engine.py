"""The real OCR engine (rapidocr, not mocked) on generated contract photos, offline."""

from __future__ import annotations

import socket
import sys
from typing import Any, NoReturn

import pytest

from orderflow.exceptions import MissingExtra
from orderflow.geo import TableGeocoder
from orderflow.intake import ContractIntake, IntakeResult, MasterData
from orderflow.intake.evaluate import score
from orderflow.intake.synthetic import GeneratedContract, generate

SEED = 17


def _read(
    engine: Any, master: MasterData, index: int, degraded: bool
) -> tuple[GeneratedContract, IntakeResult]:
    contract = generate(SEED, index, degraded=degraded, master=master)
    intake = ContractIntake(engine, master, TableGeocoder.builtin(), default_factory="NB1")
    return contract, intake.read(list(contract.pages))


@pytest.mark.parametrize("index", [0, 1, 2])  # table, prose, two pages
def test_clean_contract_is_read_right(engine: Any, master: MasterData, index: int) -> None:
    contract, result = _read(engine, master, index, degraded=False)
    wrong = [s for s in score(result, contract.truth) if not s.right]
    assert wrong == []
    assert result.draft is not None
    assert result.draft.customer_id == contract.truth.buyer_id
    assert [ln.product for ln in result.draft.lines] == [ln.model for ln in contract.truth.lines]
    assert len(result.image_sha256) == len(contract.pages)


def test_degraded_photo_has_no_silent_wrong_value(engine: Any, master: MasterData) -> None:
    contract, result = _read(engine, master, 1, degraded=True)
    assert "rotation" in contract.truth.degradations
    assert [s for s in score(result, contract.truth) if s.silent] == []


def test_intake_opens_no_network_connection(
    engine: Any, master: MasterData, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"intake tried to use the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    from orderflow.adapters.ocr_rapid import RapidOcrEngine, bundled_models

    bundled_models.cache_clear()  # load and check the models again, offline
    fresh = RapidOcrEngine(max_side=1280)
    contract, result = _read(fresh, master, 0, degraded=False)
    assert result.contract.buyer.value == contract.truth.buyer


def test_missing_rapidocr_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from orderflow.adapters import ocr_rapid

    monkeypatch.setitem(sys.modules, "rapidocr", None)
    ocr_rapid.bundled_models.cache_clear()
    with pytest.raises(MissingExtra, match=r'pip install "orderflow\[ocr\]"'):
        ocr_rapid.RapidOcrEngine()
    ocr_rapid.bundled_models.cache_clear()
