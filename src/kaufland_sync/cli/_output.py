"""Small output helpers shared by commands: masking secrets and printing JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from kaufland_sync.secrets import mask

__all__ = ["err", "mask", "print_json"]

# Diagnostics go to stderr so stdout stays machine-readable (JSON).
err = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()
