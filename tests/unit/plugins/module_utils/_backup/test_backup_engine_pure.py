# SPDX-License-Identifier: GPL-3.0-or-later
"""_backup/engine's pure parts: where a backup_file points, and refusing a backup of another kind."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine

BACKUPS = '/local/u1/myapp/prod/backups'


# ---------------------------------------------------------------- resolve_backup

def test_a_name_joins_the_backups_dir():
    assert engine.resolve_backup(BACKUPS, 'postgres_backup_20240115_020000.dump') == \
        '/local/u1/myapp/prod/backups/postgres_backup_20240115_020000.dump'


def test_an_absolute_path_is_kept():
    assert engine.resolve_backup(BACKUPS, '/srv/copies/redis_backup_20240115_030000.rdb') == \
        '/srv/copies/redis_backup_20240115_030000.rdb'


@pytest.mark.parametrize('backup_file', [
    'sub/postgres_backup_20240115_020000.dump',
    '../other/backups/postgres_backup_20240115_020000.dump',
    './postgres_backup_20240115_020000.dump',
])
def test_a_relative_path_is_refused(backup_file):
    with pytest.raises(ValueError) as exc:
        engine.resolve_backup(BACKUPS, backup_file)
    msg = str(exc.value)
    assert 'backup_file' in msg and repr(backup_file) in msg
    assert 'backups.yml' in msg and 'absolute path' in msg


# ---------------------------------------------------------------- check_kind

def _path(name):
    return '%s/%s' % (BACKUPS, name)


@pytest.mark.parametrize('record,name,kind', [
    ({'kind': 'postgres'}, 'postgres_backup_20240115_020000.dump', 'postgres'),
    ({}, 'postgres_backup_20240115_020000.dump', 'postgres'),
    ({'kind': None}, 'main-db_backup_20240115_020000.dump', 'postgres'),
    ({}, 'postgres_backup_20240110_020000.sql', 'postgres'),          # the seed's plain dump
    ({'kind': 'postgres'}, 'postgres_backup_20240110_020000.sql', 'postgres'),
    ({'kind': 'redis'}, 'redis_backup_20240115_030000.rdb', 'redis'),
    ({}, 'cache_backup_20240115_030000.rdb', 'redis'),
    ({'kind': 'opensearch'}, 'search_backup_20240115_040000.tar', 'opensearch'),
])
def test_good_kinds_pass(record, name, kind):
    assert engine.check_kind(record, _path(name), kind) is None


def test_rdb_into_postgres_refused_naming_both_kinds():
    name = 'redis_backup_20240115_030000.rdb'
    with pytest.raises(ValueError) as exc:
        engine.check_kind({'kind': 'redis'}, _path(name), 'postgres')
    msg = str(exc.value)
    assert msg.startswith('%s is a redis backup, not one of a postgres service' % name)
    assert 'backups.yml' in msg
    # the name only, not the folder
    assert BACKUPS not in msg


def test_rdb_without_a_manifest_kind_names_the_extension():
    with pytest.raises(ValueError) as exc:
        engine.check_kind({}, _path('cache_backup_20240115_030000.rdb'), 'postgres')
    assert 'is a .rdb file, not one of a postgres service (.dump or .sql)' in str(exc.value)


@pytest.mark.parametrize('name,kind', [
    ('postgres_backup_20240115_020000.dump', 'redis'),
    ('postgres_backup_20240115_020000.sql', 'redis'),
    ('search_backup_20240115_040000.tar', 'postgres'),
    ('search_backup_20240115_040000.tar', 'redis'),
    ('redis_backup_20240115_030000.rdb', 'opensearch'),
])
def test_extension_of_another_kind_refused(name, kind):
    with pytest.raises(ValueError, match='not one of a %s service' % kind):
        engine.check_kind({}, _path(name), kind)


@pytest.mark.parametrize('recorded,name,kind', [
    # the right extension, but the manifest says the bytes are of another kind
    ('redis', 'postgres_backup_20240115_020000.dump', 'postgres'),
    ('postgres', 'redis_backup_20240115_030000.rdb', 'redis'),
    ('opensearch', 'postgres_backup_20240115_020000.sql', 'postgres'),
])
def test_manifest_kind_mismatch_refused(recorded, name, kind):
    with pytest.raises(ValueError) as exc:
        engine.check_kind({'kind': recorded}, _path(name), kind)
    assert 'is a %s backup, not one of a %s service' % (recorded, kind) in str(exc.value)


def test_unknown_service_kind_refused():
    with pytest.raises(ValueError, match='python'):
        engine.check_kind({}, _path('app_backup_20240115_020000.dump'), 'python')
