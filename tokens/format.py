"""The token format and its keyed digest.

A token reads ``cpat_<lookup id: 12><secret: 32><checksum: 6>``, all base62 after the prefix (55 characters):

- ``cpat_`` lets people and secret scanners recognise a leaked cellsadmin token;
- the lookup id (~71 bits) is public: it finds the row with one indexed query and names the token in logs;
- the secret (~190 bits) is random and never stored;
- the checksum is CRC32 of everything before it, so that typos, truncations and forged strings are refused
  without touching the database.

The database keeps ``HMAC-SHA256(pepper, lookup id + secret)`` under a versioned server key from
``TOKEN_PEPPERS`` (newest first). A random 190-bit secret needs no slow hash; the pepper means a stolen
database alone cannot be used to test guesses.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "cpat_"
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
LOOKUP_LENGTH = 12
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + LOOKUP_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH
_ALPHABET_SET = frozenset(ALPHABET)


@dataclass(frozen=True)
class ParsedToken:
    lookup_id: str
    secret: str


def _base62(number: int, length: int) -> str:
    digits = []
    for _ in range(length):
        number, remainder = divmod(number, 62)
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generate() -> tuple[str, ParsedToken]:
    """A new random token: (the plain string, its parts)."""
    parts = ParsedToken(lookup_id=_random(LOOKUP_LENGTH), secret=_random(SECRET_LENGTH))
    body = PREFIX + parts.lookup_id + parts.secret
    return body + _checksum(body), parts


def looks_like_token(raw: str) -> bool:
    """Whether ``raw`` claims to be a token (it may still be malformed); passwords never start so."""
    return raw.startswith(PREFIX)


def parse(raw: str) -> ParsedToken | None:
    """The parts of a well-formed token, or None; pure, costs no query."""
    if len(raw) != TOKEN_LENGTH or not raw.startswith(PREFIX):
        return None
    rest = raw[len(PREFIX) :]
    if not _ALPHABET_SET.issuperset(rest):
        return None
    body, checksum = raw[:-CHECKSUM_LENGTH], raw[-CHECKSUM_LENGTH:]
    if not hmac.compare_digest(_checksum(body), checksum):
        return None
    return ParsedToken(lookup_id=rest[:LOOKUP_LENGTH], secret=rest[LOOKUP_LENGTH : LOOKUP_LENGTH + SECRET_LENGTH])


@lru_cache(maxsize=8)
def _peppers(configured: tuple[str, ...]) -> tuple[tuple[int, bytes], ...]:
    keys = []
    for entry in configured:
        version, sep, key = entry.partition(":")
        if not sep or not version.isdigit() or not key:
            raise ImproperlyConfigured("TOKEN_PEPPERS entries must read VERSION:KEY, newest first.")
        keys.append((int(version), key.encode()))
    if not keys:
        raise ImproperlyConfigured("TOKEN_PEPPERS must name at least one key.")
    versions = [version for version, _key in keys]
    if len(set(versions)) != len(versions):
        # Each row names the version of the key it was hashed with: two keys of one version cannot both be it.
        raise ImproperlyConfigured("TOKEN_PEPPERS names a version twice: each key needs a version of its own.")
    return tuple(keys)


def check_peppers(configured: Sequence[str]) -> None:
    """Raise ImproperlyConfigured, saying what is wrong, unless ``configured`` (``settings.TOKEN_PEPPERS``) is a
    usable list of keys: checked at start-up, so that a mistyped list stops the instance rather than failing every
    token on its first use."""
    _peppers(tuple(configured))


def peppers() -> tuple[tuple[int, bytes], ...]:
    """Configured (version, key) pairs, newest first."""
    return _peppers(tuple(settings.TOKEN_PEPPERS))


def current_pepper_version() -> int:
    return peppers()[0][0]


def digest(parts: ParsedToken, version: int | None = None) -> tuple[int, str] | None:
    """(version, hex digest) under the pepper ``version`` (default: the newest); None if unknown."""
    for candidate, key in peppers():
        if version is None or candidate == version:
            message = (parts.lookup_id + parts.secret).encode("ascii")
            return candidate, hmac.digest(key, message, "sha256").hex()
    return None


_TOKEN_LIKE = re.compile(re.escape(PREFIX) + "[" + ALPHABET + "]+")
REDACTED = "[redacted]"


def _public_part(match: re.Match[str]) -> str:
    parsed = parse(match.group())
    return PREFIX + (parsed.lookup_id if parsed is not None else "") + REDACTED


def redact(text: str) -> str:
    """``text`` with every token-like string cut to what may be shown: ``cpat_<lookup id>[redacted]`` for a
    well-formed token (its public id names it, as logs do), ``cpat_[redacted]`` for anything else that follows
    the prefix (a mistyped or truncated token is still mostly secret)."""
    if PREFIX not in text:
        return text
    return _TOKEN_LIKE.sub(_public_part, text)
