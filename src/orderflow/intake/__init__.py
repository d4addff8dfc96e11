"""Contract photo -> order draft, offline (R12).

A salesperson photographs a signed contract; :class:`ContractIntake` reads it
with an OCR engine behind the :class:`OcrEngine` port (the bundled one is
:class:`orderflow.adapters.ocr_rapid.RapidOcrEngine`, extra ``ocr``), parses
buyer, seller, contract number, delivery address, product lines, requested
date and the signature page, matches them against master data, routes the
address to a factory and returns an :class:`IntakeResult`: an
:class:`~orderflow.service.OrderDraft` plus every field a person must
check. Nothing is submitted automatically.
"""

from orderflow.intake.matching import Candidate, MasterData, Match, match_customer, match_product
from orderflow.intake.model import Contract, ContractLine, Field, OcrLine, Region
from orderflow.intake.parser import parse_contract
from orderflow.intake.pipeline import DEFAULT_MIN_CONFIDENCE, ContractIntake
from orderflow.intake.ports import OcrEngine
from orderflow.intake.result import REASONS, IntakeResult, ReviewItem
from orderflow.intake.seal import find_seals, has_red_seal

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "REASONS",
    "Candidate",
    "Contract",
    "ContractIntake",
    "ContractLine",
    "Field",
    "IntakeResult",
    "MasterData",
    "Match",
    "OcrEngine",
    "OcrLine",
    "Region",
    "ReviewItem",
    "find_seals",
    "has_red_seal",
    "match_customer",
    "match_product",
    "parse_contract",
]
