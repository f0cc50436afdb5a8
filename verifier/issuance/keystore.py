"""The private key file store (SPEC §7 ``SKK_KEYS_DIR``): ``<kid>.pem``, encrypted, mode 0600.

No cryptography here: :mod:`verifier.core.keys` turns keys into encrypted PKCS#8 PEM and back. This
module makes sure those bytes never sit in a file others can read, never in a half-written file,
and never outside the keys folder (a kid is checked before it becomes part of a path).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from verifier.core.credential import KID_RE
from verifier.core.errors import ConfigurationError, Conflict, InvalidInput
from verifier.core.keys import SigningKey

#: Largest key file read; an encrypted PKCS#8 PEM of an Ed25519 or P-256 key is under 1 KiB.
MAX_KEY_FILE_BYTES = 64 * 1024


class PrivateKeyStore:
    """Encrypted private keys as ``<kid>.pem`` in one folder, each decrypted once per store."""

    def __init__(self, keys_dir: Path, passphrase: str | None) -> None:
        self.keys_dir = Path(keys_dir)
        # None and "" both mean "not configured": an empty passphrase protects nothing.
        self._passphrase = passphrase or None
        # Batch issuance signs thousands of tokens with one key; decrypting (a PBKDF2 run)
        # and re-reading the file for each would be waste, so keys stay here once loaded.
        self._cache: dict[str, SigningKey] = {}

    def __repr__(self) -> str:
        return f"PrivateKeyStore({str(self.keys_dir)!r})"

    def save(self, key: SigningKey) -> Path:
        """Write ``key`` as a new encrypted PKCS#8 file, mode 0600; Conflict if it exists."""
        pem = key.to_encrypted_pem(self._require_passphrase())
        path = _write_new_file(self.keys_dir, _key_path(self.keys_dir, key.kid), pem)
        self._cache[key.kid] = key
        return path

    def load(self, kid: str) -> SigningKey:
        """The signing key ``kid``, decrypted with the store's passphrase."""
        passphrase = self._require_passphrase()
        path = _key_path(self.keys_dir, kid)  # validates kid before any file access
        cached = self._cache.get(kid)
        if cached is not None:
            return cached
        data = _read_private_file(path, f"no private key for {kid} in {self.keys_dir}")
        key = SigningKey.from_encrypted_pem(data, passphrase, str(path))
        if key.kid != kid:
            raise ConfigurationError(f"{path} holds the key {key.kid}, not {kid}")
        self._cache[kid] = key
        return key

    def opens(self, kid: str) -> bool:
        """True when this host can sign with ``kid``: its file is here, private (mode 0600),
        and the configured passphrase decrypts it to that very key."""
        try:
            self.load(kid)
        except (ConfigurationError, InvalidInput):
            return False
        return True

    def has(self, kid: str) -> bool:
        """True when a private key file for ``kid`` exists; False for anything not a kid."""
        if kid in self._cache:
            return True
        try:
            return _key_path(self.keys_dir, kid).is_file()
        except InvalidInput:
            return False

    def _require_passphrase(self) -> str:
        if self._passphrase is None:
            raise ConfigurationError("SKK_KEY_PASSPHRASE is required to create or use private keys")
        return self._passphrase


def _key_path(keys_dir: Path, kid: str) -> Path:
    """``keys_dir/<kid>.pem``; InvalidInput unless kid matches KID_RE (no path traversal)."""
    if not isinstance(kid, str) or not KID_RE.fullmatch(kid):
        raise InvalidInput(f"{str(kid)[:40]!r} is not a key id (16 base64url characters)")
    return keys_dir / f"{kid}.pem"


def _write_new_file(directory: Path, target: Path, data: bytes) -> Path:
    """Create ``target`` with mode 0600 atomically; Conflict when it already exists."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.exists():
            raise Conflict(f"{target} already exists; refusing to overwrite a private key")
        # Write a temporary file in the same folder, then rename: readers see no file or the
        # whole file. The file is born 0600 (os.open's mode), never chmod-ed after the fact.
        # Between exists() and replace() another writer could only have saved the same kid,
        # which is the same key (the kid is a hash of it), so that race cannot lose a key.
        temp = directory / f".{target.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(target)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_directory(directory)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def _read_private_file(path: Path, missing: str) -> bytes:
    """The file's bytes; ConfigurationError (``missing`` if absent) when unreadable or too open."""
    try:
        # O_NONBLOCK: a FIFO planted under the name must not hang the process.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigurationError(missing) from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as handle:
            # fstat the opened file, not the name, so nothing can be swapped in between.
            _check_private_mode(path, os.fstat(handle.fileno()).st_mode)
            return handle.read(MAX_KEY_FILE_BYTES)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None


def _check_private_mode(path: Path, mode: int) -> None:
    """SPEC §7: a key file others could read is refused, not silently used."""
    if not stat.S_ISREG(mode):
        raise ConfigurationError(f"{path} is not a regular file")
    if mode & 0o077:
        raise ConfigurationError(
            f"{path} is accessible to group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}`"
        )


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable: a key file lost in a crash could not sign again."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
