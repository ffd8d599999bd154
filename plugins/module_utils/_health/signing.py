# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signed requests to the health agent (pure).

A request carries its tenant (``u1/myapp/prod``), a timestamp, a random nonce and an HMAC-SHA256 over
the method, the path, the tenant, the timestamp, the nonce and the body's sha256, keyed with the project
env's agent key (``secrets/health_agent.key`` on the controller and its servers; during a rotation the
previous key is valid too). The agent accepts a request only when the signature matches one of the
tenant's keys (``hmac.compare_digest``), the timestamp is within ``WINDOW`` seconds of its clock and the
nonce was not seen within that window (a replay). The tenant then scopes everything the request can do.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time

WINDOW = 300
TENANT = 'X-Fleet-Tenant'
TIMESTAMP = 'X-Fleet-Timestamp'
NONCE = 'X-Fleet-Nonce'
SIGNATURE = 'X-Fleet-Signature'
EPOCH = 'X-Fleet-Epoch'
NONCE_RE = re.compile(r'^[0-9a-f]{32}$')
TENANT_RE = re.compile(r'^[a-z][a-z0-9]{0,15}/[a-z][a-z0-9-]{0,30}/[a-z][a-z0-9]{0,15}$')
MAX_NONCES = 200000


def canonical(method, path, tenant, timestamp, nonce, body):
    """The signed text: one field per line, the body as its sha256."""
    return '\n'.join([method.upper(), path, tenant, str(timestamp), nonce,
                      hashlib.sha256(body or b'').hexdigest()]).encode('utf-8')


def signature(key, method, path, tenant, timestamp, nonce, body):
    return hmac.new(key.encode('utf-8'), canonical(method, path, tenant, timestamp, nonce, body),
                    hashlib.sha256).hexdigest()


def sign(key, tenant, method, path, body=b'', now=None, nonce=None):
    """The headers that sign a request of ``tenant`` with ``key``."""
    timestamp = int(time.time() if now is None else now)
    nonce = nonce or os.urandom(16).hex()
    return {TENANT: tenant, TIMESTAMP: str(timestamp), NONCE: nonce,
            SIGNATURE: signature(key, method, path, tenant, timestamp, nonce, body)}


class NonceCache(object):
    """The nonces seen within the window (bounded: the oldest go first when it is full)."""

    def __init__(self, window=WINDOW, limit=MAX_NONCES):
        self.window, self.limit = window, limit
        self.seen = {}

    def fresh(self, nonce, now):
        """Remember ``nonce``; False when it was seen within the window (a replay)."""
        if len(self.seen) >= self.limit or len(self.seen) % 1024 == 0:
            for old in [n for n, at in self.seen.items() if at < now - self.window]:
                del self.seen[old]
            while len(self.seen) >= self.limit:
                del self.seen[min(self.seen, key=self.seen.get)]
        if nonce in self.seen:
            return False
        self.seen[nonce] = now
        return True


def verify(headers, method, path, body, keys_of, nonces, now=None):
    """``(tenant, None)`` for a good request, ``(None, reason)`` otherwise.

    ``headers``: a mapping with case-insensitive ``get`` (or exact names); ``keys_of(tenant)``: the
    tenant's valid keys (empty for a tenant this server does not know).
    """
    now = time.time() if now is None else now
    tenant, stamp = headers.get(TENANT) or '', headers.get(TIMESTAMP) or ''
    nonce, given = headers.get(NONCE) or '', headers.get(SIGNATURE) or ''
    if not (tenant and stamp and nonce and given):
        return None, 'unsigned'
    if not TENANT_RE.match(tenant) or not NONCE_RE.match(nonce) or not stamp.isdigit():
        return None, 'malformed signature headers'
    if abs(now - int(stamp)) > WINDOW:
        return None, 'stale timestamp (%+d s)' % (int(stamp) - now)
    keys = [k for k in keys_of(tenant) if k]
    if not keys:
        return None, 'unknown tenant %s' % tenant
    if not any(hmac.compare_digest(signature(k, method, path, tenant, stamp, nonce, body), given) for k in keys):
        return None, 'bad signature'
    if not nonces.fresh(nonce, now):
        return None, 'replayed nonce'
    return tenant, None
