"""Unseen setup of the ERP guide's examples: the plant's own copy of the K3 preset."""

import shutil
from pathlib import Path

import orderflow.erp

preset = Path(orderflow.erp.__file__).parent / "presets" / "kingdee-k3-wise.toml"
Path("plant").mkdir(exist_ok=True)
shutil.copy(preset, "plant/k3.toml")
