# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.backup_info: sizes for people, the table, and verifying listed backups."""
import os
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files
from ansible_collections.projectdeployer.fleet.plugins.modules import backup_info as mod

T0 = datetime(2024, 1, 15, 2, 0, 0, tzinfo=timezone.utc)
KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


# ---------------------------------------------------------------- human_size

@pytest.mark.parametrize('size,text', [
    (0, '0 B'),
    (1, '1 B'),
    (1023, '1023 B'),
    (KIB, '1.0 KiB'),
    (1536, '1.5 KiB'),
    (10 * KIB + 100, '10.1 KiB'),
    (MIB, '1.0 MiB'),
    (MIB + MIB // 2, '1.5 MiB'),
    (GIB, '1.0 GiB'),
    (3 * GIB + GIB // 2, '3.5 GiB'),
    (2048 * GIB, '2048.0 GiB'),      # no TiB: GiB is the largest unit
    (MIB - 1, '1.0 MiB'),            # rounds up into the next unit, never "1024.0 KiB"
    (GIB - 1, '1.0 GiB'),
])
def test_human_size(size, text):
    assert mod.human_size(size) == text


# ---------------------------------------------------------------- table

def _record(name, size=1234, status='ok', problem=None, version='15.8'):
    service, when, ext = files.parse_backup_name(name)
    return {'name': name, 'path': '/b/' + name, 'service': service, 'when': files.iso(when), 'ext': ext,
            'size': size, 'status': status, 'problem': problem, 'version': version}


def test_table_without_backups():
    assert mod.table([], '/local/u1/myapp/prod/backups') == ['no backups in /local/u1/myapp/prod/backups']


def test_table_rows_then_problems():
    backups = [
        _record('postgres_backup_20240115_020000.dump', size=3 * MIB),
        _record('postgres_backup_20240114_020000.dump', size=5, status='damaged', problem='size 5 of 90 bytes'),
        _record('redis_backup_20240115_030000.rdb', size=2048, version=None, status='incomplete',
                problem='missing redis_backup_20240115_030000.rdb.json'),
    ]
    lines = mod.table(backups, '/ignored')
    header = lines[0].split()
    assert header == ['backup', 'taken', '(UTC)', 'size', 'server', 'status']
    assert set(lines[1].replace(' ', '')) == {'-'}
    rows = [line.split('  ') for line in lines[2:5]]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert rows == [
        ['postgres_backup_20240115_020000.dump', '2024-01-15T02:00:00Z', '3.0 MiB', '15.8', 'ok'],
        ['postgres_backup_20240114_020000.dump', '2024-01-14T02:00:00Z', '5 B', '15.8', 'damaged'],
        ['redis_backup_20240115_030000.rdb', '2024-01-15T03:00:00Z', '2.0 KiB', '-', 'incomplete'],
    ]
    # the problems come after the table, one line each, in the table's order
    assert lines[5:] == [
        'postgres_backup_20240114_020000.dump: size 5 of 90 bytes',
        'redis_backup_20240115_030000.rdb: missing redis_backup_20240115_030000.rdb.json',
    ]
    # columns line up: every status starts where the header's does
    col = lines[0].index('status')
    assert [line[col:] for line in lines[2:5]] == ['ok', 'damaged', 'incomplete']


def test_table_all_ok_has_no_problem_lines():
    lines = mod.table([_record('postgres_backup_20240115_020000.dump')], '/b')
    assert len(lines) == 3


# ---------------------------------------------------------------- checked

def _write(directory, name='postgres_backup_20240115_020000.dump', data=b'PGDMP' + bytes(range(256)) * 8):
    times = [T0, T0 + timedelta(seconds=1)]
    return files.write_atomically(str(directory), name, [data], meta={'kind': 'postgres', 'version': '15.8'},
                                  clock=lambda: times.pop(0) if len(times) > 1 else times[0])


def test_checked_good_backup_is_verified(tmp_path):
    _write(tmp_path)
    (listed,) = files.list_backups(str(tmp_path))
    assert listed['status'] == 'ok' and 'verified' not in listed
    got = mod.checked(listed)
    assert got['verified'] is True and got['status'] == 'ok' and got['problem'] is None
    assert dict((k, v) for k, v in got.items() if k != 'verified') == listed


def test_checked_corrupted_backup_is_damaged(tmp_path):
    rec = _write(tmp_path)
    with open(rec['path'], 'r+b') as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xff]))
    (listed,) = files.list_backups(str(tmp_path))
    assert listed['status'] == 'ok'          # same size: only the checksum can tell
    got = mod.checked(listed)
    assert got['status'] == 'damaged' and 'verified' not in got
    assert rec['path'] in got['problem'] and 'fails its checksum' in got['problem']
    assert 'corrupted' in got['problem']
    assert listed['status'] == 'ok'          # the listing record is not changed in place
    lines = mod.table([got], str(tmp_path))
    assert lines[-1].startswith('postgres_backup_20240115_020000.dump: backup %s fails its checksum' % rec['path'])


def test_checked_leaves_non_ok_records_alone(tmp_path):
    rec = _write(tmp_path)
    os.unlink(rec['path'] + '.sha256')
    (listed,) = files.list_backups(str(tmp_path))
    assert listed['status'] == 'incomplete'
    assert mod.checked(listed) is listed


def test_checked_backup_deleted_since_listing(tmp_path):
    rec = _write(tmp_path)
    (listed,) = files.list_backups(str(tmp_path))
    os.unlink(rec['path'])
    got = mod.checked(listed)
    assert got['status'] == 'damaged' and 'does not exist' in got['problem']


# ---------------------------------------------------------------- last scheduled runs

def test_last_runs_read_the_programs_records(tmp_path):
    folder = tmp_path / 'backups'
    folder.mkdir()
    (folder / 'postgres.json').write_text('{"status": "ok", "finished": "2026-12-01T02:00:01Z", '
                                          '"backup": "postgres_backup_20261201_020000.dump", "error": null}')
    (folder / 'redis.json').write_text('{"status": "failed", "finished": "2026-12-01T03:00:00Z", "backup": null, '
                                       '"error": "redis has no running container on this host"}')
    (folder / 'broken.json').write_text('{not json')
    (folder / '.result.tmp').write_text('{}')
    runs = mod.last_runs(str(tmp_path))
    assert sorted(runs) == ['postgres', 'redis']
    assert mod.last_runs(str(tmp_path), 'redis').keys() == {'redis'}
    assert mod.run_lines(runs) == [
        'last scheduled backup of postgres: ok at 2026-12-01T02:00:01Z (postgres_backup_20261201_020000.dump)',
        'last scheduled backup of redis: FAILED at 2026-12-01T03:00:00Z: redis has no running container on this host']
    assert mod.last_runs(str(tmp_path / 'missing')) == {}
