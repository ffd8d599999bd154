# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tenant's certificates on the controller (docs/tls.md): one directory per env, 0700, holding per domain

- ``DOMAIN.pem``: the private key and the full chain in one file, 0600 (what the servers get);
- ``DOMAIN.json``: the last attempt: ``failures`` (consecutive), ``last_attempt``, ``last_error``,
  ``issued`` (when the current certificate came), ``mode``.

An issuance writes the new key and chain to ``DOMAIN.new.key`` / ``DOMAIN.new.crt``; ``install`` checks
that the key is the certificate's, then replaces ``DOMAIN.pem`` in one rename, so a reader (the copy to
the servers) sees the old pair or the new one, never a mix.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - the controller has it (community.crypto needs it)
    HAS_CRYPTOGRAPHY = False

DIR_MODE = 0o700
FILE_MODE = 0o600
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


class StoreError(Exception):
    """One line a person can act on."""


def utc(value):
    """A naive-or-aware datetime as an aware UTC one."""
    return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value


def pem_path(directory, domain):
    return os.path.join(directory, domain + '.pem')


def state_path(directory, domain):
    return os.path.join(directory, domain + '.json')


def new_paths(directory, domain):
    """Where an issuance writes the new key and full chain before ``install``."""
    return os.path.join(directory, domain + '.new.key'), os.path.join(directory, domain + '.new.crt')


def describe(pem):
    """``{'not_before', 'not_after', 'serial', 'issuer', 'names'}`` of the first certificate in ``pem``."""
    certs = x509.load_pem_x509_certificates(pem.encode('ascii') if isinstance(pem, str) else pem)
    leaf = certs[0]
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    return {
        'not_before': utc(getattr(leaf, 'not_valid_before_utc', None) or leaf.not_valid_before),
        'not_after': utc(getattr(leaf, 'not_valid_after_utc', None) or leaf.not_valid_after),
        'serial': '%x' % leaf.serial_number,
        'issuer': leaf.issuer.rfc4514_string(),
        'names': sorted(names),
    }


def read_current(directory, domain):
    """The current certificate's description, or None (no file, or one that cannot be read)."""
    try:
        with open(pem_path(directory, domain), 'rb') as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    try:
        return describe(data)
    except ValueError:
        return None


def read_state(directory, domain):
    try:
        with open(state_path(directory, domain)) as handle:
            state = json.load(handle)
    except (FileNotFoundError, ValueError):
        return {}
    if state.get('last_attempt'):
        state['last_attempt'] = utc(datetime.datetime.strptime(state['last_attempt'], TIME_FORMAT))
    return state


def write_state(directory, domain, state):
    data = dict(state)
    if isinstance(data.get('last_attempt'), datetime.datetime):
        data['last_attempt'] = data['last_attempt'].strftime(TIME_FORMAT)
    write_atomic(state_path(directory, domain), json.dumps(data, indent=1, sort_keys=True) + '\n',
                 FILE_MODE, DIR_MODE)


def install(directory, domain, mode, now):
    """Put the new key and chain in place as ``DOMAIN.pem`` (the key must be the certificate's) and clear
    the failures. Returns the new certificate's description."""
    key_file, chain_file = new_paths(directory, domain)
    try:
        with open(key_file, 'rb') as handle:
            key_pem = handle.read()
        with open(chain_file, 'rb') as handle:
            chain_pem = handle.read()
    except FileNotFoundError as exc:
        raise StoreError('%s: the new certificate is missing (%s); fix: issue it again' % (domain, exc.filename))
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    except ValueError as exc:
        raise StoreError('%s: the new key or certificate cannot be read (%s); fix: issue it again' % (domain, exc))
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.PEM, public) != \
            leaf.public_key().public_bytes(serialization.Encoding.PEM, public):
        raise StoreError('%s: the new certificate is not for the new key; fix: issue it again' % domain)
    write_atomic(pem_path(directory, domain), key_pem.rstrip(b'\n') + b'\n' + chain_pem.lstrip(b'\n'),
                 FILE_MODE, DIR_MODE)
    for path in (key_file, chain_file):
        os.unlink(path)
    write_state(directory, domain, {'failures': 0, 'last_attempt': now, 'last_error': '', 'issued': now.strftime(
        TIME_FORMAT), 'mode': mode})
    return describe(chain_pem)


def record_failure(directory, domain, mode, now, error):
    """Count a failed attempt (the backoff grows with it); the current certificate stays."""
    state = read_state(directory, domain)
    state.update(failures=int(state.get('failures') or 0) + 1, last_attempt=now, last_error=error, mode=mode)
    write_state(directory, domain, state)
    for path in new_paths(directory, domain):
        if os.path.exists(path):
            os.unlink(path)
    return state
