# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret_lines filter: names, modes and ages of secrets, a warning on loose modes, never a value."""
from ansible_collections.projectdeployer.fleet.plugins.filter.secret_lines import secret_lines

NOW = 1_800_000_000


def _file(path, mode='0600', days=0):
    return {'path': path, 'mode': mode, 'mtime': NOW - days * 86400 - 5, 'size': 40}


def test_names_relative_to_the_folder_sorted_with_mode_and_age():
    files = [_file('/local/u1/a/prod/secrets/redis_password', days=1),
             _file('/local/u1/a/prod/secrets/run/redis/redis_redis.conf', '0400', days=30),
             _file('/local/u1/a/prod/secrets/postgres_password')]
    lines = secret_lines(files, now=NOW)
    assert [line.split()[0] for line in lines] == ['postgres_password', 'redis_password', 'run/redis/redis_redis.conf']
    assert lines[0].endswith('0600  changed today')
    assert lines[1].endswith('changed 1 day ago')
    assert lines[2].endswith('0400  changed 30 days ago')


def test_a_mode_others_can_read_is_flagged_with_the_fix():
    lines = secret_lines([_file('/s/secrets/api_key', '0644')], now=NOW)
    assert '⚠ readable by others: chmod 600 /s/secrets/api_key' in lines[0]


def test_files_kept_encrypted_say_so():
    files = [_file('/s/secrets/postgres_password'), _file('/s/secrets/postgres_login')]
    lines = secret_lines(files, vaulted=['/s/secrets/postgres_password'], now=NOW)
    assert lines[0].startswith('postgres_login') and not lines[0].endswith('ansible-vault')
    assert lines[1].startswith('postgres_password') and lines[1].endswith('changed today  ansible-vault')


def test_no_secrets():
    assert secret_lines([], now=NOW) == ['no secrets here']
