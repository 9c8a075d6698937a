"""Encryption in transit for the embedded server, and the client side's sslmode.

With TLS on, the server folder holds a self-signed certificate and its key (``tls/``), the
data folder holds ``ehr2omop_tls.conf`` (ssl on, TLS 1.3 at least), and ``pg_hba.conf`` starts
with a block of ``hostnossl ... reject`` rules: a TCP connection without TLS is refused before
any other rule is read, and the rules after the block (whatever authentication they ask for)
apply to TLS connections only. With TLS off the block goes and ``ssl = off`` is written.

The certificate is made with the ``cryptography`` package (no ``openssl`` binary is assumed on
the machine). It names ``localhost`` and ``127.0.0.1`` and is its own CA, so a client can verify
it: ``PGSSLROOTCERT=<server folder>/tls/server.crt`` with ``sslmode=verify-full``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ehr2omop.errors import UserError

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
DEFAULT_SSL_MODE = "prefer"
MIN_PROTOCOL = "TLSv1.3"
CERT_DAYS = 825
RENEW_WITHIN = timedelta(days=30)
CONF_NAME = "ehr2omop_tls.conf"
INCLUDE_LINE = f"include_if_exists = '{CONF_NAME}'"
HBA_BEGIN = "# BEGIN ehr2omop tls: written by `ehr2omop db start --tls`, do not edit inside this block"
HBA_END = "# END ehr2omop tls"
# Refuse every TCP connection that did not negotiate TLS; the rules below the block then
# only ever see TLS connections.
HBA_RULES = [
    "hostnossl  all          all  0.0.0.0/0  reject",
    "hostnossl  all          all  ::/0       reject",
    "hostnossl  replication  all  0.0.0.0/0  reject",
    "hostnossl  replication  all  ::/0       reject",
]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

Owner = tuple[int, int] | None  # (uid, gid) the server runs as, when it is not the current user


def client_ssl_mode() -> str:
    """The sslmode clients use: EHR2OMOP_PGSSLMODE, default ``prefer``."""
    mode = os.environ.get("EHR2OMOP_PGSSLMODE", "").strip() or DEFAULT_SSL_MODE
    if mode not in SSL_MODES:
        raise UserError(f"EHR2OMOP_PGSSLMODE={mode!r} is not an sslmode: set it to one of {', '.join(SSL_MODES)}")
    return mode


def mismatch_message(exc: Exception, where: str) -> str | None:
    """One line for a connection that failed because client and server disagree on TLS, else None."""
    text = str(exc)
    mode = os.environ.get("EHR2OMOP_PGSSLMODE") or DEFAULT_SSL_MODE
    if "pg_hba.conf rejects connection" in text and "no encryption" in text:
        return (
            f"{where} accepts TLS connections only, and EHR2OMOP_PGSSLMODE={mode} does not use TLS: "
            "unset EHR2OMOP_PGSSLMODE (or set it to require), or switch TLS off with `ehr2omop db start --no-tls`"
        )
    if "server does not support SSL" in text:
        return (
            f"{where} has TLS off, and EHR2OMOP_PGSSLMODE={mode} requires it: "
            "switch TLS on (`ehr2omop db start --tls` for the embedded server), or set EHR2OMOP_PGSSLMODE=prefer"
        )
    return None


def wanted(flag: bool | None) -> bool | None:
    """TLS on or off as asked: the command-line flag, else EHR2OMOP_PG_TLS, else None (keep as is)."""
    if flag is not None:
        return flag
    text = os.environ.get("EHR2OMOP_PG_TLS", "").strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UserError(f"EHR2OMOP_PG_TLS={text!r} is not a switch: set it to 1 (TLS on) or 0 (TLS off), or unset it")


def cert_file(root: Path) -> Path:
    return root / "tls" / "server.crt"


def key_file(root: Path) -> Path:
    return root / "tls" / "server.key"


def is_enabled(data_dir: Path) -> bool:
    """Whether the server is configured for TLS (ssl on in the file this module owns)."""
    conf = data_dir / CONF_NAME
    if not conf.exists():
        return False
    return re.search(r"^\s*ssl\s*=\s*on\b", conf.read_text(), re.MULTILINE) is not None


def _write(path: Path, text: str | bytes, mode: int, owner: Owner) -> None:
    """Replace ``path`` atomically; the new file never exists with looser permissions than ``mode``."""
    data = text.encode() if isinstance(text, str) else text
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, *owner)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _certificate_current(root: Path) -> bool:
    from cryptography import x509

    cert, key = cert_file(root), key_file(root)
    if not cert.exists() or not key.exists():
        return False
    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    except ValueError:
        return False
    return loaded.not_valid_after_utc - datetime.now(UTC) > RENEW_WITHIN


def ensure_certificate(root: Path, owner: Owner) -> bool:
    """Make the self-signed certificate and key once (again when it nears expiry); True when new."""
    folder = cert_file(root).parent
    folder.mkdir(mode=0o755, exist_ok=True)
    if owner is not None:
        os.chown(folder, *owner)
    if _certificate_current(root):
        # keep the key private even if someone loosened it: the server refuses a readable key
        os.chmod(key_file(root), 0o600)
        if owner is not None:
            os.chown(key_file(root), *owner)
        return False
    key_pem, cert_pem = _self_signed()
    _write(key_file(root), key_pem, 0o600, owner)
    _write(cert_file(root), cert_pem, 0o644, owner)
    return True


def _self_signed() -> tuple[bytes, bytes]:
    """A P-256 key and a certificate for localhost / 127.0.0.1 signed by that key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ehr2omop embedded server"),
        ]
    )
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CERT_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _conf_text(root: Path, enabled: bool) -> str:
    head = "# Written by `ehr2omop db start`: TLS settings of the embedded server. Do not edit.\n"
    if not enabled:
        return head + "ssl = off\n"
    return head + "\n".join(
        [
            "ssl = on",
            f"ssl_cert_file = '{cert_file(root.resolve())}'",
            f"ssl_key_file = '{key_file(root.resolve())}'",
            f"ssl_min_protocol_version = '{MIN_PROTOCOL}'",
            "",
        ]
    )


def _hba_text(current: str, enabled: bool) -> str:
    """``current`` without this module's block, and with it before the first rule when ``enabled``."""
    lines = current.splitlines()
    if HBA_BEGIN not in lines and not enabled:
        return current
    if HBA_BEGIN in lines:
        start = lines.index(HBA_BEGIN)
        end = lines.index(HBA_END, start) if HBA_END in lines[start:] else start
        lines = lines[:start] + lines[end + 1 :]
    if enabled:
        first_rule = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), 0)
        lines = lines[:first_rule] + [HBA_BEGIN, *HBA_RULES, HBA_END] + lines[first_rule:]
    return "\n".join(lines) + "\n"


def apply(data_dir: Path, root: Path, enabled: bool, owner: Owner) -> bool:
    """Write the TLS settings and pg_hba block for ``enabled``; True when a file changed."""
    changed = False
    conf = data_dir / CONF_NAME
    if enabled or conf.exists():
        text = _conf_text(root, enabled)
        if not conf.exists() or conf.read_text() != text:
            _write(conf, text, 0o600, owner)
            changed = True
        main_conf = data_dir / "postgresql.conf"
        main_text = main_conf.read_text()
        if INCLUDE_LINE not in main_text.splitlines():
            sep = "" if main_text.endswith("\n") else "\n"
            _write(main_conf, f"{main_text}{sep}{INCLUDE_LINE}\n", 0o600, owner)
            changed = True
    hba = data_dir / "pg_hba.conf"
    current = hba.read_text()
    new = _hba_text(current, enabled)
    if new != current:
        _write(hba, new, 0o600, owner)
        changed = True
    return changed
