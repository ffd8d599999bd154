# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secret rotation of postgres and redis with no failed request: pure parts (names, SQL, ACL rules).

A rotation has two moments on the database, with the dependents redeployed between them:

1. **prepare**: the new password starts working while the old one still does;
2. the dependents are redeployed with the new secret (zero-downtime toggles: the old
   containers keep theirs until they stop);
3. **retire**: the old password stops working.

postgres has one password per role, so two login roles alternate: the owner role
``{user}_{project}`` (which the database was created with) and ``{owner}_alt``, a member of
the owner whose sessions ``SET ROLE`` to the owner, so whatever either creates belongs to the
owner. Prepare gives the next login role the new password; retire takes the password away
from the previous one. redis keeps a list of password hashes per ACL user: prepare adds the
new one, retire keeps only it. No password is ever on a command line: postgres gets a SCRAM
verifier, redis a sha256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup.postgres import ident as _ident
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup.postgres import literal as _literal

ALT_SUFFIX = '_alt'
SCRAM_ITERATIONS = 4096


def next_login(owner, current=None):
    """The role clients log in as after this rotation: the owner and ``{owner}_alt`` take turns."""
    current = current or owner
    if current not in (owner, owner + ALT_SUFFIX):
        raise ValueError('login role %r is neither %s nor %s%s: the _login file was edited; fix: write one of them'
                         % (current, owner, owner, ALT_SUFFIX))
    return owner + ALT_SUFFIX if current == owner else owner


def scram_verifier(password, salt=None, iterations=SCRAM_ITERATIONS):
    """The ``SCRAM-SHA-256$iter:salt$StoredKey:ServerKey`` verifier PostgreSQL stores for ``password``."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)
    client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()
    return 'SCRAM-SHA-256$%d:%s$%s:%s' % (iterations, _b64(salt), _b64(stored_key), _b64(server_key))


def _b64(raw):
    return base64.b64encode(raw).decode('ascii')


def prepare_sql(owner, login, verifier):
    """SQL giving ``login`` the new password (created as the owner's alternate if it is not the owner)."""
    lines = []
    if login != owner:
        lines += [
            'DO $fleet$ BEGIN',
            '  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) THEN' % _literal(login),
            '    EXECUTE %s;' % _literal('CREATE ROLE %s LOGIN' % _ident(login)),
            '  END IF;',
            'END $fleet$;',
            'GRANT %s TO %s;' % (_ident(owner), _ident(login)),
            'ALTER ROLE %s SET role = %s;' % (_ident(login), _literal(owner)),
        ]
    lines.append('ALTER ROLE %s WITH LOGIN PASSWORD %s;' % (_ident(login), _literal(verifier)))
    return '\n'.join(lines)


def sessions_sql(login):
    """How many sessions still log in as ``login`` (over the network: the dependents)."""
    return ("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND client_addr IS NOT NULL"
            % _literal(login))


def retire_sql(login):
    """SQL that makes ``login``'s password stop working (local tooling over the socket is not affected)."""
    return 'ALTER ROLE %s WITH PASSWORD NULL;' % _ident(login)


def redis_hash(password):
    return hashlib.sha256(password.encode('utf-8')).hexdigest()


def redis_prepare_args(password):
    """ACL SETUSER arguments adding the new password (the old one keeps working)."""
    return ['ACL', 'SETUSER', 'default', 'on', '#' + redis_hash(password)]


def redis_retire_args(password):
    """ACL SETUSER arguments leaving the new password the only one."""
    return ['ACL', 'SETUSER', 'default', 'resetpass', '#' + redis_hash(password)]
