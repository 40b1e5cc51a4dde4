"""Small output helpers shared by commands: masking secrets and printing JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

# Diagnostics go to stderr so stdout stays machine-readable (JSON).
err = Console(stderr=True, highlight=False)


def mask(secret: str, keep: int = 4) -> str:
    """Show only the last few characters of a key: ``••••••••d403``."""
    if not secret:
        return ""
    if len(secret) <= keep * 2:
        return "•" * len(secret)
    return "•" * 8 + secret[-keep:]


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()
