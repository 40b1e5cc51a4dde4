"""Master key handling, encryption at rest and masking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from kaufland_sync.config import Settings
from kaufland_sync.logging import REDACTED, redact
from kaufland_sync.secrets import (
    MasterKeyError,
    SecretBox,
    SecretDecryptionError,
    load_master_key,
    mask,
)


def settings_in(tmp_path: Path, **kwargs: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **kwargs)  # type: ignore[arg-type]


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    first = load_master_key(settings)
    path = settings.master_key_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(settings) == first
    assert [p.name for p in path.parent.iterdir()] == ["master.key"]  # no temp file left


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    load_master_key(settings)
    os.chmod(settings.master_key_file, 0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_master_key(settings)


def test_key_from_the_environment_wins_and_is_checked(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    settings = settings_in(tmp_path, master_key=key.decode())
    assert load_master_key(settings) == key
    assert not settings.master_key_file.exists()
    with pytest.raises(MasterKeyError, match="KAUFLAND_SYNC_MASTER_KEY is not a valid key"):
        load_master_key(settings_in(tmp_path, master_key="short"))


def test_encrypt_decrypt_and_a_wrong_key_names_the_account() -> None:
    box = SecretBox(Fernet.generate_key())
    token = box.encrypt("my-secret-value")
    assert "my-secret-value" not in token
    assert box.encrypt("my-secret-value") != token  # random IV
    assert box.decrypt(token, account="shop") == "my-secret-value"
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(SecretDecryptionError, match="account 'shop'"):
        other.decrypt(token, account="shop")
    assert "master" not in repr(box).replace("<master key hidden>", "")


def test_mask_keeps_only_the_tail() -> None:
    assert mask("0123456789abcdef") == "••••••••cdef"
    assert mask("short") == "•••••"
    assert mask("") == ""


def test_log_redaction_covers_the_stored_names() -> None:
    event = {"secret_key": "s", "secret_key_encrypted": "t", "master_key": "m", "name": "shop"}
    assert redact(event) == {
        "secret_key": REDACTED,
        "secret_key_encrypted": REDACTED,
        "master_key": REDACTED,
        "name": "shop",
    }
