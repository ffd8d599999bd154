# SPDX-License-Identifier: GPL-3.0-or-later
import json
import os
import stat

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import history as h

CTX = {'user': 'u1', 'project': 'myapp', 'env': 'prod', 'host': 'localhost'}


def test_records_skip_unchanged_and_keep_failures():
    results = [
        {'item': 'api', 'action': 'started', 'version': '2', 'active_slot': 'secondary', 'config_hash': 'h'},
        {'item': 'redis', 'action': 'none'},
        {'item': 'web', 'failed': True, 'msg': 'health check failed', 'error_lines': ['x']},
        {'item': 'skip', 'skipped': True},
    ]
    records = h.records_from_results(results, 'deployed', CTX)
    assert [(r['service'], r['outcome']) for r in records] == [('api', 'deployed'), ('web', 'failed')]
    assert records[1]['error_lines'] == ['x'] and records[0]['version'] == '2'


def test_append_and_read_newest_first(tmp_path):
    path = str(tmp_path / 'mon' / 'history.jsonl')
    for version in ('1', '2', '3'):
        h.append_records(path, [dict(CTX, service='api', version=version, outcome='deployed')])
    h.append_records(path, [dict(CTX, service='web', version='9', outcome='deployed')])
    assert [r['version'] for r in h.read_records(path, service='api', limit=2)] == ['3', '2']
    assert h.read_records(path, limit=1)[0]['service'] == 'web'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert all(json.loads(line) for line in open(path))
    assert h.read_records(str(tmp_path / 'none.jsonl')) == []
