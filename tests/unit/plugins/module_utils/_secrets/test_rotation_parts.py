# SPDX-License-Identifier: GPL-3.0-or-later
"""Secret rotation's pure parts: the alternating login roles, SCRAM verifiers, SQL and redis ACL rules."""
import base64
import hashlib
import hmac

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._secrets import rotation as r


def test_login_roles_alternate():
    assert r.next_login('u1_myapp') == 'u1_myapp_alt'
    assert r.next_login('u1_myapp', 'u1_myapp') == 'u1_myapp_alt'
    assert r.next_login('u1_myapp', 'u1_myapp_alt') == 'u1_myapp'
    with pytest.raises(ValueError, match="login role 'intruder' is neither u1_myapp nor u1_myapp_alt"):
        r.next_login('u1_myapp', 'intruder')


def test_scram_verifier_is_what_postgres_stores():
    salt = b'0123456789abcdef'
    verifier = r.scram_verifier('pencil', salt=salt)
    head, keys = verifier.split('$', 1)[1].split('$')
    iterations, salt_b64 = head.split(':')
    stored_b64, server_b64 = keys.split(':')
    assert verifier.startswith('SCRAM-SHA-256$4096:') and int(iterations) == 4096
    assert base64.b64decode(salt_b64) == salt
    salted = hashlib.pbkdf2_hmac('sha256', b'pencil', salt, 4096)
    assert base64.b64decode(stored_b64) == hashlib.sha256(hmac.new(salted, b'Client Key', hashlib.sha256).digest()).digest()
    assert base64.b64decode(server_b64) == hmac.new(salted, b'Server Key', hashlib.sha256).digest()
    assert 'pencil' not in verifier
    assert r.scram_verifier('pencil') != r.scram_verifier('pencil')  # a fresh salt each time


def test_prepare_creates_the_alternate_as_a_member_acting_as_the_owner():
    sql = r.prepare_sql('u1_myapp', 'u1_myapp_alt', 'SCRAM-SHA-256$4096:c2FsdA==$a:b')
    assert "CREATE ROLE \"u1_myapp_alt\" LOGIN" in sql and "WHERE rolname = 'u1_myapp_alt'" in sql
    assert 'GRANT "u1_myapp" TO "u1_myapp_alt";' in sql
    assert "ALTER ROLE \"u1_myapp_alt\" SET role = 'u1_myapp';" in sql
    assert sql.strip().endswith("ALTER ROLE \"u1_myapp_alt\" WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b';")


def test_prepare_back_to_the_owner_only_sets_its_password():
    assert r.prepare_sql('u1_myapp', 'u1_myapp', 'V') == "ALTER ROLE \"u1_myapp\" WITH LOGIN PASSWORD 'V';"


def test_retire_and_sessions_sql_quote_their_names():
    assert r.retire_sql('a"b') == 'ALTER ROLE "a""b" WITH PASSWORD NULL;'
    assert "usename = 'o''k'" in r.sessions_sql("o'k") and 'client_addr IS NOT NULL' in r.sessions_sql('x')


def test_redis_rules_carry_a_hash_never_the_password():
    secret = 'S3cretPassw0rd'
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert r.redis_prepare_args(secret) == ['ACL', 'SETUSER', 'default', 'on', '#' + digest]
    assert r.redis_retire_args(secret) == ['ACL', 'SETUSER', 'default', 'resetpass', '#' + digest]
    assert not [a for a in r.redis_prepare_args(secret) + r.redis_retire_args(secret) if secret in a]
