# SPDX-License-Identifier: GPL-3.0-or-later
import hashlib
import json
import os
import stat
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import files as bf
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import DATABASES

UTC = timezone.utc
T0 = datetime(2024, 1, 15, 2, 0, 0, tzinfo=UTC)


class Clock(object):
    """Returns the given times in turn (then the last one again)."""

    def __init__(self, *times):
        self.times = list(times)

    def __call__(self):
        return self.times.pop(0) if len(self.times) > 1 else self.times[0]


def _mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def _write(directory, service='postgres', when=T0, data=b'PGDMP' + b'x' * 1000, kind='postgres', **kw):
    name = bf.backup_name(service, when, bf.backup_ext(kind))
    meta = dict(kind=kind, version='15', source={'container': 'u1_myapp_prod_%s' % service, 'image': 'postgres:15'})
    meta.update(kw)
    clock = Clock(when, when + timedelta(seconds=2.5))
    return bf.write_atomically(str(directory), name, [data[i:i + 100] for i in range(0, len(data), 100)],
                               meta=meta, clock=clock)


# ---------------------------------------------------------------- names

def test_seed_style_names_in_utc():
    assert bf.backup_name('postgres', T0, 'dump') == 'postgres_backup_20240115_020000.dump'
    plus_two = timezone(timedelta(hours=2))
    assert bf.backup_name('redis', datetime(2024, 1, 15, 5, 0, 7, tzinfo=plus_two), 'rdb') == \
        'redis_backup_20240115_030007.rdb'
    assert bf.backup_name('search-1', T0, bf.backup_ext('opensearch')) == 'search-1_backup_20240115_020000.tar'
    assert [bf.backup_ext(k) for k in ('postgres', 'redis', 'opensearch')] == ['dump', 'rdb', 'tar']


@pytest.mark.parametrize('args,words', [
    (('Postgres', T0, 'dump'), ['service', 'Postgres']),
    (('pg_main', T0, 'dump'), ['service']),
    (('nginx', T0, 'dump'), ['reserved']),
    (('../etc', T0, 'dump'), ['service']),
    (('postgres', T0, 'exe'), ['extension', 'dump']),
    (('postgres', datetime(2024, 1, 15), 'dump'), ['time zone', 'timezone.utc']),
    (('postgres', '20240115', 'dump'), ['datetime']),
])
def test_bad_name_parts_refused(args, words):
    with pytest.raises(ValueError) as exc:
        bf.backup_name(*args)
    for word in words:
        assert word in str(exc.value)


def test_backup_ext_unknown_kind():
    with pytest.raises(ValueError, match='python'):
        bf.backup_ext('python')


def test_parse_round_trip():
    for service, ext in (('postgres', 'dump'), ('redis', 'rdb'), ('my-search', 'tar'), ('postgres', 'sql')):
        name = bf.backup_name(service, T0, ext)
        assert bf.parse_backup_name(name) == (service, T0, ext)


@pytest.mark.parametrize('name', [
    'postgres_backup_20240115_020000.dump.sha256',
    'postgres_backup_20240115_020000.dump.json',
    '.postgres_backup_20240115_020000.dump.partial-abc123',
    '.postgres_backup_20240115_020000.dump',
    'postgres_backup_20240115_020000.dump.partial-abc',
    'postgres_backup_20240115_020000',
    'postgres_backup_20240115_0200.dump',
    'postgres_backup_20241315_020000.dump',   # month 13
    'postgres_backup_20240230_020000.dump',   # 30 February
    'postgres_backup_20240115_250000.dump',
    'Postgres_backup_20240115_020000.dump',
    'nginx_backup_20240115_020000.dump',
    'pg_x_backup_20240115_020000.dump',
    'dir/postgres_backup_20240115_020000.dump',
    'postgres_backup_20240115_020000.dump\n',
    'postgres_backup_20240115_020000.exe',
    '',
    None,
])
def test_parse_refuses_everything_else(name):
    assert bf.parse_backup_name(name) is None


def test_paths():
    assert bf.backups_dir('/local', 'u1', 'myapp', 'prod') == '/local/u1/myapp/prod/backups'
    assert bf.backups_dir(None, 'u1', 'myapp', 'prod') == '/local/u1/myapp/prod/backups'
    with pytest.raises(ValueError, match='user'):
        bf.backups_dir('/local', '../x', 'myapp', 'prod')
    final = 'postgres_backup_20240115_020000.dump'
    assert bf.temp_name(final, 'abc') == '.postgres_backup_20240115_020000.dump.partial-abc'
    assert bf.temp_name(final) != bf.temp_name(final)
    assert bf.is_temp_name(bf.temp_name(final)) and not bf.is_temp_name(final)
    assert bf.sidecar_name(final) == final + '.sha256'
    assert bf.manifest_name(final) == final + '.json'


# ---------------------------------------------------------------- writing

def test_write_creates_file_sidecar_manifest_with_modes(tmp_path):
    directory = tmp_path / 'backups'
    data = os.urandom(3 * 1024 * 1024 + 17)
    rec = _write(directory, data=data)
    final = directory / 'postgres_backup_20240115_020000.dump'
    assert rec['path'] == str(final)
    assert final.read_bytes() == data
    assert _mode(directory) == 0o700
    for path in (final, directory / (final.name + '.sha256'), directory / (final.name + '.json')):
        assert _mode(path) == 0o600, path
    digest = hashlib.sha256(data).hexdigest()
    assert (directory / (final.name + '.sha256')).read_text() == '%s  %s\n' % (digest, final.name)
    manifest = json.loads((directory / (final.name + '.json')).read_text())
    assert manifest == dict((k, v) for k, v in rec.items() if k != 'path')
    assert manifest['service'] == 'postgres' and manifest['kind'] == 'postgres'
    assert manifest['format'] == 'pg_dump-custom' and manifest['version'] == '15'
    assert manifest['size'] == len(data) and manifest['sha256'] == digest
    assert manifest['started'] == '2024-01-15T02:00:00Z' and manifest['finished'] == '2024-01-15T02:00:02Z'
    assert manifest['duration_s'] == 2.5
    assert manifest['source'] == {'container': 'u1_myapp_prod_postgres', 'image': 'postgres:15'}
    assert sorted(os.listdir(str(directory))) == [final.name, final.name + '.json', final.name + '.sha256']


def test_sidecar_is_checked_by_sha256sum(tmp_path):
    _write(tmp_path / 'b', data=b'hello backup')
    out = subprocess.run(['sha256sum', '-c', 'postgres_backup_20240115_020000.dump.sha256'],
                         cwd=str(tmp_path / 'b'), capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert ': OK' in out.stdout


def test_write_from_file_object_and_tightens_existing_dir(tmp_path):
    directory = tmp_path / 'backups'
    directory.mkdir(mode=0o755)
    os.chmod(str(directory), 0o755)
    src = tmp_path / 'dump.rdb'
    src.write_bytes(b'REDIS0011' + os.urandom(2 * bf.CHUNK + 5))
    with open(str(src), 'rb') as handle:
        rec = bf.write_atomically(str(directory), 'redis_backup_20240115_030000.rdb', handle,
                                  meta={'kind': 'redis'}, clock=Clock(T0))
    assert (directory / 'redis_backup_20240115_030000.rdb').read_bytes() == src.read_bytes()
    assert rec['format'] == 'rdb' and rec['duration_s'] == 0
    assert rec['source'] == {'container': None, 'image': None}
    assert _mode(directory) == 0o700


def test_mode_is_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        rec = _write(tmp_path / 'b')
    finally:
        os.umask(old)
    assert _mode(rec['path']) == 0o600
    assert _mode(tmp_path / 'b') == 0o700


def test_while_writing_only_a_hidden_0600_temp_file_exists(tmp_path):
    directory = str(tmp_path / 'backups')
    final = 'postgres_backup_20240115_020000.dump'
    seen = []

    def chunks():
        yield b'a' * 5000
        names = os.listdir(directory)
        seen.append(names)
        (temp,) = names
        assert temp.startswith('.' + final + '.partial-')
        assert _mode(os.path.join(directory, temp)) == 0o600
        assert bf.list_backups(directory) == []
        yield b'b' * 5000

    bf.write_atomically(directory, final, chunks(), clock=Clock(T0))
    assert len(seen) == 1
    assert bf.verify(os.path.join(directory, final))['size'] == 10000
    assert not [n for n in os.listdir(directory) if bf.is_temp_name(n)]


def _crashing(after_chunks, exc=IOError('disk full')):
    for i in range(after_chunks):
        yield b'y' * 4096
    raise exc


@pytest.mark.parametrize('exc', [IOError('pg_dump died'), KeyboardInterrupt()])
def test_crash_midway_leaves_nothing(tmp_path, exc):
    directory = tmp_path / 'backups'
    _write(directory, when=T0 - timedelta(days=1))
    before = sorted(os.listdir(str(directory)))
    with pytest.raises(type(exc)):
        bf.write_atomically(str(directory), 'postgres_backup_20240115_020000.dump', _crashing(50, exc),
                            meta={'kind': 'postgres'}, clock=Clock(T0))
    assert sorted(os.listdir(str(directory))) == before
    assert bf.stray_files(str(directory)) == []


def test_non_bytes_chunk_refused_and_cleaned(tmp_path):
    with pytest.raises(TypeError, match='bytes'):
        bf.write_atomically(str(tmp_path), 'redis_backup_20240115_030000.rdb', [b'ok', u'text'], clock=Clock(T0))
    assert os.listdir(str(tmp_path)) == []


def test_failure_after_sidecar_removes_sidecar(tmp_path, monkeypatch):
    real = bf._write_small
    calls = []

    def failing(directory, name, data):
        calls.append(name)
        if name.endswith('.json'):
            raise OSError(28, 'No space left on device')
        return real(directory, name, data)

    monkeypatch.setattr(bf, '_write_small', failing)
    with pytest.raises(OSError, match='No space'):
        _write(tmp_path)
    assert calls == ['postgres_backup_20240115_020000.dump.sha256', 'postgres_backup_20240115_020000.dump.json']
    assert os.listdir(str(tmp_path)) == []


def test_never_overwrites(tmp_path):
    rec = _write(tmp_path, data=b'first')
    with pytest.raises(FileExistsError, match='never overwritten'):
        _write(tmp_path, data=b'second')
    assert open(rec['path'], 'rb').read() == b'first'
    assert bf.verify(rec['path'])['sha256'] == hashlib.sha256(b'first').hexdigest()
    assert not [n for n in os.listdir(str(tmp_path)) if bf.is_temp_name(n)]


def test_never_overwrites_in_a_race(tmp_path, monkeypatch):
    # another writer takes the name between the up-front check and the final link
    real = bf._link_final
    final = str(tmp_path / 'postgres_backup_20240115_020000.dump')

    def racing(temp, dest):
        if dest == final:
            with open(final, 'wb') as handle:
                handle.write(b'other writer')
        return real(temp, dest)

    monkeypatch.setattr(bf, '_link_final', racing)
    with pytest.raises(FileExistsError):
        _write(tmp_path, data=b'mine')
    assert open(final, 'rb').read() == b'other writer'
    assert sorted(os.listdir(str(tmp_path))) == ['postgres_backup_20240115_020000.dump']


def test_write_refuses_a_non_backup_name(tmp_path):
    with pytest.raises(ValueError, match='not a backup name'):
        bf.write_atomically(str(tmp_path), '../escape.dump', [b'x'])
    assert os.listdir(str(tmp_path)) == []


# ---------------------------------------------------------------- verifying

def test_verify_ok(tmp_path):
    rec = _write(tmp_path, data=b'abc' * 1000)
    got = bf.verify(rec['path'])
    assert got['status'] == 'ok' and got['verified'] is True
    assert got['sha256'] == rec['sha256'] and got['size'] == 3000 and got['kind'] == 'postgres'


def _one_line(exc):
    msg = str(exc.value)
    assert '\n' not in msg
    return msg


def test_verify_corrupted(tmp_path):
    rec = _write(tmp_path, data=b'abc' * 1000)
    with open(rec['path'], 'r+b') as handle:
        handle.seek(1500)
        handle.write(b'X')
    with pytest.raises(ValueError) as exc:
        bf.verify(rec['path'])
    msg = _one_line(exc)
    assert rec['path'] in msg and 'checksum' in msg and 'corrupted' in msg and 'another backup' in msg


def test_verify_truncated(tmp_path):
    rec = _write(tmp_path, data=b'abc' * 1000)
    with open(rec['path'], 'r+b') as handle:
        handle.truncate(1234)
    with pytest.raises(ValueError) as exc:
        bf.verify(rec['path'])
    msg = _one_line(exc)
    assert 'truncated: size 1234 of 3000 bytes' in msg and rec['path'] in msg and 'copy it again' in msg


def test_verify_grown(tmp_path):
    rec = _write(tmp_path, data=b'abc')
    with open(rec['path'], 'ab') as handle:
        handle.write(b'more')
    with pytest.raises(ValueError, match='size 7 but its manifest says 3'):
        bf.verify(rec['path'])


def test_verify_missing_sidecar(tmp_path):
    rec = _write(tmp_path)
    os.unlink(rec['path'] + '.sha256')
    with pytest.raises(ValueError) as exc:
        bf.verify(rec['path'])
    msg = _one_line(exc)
    assert 'no checksum file postgres_backup_20240115_020000.dump.sha256' in msg and 'copy' in msg


@pytest.mark.parametrize('text,word', [
    ('not a checksum\n', 'sha256sum format'),
    ('%s  other_backup_20240115_020000.dump\n' % ('0' * 64), 'names other_backup'),
    ('', 'sha256sum format'),
])
def test_verify_bad_sidecar(tmp_path, text, word):
    rec = _write(tmp_path)
    with open(rec['path'] + '.sha256', 'w') as handle:
        handle.write(text)
    with pytest.raises(ValueError) as exc:
        bf.verify(rec['path'])
    assert word in _one_line(exc)


def test_verify_without_manifest_still_checks_the_checksum(tmp_path):
    rec = _write(tmp_path, data=b'abcdef')
    os.unlink(rec['path'] + '.json')
    got = bf.verify(rec['path'])
    assert got['status'] == 'ok' and got['size'] == 6 and got['service'] == 'postgres'
    with open(rec['path'], 'wb') as handle:
        handle.write(b'abc')
    with pytest.raises(ValueError, match='checksum'):
        bf.verify(rec['path'])


def test_verify_damaged_manifest(tmp_path):
    rec = _write(tmp_path)
    with open(rec['path'] + '.json', 'w') as handle:
        handle.write('{"size": ')
    with pytest.raises(ValueError, match='manifest .* is not a backup manifest'):
        bf.verify(rec['path'])


def test_verify_missing_or_misnamed(tmp_path):
    with pytest.raises(ValueError, match='does not exist'):
        bf.verify(str(tmp_path / 'postgres_backup_20240115_020000.dump'))
    with pytest.raises(ValueError, match='not a backup file name'):
        bf.verify(str(tmp_path / 'dump.sql'))


# ---------------------------------------------------------------- listing

def test_list_newest_first_per_service_and_statuses(tmp_path):
    d = tmp_path
    _write(d, 'postgres', T0 - timedelta(days=2))
    _write(d, 'postgres', T0)
    _write(d, 'redis', T0 - timedelta(days=1), kind='redis', data=b'REDIS')
    _write(d, 'postgres', T0 - timedelta(days=1))
    # one renamed in by hand without sidecar or manifest (the seed's .sql)
    (d / 'postgres_backup_20240110_020000.sql').write_bytes(b'-- plain dump')
    # one truncated after the fact
    truncated = _write(d, 'redis', T0, kind='redis', data=b'REDIS0011' * 10)
    with open(truncated['path'], 'r+b') as handle:
        handle.truncate(5)
    # noise: temp file, orphan sidecar, unrelated files, a directory with a backup name
    (d / bf.temp_name('postgres_backup_20240116_020000.dump', 'dead')).write_bytes(b'partial')
    (d / 'postgres_backup_20240101_020000.dump.sha256').write_text('x')
    (d / 'notes.txt').write_text('x')
    (d / 'redis_backup_20240101_030000.rdb').mkdir()

    listed = bf.list_backups(str(d))
    assert [r['name'] for r in listed] == [
        'postgres_backup_20240115_020000.dump',
        'postgres_backup_20240114_020000.dump',
        'postgres_backup_20240113_020000.dump',
        'postgres_backup_20240110_020000.sql',
        'redis_backup_20240115_020000.rdb',
        'redis_backup_20240114_020000.rdb',
    ]
    by_name = dict((r['name'], r) for r in listed)
    assert by_name['postgres_backup_20240115_020000.dump']['status'] == 'ok'
    assert by_name['postgres_backup_20240115_020000.dump']['when'] == '2024-01-15T02:00:00Z'
    assert by_name['postgres_backup_20240115_020000.dump']['kind'] == 'postgres'
    plain = by_name['postgres_backup_20240110_020000.sql']
    assert plain['status'] == 'incomplete' and '.sha256' in plain['problem'] and '.json' in plain['problem']
    assert plain['size'] == len(b'-- plain dump')
    assert by_name['redis_backup_20240115_020000.rdb']['status'] == 'damaged'
    assert by_name['redis_backup_20240115_020000.rdb']['problem'] == 'size 5 of 90 bytes'
    assert [r['name'] for r in bf.list_backups(str(d), service='redis')] == [
        'redis_backup_20240115_020000.rdb', 'redis_backup_20240114_020000.rdb']
    assert bf.stray_files(str(d)) == ['.postgres_backup_20240116_020000.dump.partial-dead',
                                      'postgres_backup_20240101_020000.dump.sha256']


def test_list_manifest_without_sidecar_is_incomplete(tmp_path):
    rec = _write(tmp_path)
    os.unlink(rec['path'] + '.sha256')
    (got,) = bf.list_backups(str(tmp_path))
    assert got['status'] == 'incomplete' and got['problem'] == 'missing postgres_backup_20240115_020000.dump.sha256'


def test_list_missing_dir(tmp_path):
    assert bf.list_backups(str(tmp_path / 'nope')) == []
    assert bf.stray_files(str(tmp_path / 'nope')) == []


def test_list_is_json_serialisable(tmp_path):
    _write(tmp_path)
    json.dumps(bf.list_backups(str(tmp_path)))


# ---------------------------------------------------------------- retention

def _rec(service, days_ago, status='ok', ext='dump', now=T0):
    return {'name': bf.backup_name(service, now - timedelta(days=days_ago), ext), 'status': status}


def _names(records):
    return [r['name'] for r in records]


def test_prune_by_count_only():
    backups = [_rec('postgres', d) for d in range(10)]
    keep, delete = bf.plan_prune(backups, 7, now=T0)
    assert _names(keep) == _names(backups[:7])
    assert _names(delete) == _names(backups[7:])


def test_prune_by_count_and_age():
    backups = [_rec('postgres', d) for d in range(0, 20, 2)]   # 0, 2, ..., 18 days old
    keep, delete = bf.plan_prune(backups, 3, keep_days=10, now=T0)
    # newest 3 by count, then 6, 8, 10 days are not older than 10 days
    assert _names(keep) == _names(backups[:6])
    assert _names(delete) == _names(backups[6:])


def test_prune_keeps_newest_ok_past_the_count():
    backups = [_rec('redis', 0, 'incomplete', 'rdb'), _rec('redis', 1, 'damaged', 'rdb'),
               _rec('redis', 2, 'ok', 'rdb'), _rec('redis', 3, 'ok', 'rdb')]
    keep, delete = bf.plan_prune(backups, 2, now=T0)
    assert _names(keep) == _names(backups[:3])
    assert _names(delete) == _names(backups[3:])


def test_prune_per_service_and_deterministic():
    backups = [_rec(s, d) for d in range(5) for s in ('redis', 'postgres', 'other')]
    keep, delete = bf.plan_prune(backups, 2, now=T0)
    assert _names(keep) == [
        'other_backup_20240115_020000.dump', 'other_backup_20240114_020000.dump',
        'postgres_backup_20240115_020000.dump', 'postgres_backup_20240114_020000.dump',
        'redis_backup_20240115_020000.dump', 'redis_backup_20240114_020000.dump']
    assert len(delete) == 9
    shuffled = list(reversed(backups))
    assert bf.plan_prune(shuffled, 2, now=T0) == (keep, delete)


def test_prune_works_on_listed_files(tmp_path):
    for day in range(4):
        _write(tmp_path, when=T0 - timedelta(days=day))
    keep, delete = bf.plan_prune(bf.list_backups(str(tmp_path)), 2, keep_days=2.5, now=T0)
    assert _names(delete) == ['postgres_backup_20240112_020000.dump']
    assert len(keep) == 3


def test_prune_nothing():
    assert bf.plan_prune([], 3, now=T0) == ([], [])


@pytest.mark.parametrize('count,days', [(0, None), (-1, None), (True, None), ('7', None), (3, -1), (3, '7')])
def test_prune_bad_arguments(count, days):
    with pytest.raises(ValueError):
        bf.plan_prune([_rec('postgres', 0)], count, keep_days=days, now=T0)


def test_prune_needs_an_aware_now():
    with pytest.raises(ValueError, match='time zone'):
        bf.plan_prune([], 1, now=datetime(2024, 1, 1))


# ---------------------------------------------------------------- schedules

def test_default_schedules_follow_the_seed():
    assert bf.backup_schedule('postgres') == '0 2 * * *'
    assert bf.backup_schedule('redis') == '0 3 * * *'
    assert bf.backup_schedule('opensearch') == '0 4 * * *'
    assert bf.backup_schedule('postgres', '') == '0 2 * * *'
    assert bf.backup_schedule('postgres') == DATABASES['postgres'][2]
    assert bf.backup_schedule('redis') == DATABASES['redis'][2]


def test_schedule_override():
    assert bf.backup_schedule('postgres', ' 30 1 * * * ') == '30 1 * * *'
    assert bf.backup_schedule('redis', '@daily') == '@daily'


@pytest.mark.parametrize('override,words', [
    ('61 * * * *', ['minute', '0-59', 'postgres', '"0 2 * * *"']),
    ('* * * *', ['4 fields']),
    ('@reboot', ['@reboot']),
    (5, ['string']),
])
def test_schedule_override_refused(override, words):
    with pytest.raises(ValueError) as exc:
        bf.backup_schedule('postgres', override)
    msg = _one_line(exc)
    for word in words:
        assert word in msg, (word, msg)


def test_schedule_unknown_kind():
    with pytest.raises(ValueError, match='python'):
        bf.backup_schedule('python')


# ---------------------------------------------------------------- deleting

def test_delete_backup_removes_its_three_files_only(tmp_path):
    keep = _write(tmp_path, when=T0 - timedelta(days=1))
    gone = _write(tmp_path)
    other = _write(tmp_path, 'redis', T0, kind='redis', data=b'REDIS')
    (tmp_path / 'notes.txt').write_text('x')
    bf.delete_backup(str(tmp_path), 'postgres_backup_20240115_020000.dump')
    for suffix in ('', '.sha256', '.json'):
        assert not os.path.exists(gone['path'] + suffix)
        assert os.path.exists(keep['path'] + suffix) and os.path.exists(other['path'] + suffix)
    assert sorted(os.listdir(str(tmp_path))) == sorted(
        ['notes.txt'] + [os.path.basename(r['path']) + s for r in (keep, other) for s in ('', '.sha256', '.json')])
    assert [r['name'] for r in bf.list_backups(str(tmp_path))] == [
        'postgres_backup_20240114_020000.dump', 'redis_backup_20240115_020000.rdb']
    assert bf.stray_files(str(tmp_path)) == []


def test_delete_backup_with_missing_sidecar_or_manifest(tmp_path):
    rec = _write(tmp_path)
    os.unlink(rec['path'] + '.json')
    bf.delete_backup(str(tmp_path), 'postgres_backup_20240115_020000.dump')
    assert os.listdir(str(tmp_path)) == []
    # already gone: nothing to do, no error
    bf.delete_backup(str(tmp_path), 'postgres_backup_20240115_020000.dump')


@pytest.mark.parametrize('name', [
    'notes.txt',
    'postgres_backup_20240115_020000.dump.sha256',
    'postgres_backup_20240115_020000.dump.json',
    '../postgres_backup_20240115_020000.dump',
    'sub/postgres_backup_20240115_020000.dump',
    '.postgres_backup_20240115_020000.dump.partial-abc',
    '',
])
def test_delete_backup_refuses_a_non_backup_name(tmp_path, name):
    directory = tmp_path / 'b'
    rec = _write(directory)
    (directory / 'notes.txt').write_text('x')
    before = sorted(os.listdir(str(directory)))
    with pytest.raises(ValueError, match='not a backup name'):
        bf.delete_backup(str(directory), name)
    assert sorted(os.listdir(str(directory))) == before
    assert bf.verify(rec['path'])['status'] == 'ok'


def _age(path, seconds, now=T0):
    stamp = now.timestamp() - seconds
    os.utime(str(path), (stamp, stamp))


def test_old_stray_files_respects_min_age(tmp_path):
    d = tmp_path
    ok = _write(d)
    old_temp = d / bf.temp_name('postgres_backup_20240116_020000.dump', 'old')
    young_temp = d / bf.temp_name('postgres_backup_20240117_020000.dump', 'young')
    orphan_side = d / 'postgres_backup_20240101_020000.dump.sha256'
    orphan_man = d / 'redis_backup_20240101_030000.rdb.json'
    for path in (old_temp, young_temp, orphan_side, orphan_man):
        path.write_bytes(b'x')
    _age(old_temp, 86400)            # exactly the minimum age counts as old
    _age(young_temp, 86399)          # a backup possibly still being written
    _age(orphan_side, 3 * 86400)
    _age(orphan_man, 60)
    for suffix in ('', '.sha256', '.json'):
        _age(ok['path'] + suffix, 10 * 86400)   # old, but not stray
    assert bf.stray_files(str(d)) == sorted(p.name for p in (old_temp, young_temp, orphan_side, orphan_man))
    assert bf.old_stray_files(str(d), T0) == [old_temp.name, orphan_side.name]
    assert bf.old_stray_files(str(d), T0, min_age_s=30) == [
        old_temp.name, young_temp.name, orphan_side.name, orphan_man.name]
    assert bf.old_stray_files(str(d), T0, min_age_s=2 * 86400) == [orphan_side.name]
    assert bf.old_stray_files(str(d), T0 + timedelta(seconds=1)) == [old_temp.name, young_temp.name, orphan_side.name]


def test_old_stray_files_nothing(tmp_path):
    assert bf.old_stray_files(str(tmp_path / 'nope'), T0) == []
    _write(tmp_path)
    assert bf.old_stray_files(str(tmp_path), T0 + timedelta(days=30)) == []


def test_old_stray_files_needs_an_aware_now(tmp_path):
    stray = tmp_path / bf.temp_name('postgres_backup_20240116_020000.dump', 'old')
    stray.write_bytes(b'x')
    with pytest.raises(ValueError, match='time zone'):
        bf.old_stray_files(str(tmp_path), datetime(2024, 1, 15))


def test_delete_stray(tmp_path):
    rec = _write(tmp_path)
    temp = tmp_path / bf.temp_name('postgres_backup_20240116_020000.dump', 'dead')
    orphan = tmp_path / 'postgres_backup_20240101_020000.dump.json'
    temp.write_bytes(b'partial')
    orphan.write_text('{}')
    bf.delete_stray(str(tmp_path), temp.name)
    bf.delete_stray(str(tmp_path), orphan.name)
    assert bf.stray_files(str(tmp_path)) == []
    assert bf.verify(rec['path'])['status'] == 'ok'


@pytest.mark.parametrize('name', [
    'postgres_backup_20240115_020000.dump',            # a backup
    'postgres_backup_20240115_020000.dump.sha256',     # the sidecar of an existing backup
    'postgres_backup_20240115_020000.dump.json',       # its manifest
    'notes.txt',                                       # an unrelated file
    '../outside.partial-x',
    '.postgres_backup_20240116_020000.dump.partial-gone',   # a stray name that does not exist
])
def test_delete_stray_refuses_what_is_not_stray(tmp_path, name):
    directory = tmp_path / 'b'
    rec = _write(directory)
    (directory / 'notes.txt').write_text('x')
    (tmp_path / 'outside.partial-x').write_text('x')
    before = sorted(os.listdir(str(directory)))
    with pytest.raises(ValueError, match='not a stray backup file'):
        bf.delete_stray(str(directory), name)
    assert sorted(os.listdir(str(directory))) == before
    assert (tmp_path / 'outside.partial-x').exists()
    assert bf.verify(rec['path'])['status'] == 'ok'
