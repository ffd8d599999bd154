# SPDX-License-Identifier: GPL-3.0-or-later
"""toggle_deploy's promote option: every new slot recorded in the start's run, or none."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import toggler
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active, write_active
from ansible_collections.projectdeployer.fleet.plugins.modules import toggle_deploy


def entries(state_dir):
    return [{'service': name, 'state': 'started', 'state_dir': state_dir} for name in ('api', 'web', 'docs')]


def started():
    return [{'item': 'api', 'failed': False, 'settled': False, 'active_slot': 'secondary'},
            {'item': 'web', 'failed': False, 'settled': False, 'active_slot': 'primary'},
            {'item': 'docs', 'failed': False, 'settled': True, 'active_slot': 'primary'}]


def fake_run_one(fail_on=None):
    def run_one(params, client_factory, check_mode):
        if params['service'] == fail_on:
            return {'item': params['service'], 'failed': True, 'msg': '%s: cannot promote' % params['service']}
        write_active(params['state_dir'], params['service'], {'slot': params['slot']})
        return {'item': params['service'], 'failed': False}
    return run_one


def test_every_started_service_is_recorded_and_a_settled_one_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(toggle_deploy, 'run_one', fake_run_one())
    results = started()
    toggle_deploy.promote_all(entries(str(tmp_path)), results, None)
    assert [r.get('promoted') for r in results] == [True, True, None]
    assert read_active(str(tmp_path), 'api') == {'slot': 'secondary'}
    assert read_active(str(tmp_path), 'docs') == {}


def test_one_that_cannot_be_recorded_puts_the_others_back(tmp_path, monkeypatch):
    write_active(str(tmp_path), 'api', {'slot': 'primary'})
    monkeypatch.setattr(toggle_deploy, 'run_one', fake_run_one(fail_on='web'))
    results = started()
    toggle_deploy.promote_all(entries(str(tmp_path)), results, None)
    assert read_active(str(tmp_path), 'api') == {'slot': 'primary'}  # as before
    assert read_active(str(tmp_path), 'web') == {}
    assert results[1]['failed'] and results[1]['msg'] == 'web: cannot promote'
    assert not any(r.get('promoted') for r in results)
    assert toggler.run_one  # the real one is untouched
