"""Identifiers that carry their own index, so the tenant needs no lookup tables.

Every generated id is a valid lowercase version-4 GUID. Its last 48 bits are an invertible scramble
of (kind, index); the first 80 bits are a keyed hash of those 48 bits and the seed, so ids look random,
differ between seeds, and a GUID that the tenant never issued decodes to None instead of to a
neighbour. `decode` is O(1): unscramble, then rebuild the GUID and compare.
"""
from __future__ import annotations

import base64
import hashlib
import uuid
from enum import IntEnum

_MASK48 = (1 << 48) - 1
_MULT_A = 0x9E3779B97F4B | 1
_MULT_B = 0xC2B2AE3D27D5 | 1
_INV_A = pow(_MULT_A, -1, 1 << 48)
_INV_B = pow(_MULT_B, -1, 1 << 48)
INDEX_BITS = 40
MAX_INDEX = (1 << INDEX_BITS) - 1


class Kind(IntEnum):
    """What an id names; part of the encoded value, so ids of different kinds never collide."""
    APPLICATION = 1
    SERVICE_PRINCIPAL = 2
    APP_ID = 3
    PASSWORD_ON_APPLICATION = 4
    PASSWORD_ON_SERVICE_PRINCIPAL = 5
    KEY_ON_APPLICATION = 6
    KEY_ON_SERVICE_PRINCIPAL = 7
    FEDERATED_CREDENTIAL = 8
    USER = 9
    SIGN_IN = 10
    CORRELATION = 11
    TENANT = 12
    EXTERNAL_TENANT = 13
    DIRECTORY_AUDIT = 14
    REQUEST = 15
    PERMISSION_SCOPE = 16


CREDENTIAL_SLOTS = 16   # credentials per object and kind: index = object_index * 16 + ordinal


def _scramble(value: int, key: int) -> int:
    value ^= key
    value = (value * _MULT_A) & _MASK48
    value ^= value >> 24
    value = (value * _MULT_B) & _MASK48
    value ^= value >> 24
    return value


def _unscramble(value: int, key: int) -> int:
    value ^= value >> 24          # x ^= x >> 24 is its own inverse on 48 bits
    value = (value * _INV_B) & _MASK48
    value ^= value >> 24
    value = (value * _INV_A) & _MASK48
    return value ^ key


class IdCodec:
    """Seeded GUID factory: guid(kind, index) <-> decode(guid)."""

    def __init__(self, seed: int):
        digest = hashlib.sha256(f"entra-simulator-ids/{seed}".encode()).digest()
        self._key = int.from_bytes(digest[:6], "big")
        self._hash_key = digest[6:22]

    def guid(self, kind: Kind, index: int) -> str:
        if not 0 <= index <= MAX_INDEX:
            raise ValueError(f"index {index} out of range")
        low = _scramble((int(kind) << INDEX_BITS) | index, self._key)
        high = hashlib.blake2b(low.to_bytes(6, "big"), digest_size=10, key=self._hash_key).hexdigest()
        variant = "89ab"[int(high[16], 16) & 3]
        return f"{high[0:8]}-{high[8:12]}-4{high[13:16]}-{variant}{high[17:20]}-{low:012x}"

    def decode(self, value) -> tuple[Kind, int] | None:
        """(kind, index) for an id this codec issued, else None. Accepts any case."""
        if not isinstance(value, str) or len(value) != 36:
            return None
        value = value.lower()
        try:
            low = int(value[24:], 16)
        except ValueError:
            return None
        plain = _unscramble(low, self._key)
        kind_number, index = plain >> INDEX_BITS, plain & MAX_INDEX
        try:
            kind = Kind(kind_number)
        except ValueError:
            return None
        return (kind, index) if self.guid(kind, index) == value else None

    def index_of(self, value, kind: Kind) -> int | None:
        decoded = self.decode(value)
        return decoded[1] if decoded and decoded[0] == kind else None


def guid_bytes_le(value: str) -> bytes:
    """A GUID's bytes in .NET (little-endian) order, as Entra encodes them inside other ids."""
    return uuid.UUID(value).bytes_le


def guid_from_bytes_le(data: bytes) -> str:
    return str(uuid.UUID(bytes_le=data))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
