"""Certificates for the simulator's sign-in apps (collector, responder, limited).

Entra only accepts RSA keys for client assertions (see shared/docs/simulator-notes.md), and MSAL signs
with RS256 (SHA-1 thumbprint) or PS256 (SHA-256 thumbprint). The key pair is derived from the tenant
seed so that the same seed gives the same certificate, thumbprint and keyCredential on every run: the
determinism tests, the demo state file and the benchmarks all rely on it. These keys protect nothing
but a loopback simulator, so a seeded generator is acceptable here and nowhere else.
"""
from __future__ import annotations

import base64
import hashlib
import os
import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_PUBLIC_EXPONENT = 65537
_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p ** 0.5) + 1))]


@dataclass(frozen=True)
class IdentityCertificate:
    private_key_pem: str
    certificate_pem: str
    certificate_der: bytes
    thumbprint_sha1: str      # hex, lowercase
    thumbprint_sha256: str    # hex, lowercase
    not_before: datetime
    not_after: datetime

    @property
    def key_base64(self) -> str:
        """keyCredential.key: the DER certificate, base64 (what Graph returns with $select=keyCredentials)."""
        return base64.b64encode(self.certificate_der).decode("ascii")

    @property
    def custom_key_identifier(self) -> str:
        """keyCredential.customKeyIdentifier defaults to the SHA-1 thumbprint; Graph sends it base64."""
        return base64.b64encode(bytes.fromhex(self.thumbprint_sha1)).decode("ascii")


def _is_probable_prime(candidate: int, rng: random.Random, rounds: int = 24) -> bool:
    if any(candidate % p == 0 for p in _SMALL_PRIMES):
        return candidate in _SMALL_PRIMES
    d, r = candidate - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, candidate - 2), d, candidate)
        if x in (1, candidate - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, candidate)
            if x == candidate - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        # top two bits set so p*q has exactly 2*bits bits; odd
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if (candidate - 1) % _PUBLIC_EXPONENT and _is_probable_prime(candidate, rng):
            return candidate


def _key_cache_dir() -> str:
    """Where derived keys are memoised across processes (the derivation costs about a second a key)."""
    return os.environ.get("ENTRA_SIMULATOR_KEY_CACHE") or os.path.join(
        tempfile.gettempdir(), f"entra-simulator-keys-{os.getuid() if hasattr(os, 'getuid') else 'user'}")


def _seeded_rsa_key(seed_text: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The key derived from seed_text; read from the cache when an earlier process derived it."""
    name = hashlib.sha256(f"{seed_text}/{bits}".encode()).hexdigest()[:32] + ".pem"
    path = os.path.join(_key_cache_dir(), name)
    try:
        with open(path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size == bits:
            return key
    except (OSError, ValueError, TypeError):
        pass
    key = _derive_rsa_key(seed_text, bits)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        os.replace(temporary, path)
    except OSError:
        pass    # a read-only temp dir only costs the next process the derivation
    return key


def _derive_rsa_key(seed_text: str, bits: int) -> rsa.RSAPrivateKey:
    rng = random.Random(hashlib.sha256(seed_text.encode()).digest())
    p = _prime(bits // 2, rng)
    q = _prime(bits // 2, rng)
    while q == p:
        q = _prime(bits // 2, rng)
    n, phi = p * q, (p - 1) * (q - 1)
    d = pow(_PUBLIC_EXPONENT, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=d, dmp1=d % (p - 1), dmq1=d % (q - 1), iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(_PUBLIC_EXPONENT, n),
    )
    return numbers.private_key()


@lru_cache(maxsize=16)
def identity_certificate(seed: int, name: str, display_name: str, not_before: datetime) -> IdentityCertificate:
    """A self-signed RSA certificate for one sign-in app; identical for identical arguments.

    RSA PKCS#1 v1.5 signatures are deterministic, so with a fixed key, serial and validity the
    certificate bytes (and so both thumbprints) are reproducible.
    """
    key = _seeded_rsa_key(f"entra-simulator/{seed}/{name}")
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, display_name)])
    serial = int.from_bytes(hashlib.sha256(f"{seed}/{name}/serial".encode()).digest()[:16], "big") >> 1
    not_after = not_before + timedelta(days=730)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return IdentityCertificate(
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii"),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        certificate_der=der,
        thumbprint_sha1=hashlib.sha1(der).hexdigest(),
        thumbprint_sha256=hashlib.sha256(der).hexdigest(),
        not_before=not_before.astimezone(timezone.utc),
        not_after=not_after.astimezone(timezone.utc),
    )


def write_identity_pem(directory: str, name: str, certificate: IdentityCertificate) -> str:
    """Write key + certificate to `<directory>/<name>.pem` (mode 0600) and return the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name}.pem")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(certificate.private_key_pem)
        handle.write(certificate.certificate_pem)
    return path
