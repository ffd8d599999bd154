# SPDX-License-Identifier: GPL-3.0-or-later
"""_backup/redis: redis-cli argv, INFO/CONFIG GET parsing, and the restore's sh scripts run for real with sh."""
import os
import stat
import subprocess

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import redis as rd

SOURCE = b'REDIS0011\xfa\tredis-ver\x057.2.4' + bytes(range(256)) + b"\xff'\"\n end"
OLD_DUMP = b'REDIS0011 old dump'
OLD_AOF = {
    'appendonly.aof.3.base.rdb': b'REDIS0011 old base',
    'appendonly.aof.3.incr.aof': b'*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n',
    'appendonly.aof.manifest': b'file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n',
}


@pytest.fixture(autouse=True)
def _scratch_cwd(tmp_path, monkeypatch):
    # the scripts run from a scratch directory, so one that failed to cd could never touch the checkout
    scratch = tmp_path / 'cwd'
    scratch.mkdir()
    monkeypatch.chdir(str(scratch))


# ---------------------------------------------------------------- redis-cli

def test_cli_args_after_the_script():
    argv = rd.cli('CONFIG', 'GET', 'dir', 5)
    assert argv[:2] == ['sh', '-c']
    assert argv[3] == 'redis-cli'          # $0 of the script
    assert argv[4:] == ['CONFIG', 'GET', 'dir', '5']
    script = argv[2]
    assert rd.SECRETS_CONF in script and '/run/secrets/redis.conf' in script
    assert 'REDISCLI_AUTH' in script and 'exec redis-cli --no-auth-warning "$@"' in script


def test_cli_never_carries_a_password():
    argv = rd.cli('PING')
    assert not any(a in ('-a', '--pass', '--user', '-u') for a in argv)
    assert argv == ['sh', '-c', argv[2], 'redis-cli', 'PING']


def _fake_redis_cli(tmp_path):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    fake = bindir / 'redis-cli'
    fake.write_text('#!/bin/sh\nprintf "auth=%s\\n" "${REDISCLI_AUTH-unset}"\nfor a in "$@"; do printf "arg=%s\\n" "$a"; done\n')
    fake.chmod(0o755)
    return str(bindir)


def _run_cli(tmp_path, argv, conf):
    # the same script, reading a temporary config instead of the container's /run/secrets/redis.conf
    argv = list(argv)
    argv[2] = argv[2].replace(rd.SECRETS_CONF, str(conf))
    env = dict(os.environ, PATH=_fake_redis_cli(tmp_path) + os.pathsep + os.environ.get('PATH', ''))
    env.pop('REDISCLI_AUTH', None)
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True, timeout=30)
    return out.stdout.splitlines()


def test_cli_script_reads_the_password_into_the_environment(tmp_path):
    conf = tmp_path / 'redis.conf'
    conf.write_text('requirepass s3cr3t pw\nprotected-mode no\n')
    argv = rd.cli('SET', 'a key', "it's")
    assert not any('s3cr3t' in a for a in argv)
    assert _run_cli(tmp_path, argv, conf) == [
        'auth=s3cr3t pw', 'arg=--no-auth-warning', 'arg=SET', 'arg=a key', "arg=it's"]


def test_cli_script_without_a_config_runs_without_auth(tmp_path):
    assert _run_cli(tmp_path, rd.cli('PING'), tmp_path / 'missing.conf') == [
        'auth=unset', 'arg=--no-auth-warning', 'arg=PING']


# ---------------------------------------------------------------- INFO / CONFIG GET

INFO = ('# Persistence\r\n'
        'loading:0\r\n'
        'rdb_bgsave_in_progress:0\r\n'
        'rdb_last_save_time:1705284000\r\n'
        'rdb_last_bgsave_status:ok\r\n'
        '\r\n'
        '# Server\r\n'
        'redis_version:7.2.4\r\n'
        'config_file:/usr/local/etc/redis/redis.conf\r\n'
        'executable:/data/redis-server\r\n'
        'junk line without colon\r\n')


def test_parse_info_sections_and_crlf():
    info = rd.parse_info(INFO)
    assert info == {
        'loading': '0',
        'rdb_bgsave_in_progress': '0',
        'rdb_last_save_time': '1705284000',
        'rdb_last_bgsave_status': 'ok',
        'redis_version': '7.2.4',
        'config_file': '/usr/local/etc/redis/redis.conf',
        'executable': '/data/redis-server',
    }
    assert all('\r' not in k and '\r' not in v for k, v in info.items())


def test_parse_info_value_with_colons():
    assert rd.parse_info('master_host:fe80::1\nx:\n') == {'master_host': 'fe80::1', 'x': ''}
    assert rd.parse_info('') == {}


def _info(**kw):
    base = {'rdb_bgsave_in_progress': '0', 'rdb_last_save_time': '1000', 'rdb_last_bgsave_status': 'ok'}
    base.update(kw)
    return base


def test_bgsave_running_while_in_progress():
    assert rd.bgsave_state(_info(rdb_bgsave_in_progress='1', rdb_last_save_time='2000'), 1000) == 'running'


def test_bgsave_running_while_the_last_save_is_older_than_the_start():
    assert rd.bgsave_state(_info(rdb_last_save_time='999'), 1000) == 'running'
    assert rd.bgsave_state(_info(rdb_last_save_time='999', rdb_last_bgsave_status='err'), 1000) == 'running'


def test_bgsave_running_without_a_usable_save_time():
    assert rd.bgsave_state({}, 1000) == 'running'
    assert rd.bgsave_state(_info(rdb_last_save_time='soon'), 1000) == 'running'


def test_bgsave_done():
    assert rd.bgsave_state(_info(rdb_last_save_time='1000'), 1000) == 'done'
    assert rd.bgsave_state(_info(rdb_last_save_time='1005'), 1000) == 'done'
    assert rd.bgsave_state({'rdb_last_save_time': '1005'}, 1000) == 'done'


def test_bgsave_error_text():
    state = rd.bgsave_state(_info(rdb_last_save_time='1005', rdb_last_bgsave_status='err'), 1000)
    assert state not in ('done', 'running')
    assert 'rdb_last_bgsave_status:err' in state and 'background save failed' in state and 'log' in state


def test_bgsave_state_from_parsed_info():
    text = INFO.replace('rdb_last_save_time:1705284000', 'rdb_last_save_time:1705284001')
    assert rd.bgsave_state(rd.parse_info(text), 1705284001) == 'done'
    assert rd.bgsave_state(rd.parse_info(text), 1705284002) == 'running'


def test_parse_config_get():
    text = 'dir\n/data\ndbfilename\ndump.rdb\nappendonly\nyes\nappenddirname\nappendonlydir\n'
    assert rd.parse_config_get(text) == {'dir': '/data', 'dbfilename': 'dump.rdb', 'appendonly': 'yes',
                                         'appenddirname': 'appendonlydir'}
    assert rd.parse_config_get('') == {}
    assert rd.parse_config_get('dir\r\n/my data\r\n') == {'dir': '/my data'}


def test_data_layout_defaults():
    assert rd.data_layout({}) == {'dir': '/data', 'dbfilename': 'dump.rdb', 'appendonly': False,
                                  'appenddirname': 'appendonlydir', 'appendfilename': 'appendonly.aof'}
    empty = dict.fromkeys(('dir', 'dbfilename', 'appendonly', 'appenddirname', 'appendfilename'), '')
    assert rd.data_layout(empty) == rd.data_layout({})


def test_data_layout_from_config_get():
    text = ('dir\n/srv/redis\ndbfilename\nsnap.rdb\nappendonly\nyes\nappenddirname\naof\n'
            'appendfilename\nall.aof\n')
    assert rd.data_layout(rd.parse_config_get(text)) == {
        'dir': '/srv/redis', 'dbfilename': 'snap.rdb', 'appendonly': True, 'appenddirname': 'aof',
        'appendfilename': 'all.aof'}
    assert rd.data_layout({'appendonly': 'no'})['appendonly'] is False


def test_aof_manifest():
    assert rd.aof_manifest('appendonly.aof') == 'file appendonly.aof.1.base.rdb seq 1 type b\n'


# ---------------------------------------------------------------- the scripts, run with sh

def _sh(script):
    out = subprocess.run(['sh', '-c', script], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, 'script failed (%d): %s\n---\n%s' % (out.returncode, out.stderr, script)
    return out


def _tree(root):
    """{relative path: bytes, or None for a directory}, hidden entries included."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(str(root)):
        for name in dirnames:
            tree[os.path.relpath(os.path.join(dirpath, name), str(root))] = None
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as handle:
                tree[os.path.relpath(path, str(root))] = handle.read()
    return tree


def _layout(data_dir, appendonly=True, **kw):
    layout = {'dir': str(data_dir), 'dbfilename': 'dump.rdb', 'appendonly': appendonly,
              'appenddirname': 'appendonlydir', 'appendfilename': 'appendonly.aof'}
    layout.update(kw)
    return layout


def _populate(data_dir, layout):
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / layout['dbfilename']).write_bytes(OLD_DUMP)
    aof = data_dir / layout['appenddirname']
    aof.mkdir()
    for name, data in OLD_AOF.items():
        (aof / name).write_bytes(data)
    # files of the server that are not the dataset stay untouched
    (data_dir / 'redis.log').write_bytes(b'log')


def _source(tmp_path, name='redis_backup_20240115_030000.rdb'):
    backups = tmp_path / 'backups dir'
    backups.mkdir(exist_ok=True)
    src = backups / name
    src.write_bytes(SOURCE)
    return src


def _assert_placed(data_dir, layout, src):
    assert (data_dir / layout['dbfilename']).read_bytes() == SOURCE
    assert not (data_dir / rd.INCOMING_DIR).exists()
    aof = data_dir / layout['appenddirname']
    if layout['appendonly']:
        fn = layout['appendfilename']
        assert sorted(os.listdir(str(aof))) == sorted([fn + '.1.base.rdb', fn + '.manifest'])
        assert (aof / (fn + '.1.base.rdb')).read_bytes() == SOURCE
        assert (aof / (fn + '.manifest')).read_text() == rd.aof_manifest(fn)
    else:
        assert not aof.exists()
    assert src.read_bytes() == SOURCE   # the backup itself is only read


@pytest.mark.parametrize('appendonly', [True, False])
def test_place_then_rollback(tmp_path, appendonly):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir, appendonly)
    _populate(data_dir, layout)
    before = _tree(data_dir)
    src = _source(tmp_path)

    _sh(rd.place_script(layout, str(src)))
    _assert_placed(data_dir, layout, src)
    previous = data_dir / rd.PREVIOUS_DIR
    assert (previous / 'dump.rdb').read_bytes() == OLD_DUMP
    assert _tree(previous / 'appendonlydir') == OLD_AOF
    assert (data_dir / 'redis.log').read_bytes() == b'log'
    expected_top = {'dump.rdb', 'redis.log', rd.PREVIOUS_DIR} | ({'appendonlydir'} if appendonly else set())
    assert set(os.listdir(str(data_dir))) == expected_top

    _sh(rd.rollback_script(layout))
    assert _tree(data_dir) == before
    assert not previous.exists()


@pytest.mark.parametrize('appendonly', [True, False])
def test_place_then_cleanup(tmp_path, appendonly):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir, appendonly)
    _populate(data_dir, layout)
    src = _source(tmp_path)
    _sh(rd.place_script(layout, str(src)))
    placed = _tree(data_dir)
    _sh(rd.cleanup_script(layout))
    assert not (data_dir / rd.PREVIOUS_DIR).exists() and not (data_dir / rd.INCOMING_DIR).exists()
    assert _tree(data_dir) == dict((k, v) for k, v in placed.items() if not k.startswith(rd.PREVIOUS_DIR))
    _assert_placed(data_dir, layout, src)
    # a second cleanup has nothing to do and still succeeds
    _sh(rd.cleanup_script(layout))


def test_cleanup_removes_a_left_over_incoming_dir(tmp_path):
    data_dir = tmp_path / 'data'
    (data_dir / rd.INCOMING_DIR).mkdir(parents=True)
    (data_dir / rd.INCOMING_DIR / 'dump.rdb').write_bytes(b'half')
    (data_dir / rd.PREVIOUS_DIR).mkdir()
    (data_dir / 'dump.rdb').write_bytes(b'live')
    _sh(rd.cleanup_script(_layout(data_dir)))
    assert os.listdir(str(data_dir)) == ['dump.rdb']


@pytest.mark.parametrize('appendonly', [True, False])
def test_first_restore_into_an_empty_dir(tmp_path, appendonly):
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    layout = _layout(data_dir, appendonly)
    src = _source(tmp_path)
    _sh(rd.place_script(layout, str(src)))
    _assert_placed(data_dir, layout, src)
    assert os.listdir(str(data_dir / rd.PREVIOUS_DIR)) == []
    # rolling back a first restore leaves the directory as empty as it was
    _sh(rd.rollback_script(layout))
    assert os.listdir(str(data_dir)) == []


def test_place_twice_replaces_the_previous_previous(tmp_path):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir)
    _populate(data_dir, layout)
    src = _source(tmp_path)
    _sh(rd.place_script(layout, str(src)))
    (data_dir / rd.PREVIOUS_DIR / 'stale').write_bytes(b'x')
    _sh(rd.place_script(layout, str(src)))
    _assert_placed(data_dir, layout, src)
    # the second run moved the first restore's files aside; the older previous is gone
    assert (data_dir / rd.PREVIOUS_DIR / 'dump.rdb').read_bytes() == SOURCE
    assert not (data_dir / rd.PREVIOUS_DIR / 'stale').exists()


def test_place_clears_a_left_over_incoming_dir(tmp_path):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir)
    _populate(data_dir, layout)
    (data_dir / rd.INCOMING_DIR).mkdir()
    (data_dir / rd.INCOMING_DIR / 'garbage').write_bytes(b'x')
    src = _source(tmp_path)
    _sh(rd.place_script(layout, str(src)))
    _assert_placed(data_dir, layout, src)
    assert not (data_dir / 'garbage').exists()


def test_rollback_without_previous_changes_nothing(tmp_path):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir)
    _populate(data_dir, layout)
    before = _tree(data_dir)
    _sh(rd.rollback_script(layout))
    assert _tree(data_dir) == before


def test_place_fails_on_a_missing_source_and_keeps_the_live_files(tmp_path):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir)
    _populate(data_dir, layout)
    out = subprocess.run(['sh', '-c', rd.place_script(layout, str(tmp_path / 'nope.rdb'))],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode != 0
    assert (data_dir / 'dump.rdb').read_bytes() == OLD_DUMP
    assert _tree(data_dir / 'appendonlydir') == OLD_AOF


@pytest.mark.parametrize('dirname', ['my data', "o'data", "it's a 'dir' $HOME `x`"])
def test_awkward_dir_names_are_quoted(tmp_path, dirname):
    data_dir = tmp_path / dirname
    layout = _layout(data_dir)
    _populate(data_dir, layout)
    before = _tree(data_dir)
    src = _source(tmp_path, 'redis_backup_20240115_030000.rdb')
    _sh(rd.place_script(layout, str(src)))
    _assert_placed(data_dir, layout, src)
    _sh(rd.rollback_script(layout))
    assert _tree(data_dir) == before
    _sh(rd.place_script(layout, str(src)))
    _sh(rd.cleanup_script(layout))
    _assert_placed(data_dir, layout, src)
    assert not (data_dir / rd.PREVIOUS_DIR).exists()
    # nothing was created beside the data dir (e.g. by a word split of its name)
    assert sorted(os.listdir(str(tmp_path))) == sorted(['backups dir', 'cwd', dirname])
    assert os.listdir(str(tmp_path / 'cwd')) == []


def test_awkward_source_and_file_names(tmp_path):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir, dbfilename="my dump's.rdb", appenddirname='aof dir', appendfilename="it's.aof")
    _populate(data_dir, layout)
    before = _tree(data_dir)
    src = _source(tmp_path, "odd 'name'.rdb")
    _sh(rd.place_script(layout, str(src)))
    _assert_placed(data_dir, layout, src)
    assert (data_dir / 'aof dir' / "it's.aof.manifest").read_text() == "file it's.aof.1.base.rdb seq 1 type b\n"
    _sh(rd.rollback_script(layout))
    assert _tree(data_dir) == before


def test_placed_files_take_the_data_dirs_owner(tmp_path):
    data_dir = tmp_path / 'data'
    layout = _layout(data_dir)
    _populate(data_dir, layout)
    src = _source(tmp_path)
    _sh(rd.place_script(layout, str(src)))
    owner = os.stat(str(data_dir))
    for rel in ('dump.rdb', 'appendonlydir', 'appendonlydir/appendonly.aof.1.base.rdb',
                'appendonlydir/appendonly.aof.manifest'):
        st = os.stat(str(data_dir / rel))
        assert (st.st_uid, st.st_gid) == (owner.st_uid, owner.st_gid), rel
    assert stat.S_ISDIR(os.stat(str(data_dir / 'appendonlydir')).st_mode)


def test_scripts_stop_at_the_first_error(tmp_path):
    layout = _layout('/nonexistent/fleet-test-dir')
    for script in (rd.place_script(layout, '/x.rdb'), rd.rollback_script(layout), rd.cleanup_script(layout)):
        assert script.startswith('set -eu\n') and script.endswith('\n')
        out = subprocess.run(['sh', '-c', script], capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode != 0
        assert not os.path.exists('/nonexistent/fleet-test-dir')
        assert os.listdir(str(tmp_path / 'cwd')) == []
