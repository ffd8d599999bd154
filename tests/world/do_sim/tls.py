# SPDX-License-Identifier: GPL-3.0-or-later
"""A test CA and a server certificate for the simulator, made once per state directory.

``<state>/tls/ca.pem`` is what clients trust; ``server.pem``/``server.key`` (signed by the CA,
for localhost, 127.0.0.1 and ::1 plus any extra names) is what the server presents. The CA key
stays in ``ca.key`` (0600) so that a later start can issue a leaf for more names.
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_NAMES = ('localhost', '127.0.0.1', '::1')


def _write(path, data, mode):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _san(names):
    out = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return out


def _covers(cert_path, names):
    try:
        with open(cert_path, 'rb') as f:
            cert = x509.load_pem_x509_certificate(f.read())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v) for v in san.get_values_for_type(x509.DNSName)}
    have |= {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    not_after = cert.not_valid_after_utc
    fresh = not_after > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    return fresh and all(_norm(n) in have for n in names)


def _norm(name):
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def ensure(state_dir, extra_names=()):
    """(ca_path, cert_path, key_path), generating what is missing."""
    d = os.path.join(state_dir, 'tls')
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o700)
    ca_path, ca_key_path = os.path.join(d, 'ca.pem'), os.path.join(d, 'ca.key')
    cert_path, key_path = os.path.join(d, 'server.pem'), os.path.join(d, 'server.key')
    names = list(dict.fromkeys(list(DEFAULT_NAMES) + list(extra_names)))
    now = datetime.datetime.now(datetime.timezone.utc)

    if not (os.path.exists(ca_path) and os.path.exists(ca_key_path)):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'projectdeployer.fleet test world'),
                             x509.NameAttribute(NameOID.COMMON_NAME, 'fleet do_sim test CA')])
        ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        ca = (x509.CertificateBuilder()
              .subject_name(subject).issuer_name(subject)
              .public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1))
              .not_valid_after(now + datetime.timedelta(days=3650))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                           crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(ski, critical=False)
              .sign(ca_key, hashes.SHA256()))
        _write(ca_key_path, _key_pem(ca_key), 0o600)
        _write(ca_path, ca.public_bytes(serialization.Encoding.PEM), 0o644)
        for p in (cert_path, key_path):  # a new CA invalidates the old leaf
            if os.path.exists(p):
                os.unlink(p)

    if not (os.path.exists(key_path) and _covers(cert_path, names)):
        with open(ca_key_path, 'rb') as f:
            ca_key = serialization.load_pem_private_key(f.read(), password=None)
        with open(ca_path, 'rb') as f:
            ca = x509.load_pem_x509_certificate(f.read())
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(ca.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=825))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectAlternativeName(_san(names)), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write(key_path, _key_pem(key), 0o600)
        _write(cert_path, leaf.public_bytes(serialization.Encoding.PEM), 0o644)
    return ca_path, cert_path, key_path
