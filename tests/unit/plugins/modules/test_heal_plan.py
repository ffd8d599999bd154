# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.heal_plan: the decision, the in-flight lock, the history and the controller's incident."""
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.projectdeployer.fleet.plugins.modules import heal_plan as mod

C_DEAD = {'dead': ['10.0.0.4'], 'alive': ['10.0.0.2', '10.0.0.3'], 'leader': '10.0.0.2'}


class Exit(Exception):
    pass


def run(monkeypatch, tmp_path, **args):
    def done(self, **result):
        raise Exit(result)

    def failed(self, msg, **result):
        raise Exit(dict(result, msg=msg, failed=True))
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', done)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', failed)
    with patch_module_args(dict(dict(user='u1', project='app', env='prod', state_dir=str(tmp_path)), **args)):
        with pytest.raises(Exit) as answer:
            mod.main()
    return answer.value.args[0]


def servers(c_reachable):
    return [{'name': 'a', 'address': '10.0.0.2', 'reachable': True, 'verdict': C_DEAD, 'services': ['web']},
            {'name': 'b', 'address': '10.0.0.3', 'reachable': True, 'verdict': C_DEAD, 'services': ['web']},
            {'name': 'c', 'address': '10.0.0.4', 'reachable': c_reachable, 'verdict': None, 'services': ['web'],
             'status': 'active'}]


def test_replace_then_in_flight_then_recorded(monkeypatch, tmp_path):
    decided = run(monkeypatch, tmp_path, servers=servers(False))
    assert decided['action'] == 'replace' and decided['server'] == 'c', decided
    run(monkeypatch, tmp_path, phase='begin', server='c')
    assert run(monkeypatch, tmp_path, servers=servers(False))['reason'] == 'a replacement of this env is already in flight'
    run(monkeypatch, tmp_path, phase='end', server='c', outcome='replaced')
    lines = (tmp_path / 'monitoring' / 'health' / 'heal_history.jsonl').read_text().splitlines()
    assert any(json.loads(line).get('outcome') == 'replaced' for line in lines)
    assert run(monkeypatch, tmp_path, servers=servers(False))['action'] == 'replace'   # the lock is gone


def test_a_partition_opens_one_incident_on_the_controller(monkeypatch, tmp_path):
    decided = run(monkeypatch, tmp_path, servers=servers(True))
    assert decided['action'] == 'alert' and 'partition' in decided['reason']
    found = json.loads((tmp_path / 'monitoring' / 'health' / 'incidents.json').read_text())
    assert list(found) == ['heal:partition'] and not found['heal:partition']['resolved_at']
    alive = [dict(s, verdict={'dead': [], 'alive': ['10.0.0.2', '10.0.0.3', '10.0.0.4']}, reachable=True)
             for s in servers(True)]
    assert run(monkeypatch, tmp_path, servers=alive)['action'] == 'none'
    found = json.loads((tmp_path / 'monitoring' / 'health' / 'incidents.json').read_text())
    assert found['heal:partition']['resolved_at']


def test_backups_are_read_only_when_a_server_is_judged_dead(monkeypatch, tmp_path):
    read = []
    monkeypatch.setattr(mod.backup_files, 'newest_pulled', lambda folder, service: read.append(service))
    alive = [dict(s, verdict={'dead': [], 'alive': ['10.0.0.2', '10.0.0.3', '10.0.0.4']}, reachable=True)
             for s in servers(True)]
    assert run(monkeypatch, tmp_path, servers=alive, stateful=['web'])['action'] == 'none' and read == []
    run(monkeypatch, tmp_path, servers=servers(False), stateful=['web'])
    assert read == ['web']
