"""Secrets at rest: the master key, encryption of account secret keys, and masking for output.

The master key is a Fernet key (urlsafe base64 of 32 random bytes). It comes from
``KAUFLAND_SYNC_MASTER_KEY`` when set, else from ``data_dir/master.key``, which is created on first
use with mode 0600. A key file that group or others can read is refused: anyone who can read it
can decrypt every stored secret key. Losing the key makes stored secret keys unreadable (they
must be entered again), so it belongs in backups, kept apart from the database.

Secret keys are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, authenticated): a wrong master
key is detected, never turned into a garbage secret. ``cryptography`` is imported on first use so
that ``kaufland-sync --help`` stays fast.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

    from kaufland_sync.config import Settings

__all__ = [
    "MasterKeyError",
    "SecretBox",
    "SecretDecryptionError",
    "load_master_key",
    "mask",
    "secret_box",
]


class MasterKeyError(Exception):
    """The master key is missing, malformed, or its file is not private."""


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted with the current master key."""


def mask(secret: str, keep: int = 4) -> str:
    """Show only the last ``keep`` characters of a key: ``••••••••d403``; short values are masked
    entirely (showing half of a short key would give too much away)."""
    if not secret:
        return ""
    if len(secret) <= keep * 2:
        return "•" * len(secret)
    return "•" * 8 + secret[-keep:]


def _check_key(raw: bytes, source: str) -> bytes:
    key = raw.strip()
    try:
        decoded = base64.urlsafe_b64decode(key)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) != 32:
        raise MasterKeyError(
            f"the master key from {source} is not a valid key (urlsafe base64 of 32 bytes, "
            '44 characters); generate one with: python -c "from cryptography.fernet import '
            'Fernet; print(Fernet.generate_key().decode())"'
        )
    return key


def _check_private(path: Path) -> None:
    if sys.platform == "win32":  # POSIX modes do not describe Windows ACLs
        return
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise MasterKeyError(
            f"the master key file {path} can be read by other users (mode {mode:04o}); "
            f"make it private with: chmod 600 {path}"
        )


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` atomically with mode 0600; if another process created
    the file meanwhile, keep theirs (``os.link`` never replaces an existing file)."""
    from cryptography.fernet import Fernet

    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: keep its key
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def load_master_key(settings: Settings) -> bytes:
    """The master key: ``settings.master_key`` if set, else the key file (created on first use).

    Raises ``MasterKeyError`` for a malformed key or a key file readable by group/others.
    """
    if settings.master_key is not None:
        return _check_key(
            settings.master_key.get_secret_value().encode("ascii", "replace"),
            "KAUFLAND_SYNC_MASTER_KEY",
        )
    path = settings.master_key_file
    if not path.exists():
        _create_key_file(path)
    _check_private(path)
    return _check_key(path.read_bytes(), str(path))


class SecretBox:
    """Encrypts and decrypts secrets with one master key."""

    def __init__(self, master_key: bytes) -> None:
        from cryptography.fernet import Fernet

        self._fernet: Fernet = Fernet(master_key)

    def __repr__(self) -> str:
        return "SecretBox(<master key hidden>)"

    def encrypt(self, plain: str) -> str:
        """A Fernet token (ASCII text) holding ``plain``; a new random IV each time."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str, *, account: str) -> str:
        """The plain secret of ``token``. Raises ``SecretDecryptionError`` naming ``account`` when
        the master key is not the one the secret was encrypted with (or the token is damaged)."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretDecryptionError(
                f"cannot decrypt the secret key of account {account!r}: the master key in use is "
                "not the one it was stored with (check KAUFLAND_SYNC_MASTER_KEY or the master.key "
                f"file), or enter the secret key again with: kaufland-sync accounts set {account} "
                "--secret-key ..."
            ) from None


def secret_box(settings: Settings) -> SecretBox:
    """A ``SecretBox`` with the master key of ``settings``."""
    return SecretBox(load_master_key(settings))
