"""Where the project's files are: the one place that knows the layout on disk."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
BASE_FILE = "base.yaml"
CDK_JSON = ROOT / "cdk.json"
CHECKOV_SKIPS = ROOT / "security" / "checkov-skips.yaml"
CONTROL_TOWER_WAIVERS = ROOT / "security" / "control-tower.yaml"
CACHE_DIR = ROOT / ".cache"
