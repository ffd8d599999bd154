# SPDX-License-Identifier: GPL-3.0-or-later
"""_backup/opensearch: the HTTP calls, the replies, the snapshot and the archive checks."""
import contextlib
import io
import json
import tarfile

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import engine
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import opensearch as osr

REPO_FILES = [('.', 'dir'), ('./index-0', 'file'), ('./index.latest', 'file'), ('./indices', 'dir'),
              ('./indices/Xy1/0/__a', 'file'), ('./meta-AbC.dat', 'file'), ('./snap-AbC_d-1.dat', 'file')]


def test_curl_calls_loopback_with_a_json_body_and_asks_for_the_status():
    argv = osr.curl('PUT', '/_snapshot/fleet-backup', {'type': 'fs'}, timeout=90)
    assert argv[0] == 'curl' and argv[-1] == 'http://127.0.0.1:9200/_snapshot/fleet-backup'
    assert argv[argv.index('-X') + 1] == 'PUT' and argv[argv.index('--max-time') + 1] == '90'
    assert json.loads(argv[argv.index('--data-binary') + 1]) == {'type': 'fs'}
    assert 'Content-Type: application/json' in argv and '\n%{http_code}' in argv


def test_curl_without_a_body_sends_none():
    argv = osr.curl('GET', '/')
    assert '--data-binary' not in argv and '-H' not in argv


def test_a_reply_gives_its_status_and_json():
    assert osr.parse_reply('{"acknowledged":true}\n200', 'PUT x') == (200, {'acknowledged': True})
    assert osr.parse_reply('\n404', 'DELETE x', ok=(200, 404)) == (404, {})


def test_an_error_reply_names_the_call_and_the_root_cause():
    body = {'error': {'root_cause': [{'type': 'repository_exception', 'reason': '[r] location is not in path.repo'}],
                      'type': 'repository_exception', 'reason': 'outer'}, 'status': 500}
    with pytest.raises(ValueError) as exc:
        osr.parse_reply(json.dumps(body) + '\n500', 'PUT /_snapshot/fleet-backup in c1')
    assert str(exc.value) == ('PUT /_snapshot/fleet-backup in c1: HTTP 500 repository_exception: '
                              '[r] location is not in path.repo')


def test_a_reply_without_a_status_is_refused():
    with pytest.raises(ValueError, match='no HTTP status'):
        osr.parse_reply('curl: (7) Failed to connect', 'GET /')


def test_a_non_json_body_is_kept_as_text():
    assert osr.parse_reply('<html>oops</html>\n502', 'GET /', ok=(502,)) == (502, {'text': '<html>oops</html>'})


def test_the_repository_is_fs_under_path_repo():
    assert osr.repository_body(osr.BACKUP_DIR) == {
        'type': 'fs', 'settings': {'location': '/usr/share/opensearch/snapshots/backup', 'readonly': False}}
    assert osr.repository_body(osr.RESTORE_DIR, readonly=True)['settings']['readonly'] is True


def test_snapshot_names_are_lowercase_and_follow_the_backup():
    assert osr.snapshot_name('search_backup_20261201_040000.tar') == 'search-20261201-040000'
    assert osr.snapshot_name('Os_2_backup_20261201_040000.tar') == 'os-2-20261201-040000'


def test_the_snapshot_takes_user_indices_without_cluster_state():
    body = osr.snapshot_body()
    assert body['indices'] == '*,-.*' and body['include_global_state'] is False


def test_a_successful_snapshot_gives_its_indices():
    assert osr.snapshot_result({'snapshot': {'state': 'SUCCESS', 'indices': ['b', 'a']}}, 's') == ['a', 'b']


@pytest.mark.parametrize('body, says', [
    ({'snapshot': {'state': 'PARTIAL', 'failures': [{'reason': 'shard failed'}]}}, 'ended PARTIAL (shard failed)'),
    ({'snapshot': {'state': 'FAILED'}}, 'ended FAILED (FAILED)'),
    ({}, 'ended without a state'),
])
def test_a_snapshot_that_did_not_succeed_is_an_error(body, says):
    with pytest.raises(ValueError, match=r'snapshot s1 ' + says.replace('(', r'\(').replace(')', r'\)')):
        osr.snapshot_result(body, 's1')


def test_a_restored_repository_must_hold_one_successful_snapshot():
    listing = {'snapshots': [{'snapshot': 's1', 'state': 'SUCCESS', 'indices': ['b', 'a']}]}
    assert osr.the_snapshot(listing, 'x.tar') == ('s1', ['a', 'b'])
    with pytest.raises(ValueError, match='x.tar holds 0 successful snapshots \\(of 1\\)'):
        osr.the_snapshot({'snapshots': [{'snapshot': 's1', 'state': 'FAILED'}]}, 'x.tar')
    with pytest.raises(ValueError, match='holds 2 successful'):
        osr.the_snapshot({'snapshots': [{'snapshot': n, 'state': 'SUCCESS'} for n in 'ab']}, 'x.tar')


def test_a_repository_archive_passes():
    assert 'snap-AbC_d-1.dat' in osr.check_archive(REPO_FILES, 'x.tar')


@pytest.mark.parametrize('members, says', [
    ([m for m in REPO_FILES if m[0] != './index.latest'], 'no index.latest'),
    ([m for m in REPO_FILES if not m[0].startswith('./snap-')], 'no snap-\\*.dat'),
    ([('./notes.txt', 'file')], 'no index.latest, index-N, snap-\\*.dat'),
    (REPO_FILES + [('./link', 'other')], 'holds ./link, which is neither a file nor a folder'),
    (REPO_FILES + [('../etc/passwd', 'file')], 'holds ../etc/passwd, outside its repository'),
    (REPO_FILES + [('/etc/passwd', 'file')], 'holds /etc/passwd, outside its repository'),
    (REPO_FILES + [('./a/../../x', 'file')], 'outside its repository'),
])
def test_an_archive_that_is_not_one_repository_is_refused(members, says):
    with pytest.raises(ValueError, match=says) as exc:
        osr.check_archive(members, 'search_backup_20261201_040000.tar')
    assert 'use another backup' in str(exc.value)


def test_user_indices_leave_the_servers_own_aside():
    rows = [{'index': 'docs', 'docs.count': '3'}, {'index': '.opensearch-observability', 'docs.count': '0'},
            {'index': 'closed', 'docs.count': None}]
    assert osr.user_indices(rows) == {'docs': 3, 'closed': None}


def test_the_restore_replaces_shared_indices_and_removes_the_others():
    assert osr.restore_plan({'a': 1, 'b': 2, 'new': 0}, ['a', 'b', 'gone']) == (['a', 'b'], ['new'])
    assert osr.restore_body(['a', 'b'])['indices'] == 'a,b'


def _tar(tmp_path, members):
    path = tmp_path / 'search_backup_20261201_040000.tar'
    with tarfile.open(path, 'w') as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.SYMTYPE
                info.linkname = '/etc/passwd'
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return str(path)


def test_archive_members_read_a_real_tar(tmp_path):
    path = _tar(tmp_path, [('./index.latest', b'x'), ('./l', None)])
    assert engine.archive_members(path) == [('./index.latest', 'file'), ('./l', 'other')]


def test_a_file_that_is_no_tar_is_refused(tmp_path):
    path = tmp_path / 'search_backup_20261201_040000.tar'
    path.write_bytes(b'\x00garbage' * 100)
    with pytest.raises(ValueError, match='not a readable tar'):
        engine.archive_members(str(path))


# ---------------------------------------------------------------- the restore's order (engine, stubbed calls)

class Calls(object):
    def __init__(self, monkeypatch, fail_swap=(), fail_stage=()):
        self.log = []
        swaps = []

        def stage(svc, path):
            self.log.append(('stage', path))
            if path in fail_stage:
                raise engine.FleetDockerError('stage %s failed' % path)
            return 'snap', ['a']

        def swap(svc, snapshot, indices, timeout):
            swaps.append(snapshot)
            self.log.append(('swap', len(swaps)))
            if len(swaps) in fail_swap:
                raise engine.FleetDockerError('swap %d failed' % len(swaps))
            return {'snapshot': snapshot}

        monkeypatch.setattr(engine, '_stage_opensearch', stage)
        monkeypatch.setattr(engine, '_swap_opensearch', swap)
        monkeypatch.setattr(engine, '_drop_repository', lambda *a: self.log.append(('drop',)))
        monkeypatch.setattr(engine, 'held', lambda path: contextlib.nullcontext())


SAFETY = {'path': '/b/safety.tar', 'name': 'safety.tar'}
SVC = type('Svc', (), {'lock_dir': '/nowhere/config/deploy'})()


def test_a_restore_stages_swaps_and_drops_the_repository(monkeypatch):
    calls = Calls(monkeypatch)
    assert engine.restore_opensearch(SVC, '/b/x.tar', 60, SAFETY) == {'snapshot': 'snap'}
    assert calls.log == [('stage', '/b/x.tar'), ('swap', 1), ('drop',)]


def test_a_snapshot_the_server_cannot_read_changes_nothing_live(monkeypatch):
    calls = Calls(monkeypatch, fail_stage=('/b/x.tar',))
    with pytest.raises(engine.FleetDockerError, match='stage /b/x.tar failed'):
        engine.restore_opensearch(SVC, '/b/x.tar', 60, SAFETY)
    assert ('swap', 1) not in calls.log and calls.log[-1] == ('drop',)


def test_a_swap_failing_midway_puts_the_safety_backup_back(monkeypatch):
    calls = Calls(monkeypatch, fail_swap=(1,))
    with pytest.raises(engine.FleetDockerError, match='swap 1 failed'):
        engine.restore_opensearch(SVC, '/b/x.tar', 60, SAFETY)
    assert calls.log == [('stage', '/b/x.tar'), ('swap', 1), ('drop',), ('stage', '/b/safety.tar'), ('swap', 2),
                         ('drop',)]


def test_when_the_safety_backup_cannot_go_back_either_the_error_says_how_to_restore_it(monkeypatch):
    Calls(monkeypatch, fail_swap=(1, 2))
    with pytest.raises(engine.FleetDockerError) as exc:
        engine.restore_opensearch(SVC, '/b/x.tar', 60, SAFETY)
    assert str(exc.value) == ('swap 1 failed; putting the safety backup safety.tar back failed too (swap 2 failed): '
                              'restore it by hand (restore.yml -e backup_file=safety.tar)')


def test_without_a_safety_backup_a_failed_swap_is_only_reported(monkeypatch):
    calls = Calls(monkeypatch, fail_swap=(1,))
    with pytest.raises(engine.FleetDockerError, match='swap 1 failed'):
        engine.restore_opensearch(SVC, '/b/x.tar', 60, None)
    assert calls.log == [('stage', '/b/x.tar'), ('swap', 1), ('drop',)]
