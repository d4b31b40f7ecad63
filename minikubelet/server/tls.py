"""The HTTPS listener's credentials: a private CA, a serving certificate, a bearer token.

Made at the first start with `--listen` and kept under `<state>/pki/` (every file 0600): the
CA's certificate goes into the kubeconfig as `certificate-authority-data`, so kubectl and the
Python client verify the server as they would a cluster's. The serving certificate is made
again (by the same CA, so kubeconfigs stay valid) when the listen address is not among its
subject alternative names or it is about to expire. `cryptography` does the X.509 work:
hand-made ASN.1 would be the riskiest code in the project.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "Credentials",
    "client_cipher_order",
    "ensure_credentials",
    "parse_listen",
    "server_url",
]

_VALIDITY = timedelta(days=3650)
_RENEW_BEFORE = timedelta(days=30)
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Credentials:
    ca_pem: bytes
    cert_file: Path
    key_file: Path
    token: str


def parse_listen(text: str) -> tuple[str, int]:
    """`PORT` (loopback), `HOST:PORT` or `[V6]:PORT`; raises ValueError with the reason."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'invalid listen address "{text}": want HOST:PORT, e.g. 127.0.0.1:6443')
    return host, int(port)


def server_url(host: str, port: int) -> str:
    """The URL clients use: a wildcard address is reached on loopback."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


def client_cipher_order(_config: object, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """The listener's TLS context (a uvicorn `ssl_context_factory`): the client's cipher order
    wins, as with Go's API server. Python sets server preference, and OpenSSL's first TLS 1.3
    suite is AES-256-GCM; Go's client, like the API server, puts AES-128-GCM first on hardware
    with AES instructions, which costs kubectl and the agent a third fewer AES rounds per byte
    (port-forward moves every byte through both)."""
    context = default()
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    return context


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


CAKey = ec.EllipticCurvePrivateKey


def _load_or_make_ca(pki: Path, now: datetime) -> tuple[x509.Certificate, CAKey]:
    cert_file, key_file = pki / "ca.crt", pki / "ca.key"
    if cert_file.exists() and key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return x509.load_pem_x509_certificate(cert_file.read_bytes()), key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "minikubelet-ca")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_file, _key_pem(key))
    _write_private(cert_file, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _names(host: str) -> tuple[list[str], list[Address]]:
    """The serving certificate's SANs: the listen host, loopback, and this machine's name."""
    dns = {"localhost", socket.gethostname().lower()}
    ips: set[Address] = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    try:
        ips.add(ipaddress.ip_address(host))
    except ValueError:
        dns.add(host.lower())
    return sorted(dns), sorted(ips, key=str)


def _covers(cert: x509.Certificate, host: str, now: datetime) -> bool:
    if cert.not_valid_after_utc - _RENEW_BEFORE < now:
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns, ips = _names(host)
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = set(san.get_values_for_type(x509.IPAddress))
    return set(dns) <= have_dns and set(ips) <= have_ips


def _make_serving(
    pki: Path, host: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, now: datetime
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    dns, ips = _names(host)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(ip) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "minikubelet")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(pki / "server.key", _key_pem(key))
    _write_private(pki / "server.crt", cert.public_bytes(serialization.Encoding.PEM))


def _token(home: Path) -> str:
    path = home / "token"
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    _write_private(path, (token + "\n").encode())
    return token


def ensure_credentials(home: Path, host: str, now: datetime) -> Credentials:
    """The CA, a serving certificate valid for `host`, and the token; made when missing."""
    pki = home / "pki"
    pki.mkdir(mode=0o700, exist_ok=True)
    os.chmod(pki, 0o700)
    ca, ca_key = _load_or_make_ca(pki, now)
    cert_file, key_file = pki / "server.crt", pki / "server.key"
    if not (cert_file.exists() and key_file.exists()) or not _covers(
        x509.load_pem_x509_certificate(cert_file.read_bytes()), host, now
    ):
        _make_serving(pki, host, ca, ca_key, now)
    return Credentials(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM),
        cert_file=cert_file,
        key_file=key_file,
        token=_token(home),
    )
