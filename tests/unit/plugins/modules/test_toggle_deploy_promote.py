# SPDX-License-Identifier: GPL-3.0-or-later
"""The promotion of a group's new slots, all or none: toggle_deploy's promote option (in the start's run) and
the routing run's (nginx_mesh, module_utils/_mesh/apply)."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import promote, toggler
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active, write_active
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import apply
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
        changed = write_active(params['state_dir'], params['service'], {'slot': params['slot']})
        return {'item': params['service'], 'failed': False, 'changed': changed}
    return run_one


def test_every_started_service_is_recorded_and_a_settled_one_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(promote, 'run_one', fake_run_one())
    results = started()
    toggle_deploy.promote_all(entries(str(tmp_path)), results, None)
    assert not any(r.get('failed') for r in results)
    assert read_active(str(tmp_path), 'api') == {'slot': 'secondary'}
    assert read_active(str(tmp_path), 'web') == {'slot': 'primary'}
    assert read_active(str(tmp_path), 'docs') == {}


def test_one_that_cannot_be_recorded_puts_the_others_back(tmp_path, monkeypatch):
    write_active(str(tmp_path), 'api', {'slot': 'primary'})
    monkeypatch.setattr(promote, 'run_one', fake_run_one(fail_on='web'))
    results = started()
    toggle_deploy.promote_all(entries(str(tmp_path)), results, None)
    assert read_active(str(tmp_path), 'api') == {'slot': 'primary'}  # as before
    assert read_active(str(tmp_path), 'web') == {}
    assert results[1]['failed'] and results[1]['msg'] == 'web: cannot promote'
    assert [bool(r.get('failed')) for r in results] == [False, True, False]
    assert toggler.run_one  # the real one is untouched


def mesh_params(state_dir, services):
    return {'user': 'u1', 'project': 'app', 'env': 'prod', 'docker_host': 'unix:///nowhere.sock',
            'promote': {'state_dir': state_dir, 'services': services}}


def test_the_routing_run_records_the_slots_and_says_which_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(promote, 'run_one', fake_run_one())
    state_dir = str(tmp_path)
    write_active(state_dir, 'web', {'slot': 'primary'})
    services = [{'service': 'api', 'slot': 'secondary'}, {'service': 'web', 'slot': 'primary'}]
    assert apply.promote(mesh_params(state_dir, services), ('u1', 'app', 'prod'), False) == ['api']
    assert read_active(state_dir, 'api') == {'slot': 'secondary'}
    # check mode records nothing and says what it would
    assert apply.promote(mesh_params(state_dir, [{'service': 'docs', 'slot': 'primary'}]),
                         ('u1', 'app', 'prod'), True) == ['docs']
    assert read_active(state_dir, 'docs') == {}


def test_a_slot_that_cannot_be_recorded_fails_the_routing_run_before_any_route(tmp_path, monkeypatch):
    monkeypatch.setattr(promote, 'run_one', fake_run_one(fail_on='web'))
    state_dir = str(tmp_path)
    write_active(state_dir, 'api', {'slot': 'primary'})
    services = [{'service': 'api', 'slot': 'secondary'}, {'service': 'web', 'slot': 'primary'}]
    with pytest.raises(ValueError, match='web: cannot promote; nothing was recorded and no route changed'):
        apply.promote(mesh_params(state_dir, services), ('u1', 'app', 'prod'), False)
    assert read_active(state_dir, 'api') == {'slot': 'primary'}


def test_the_promotion_parameters_are_toggle_deploys():
    params = promote.promotion_params(('u1', 'app', 'prod'), 'api', '/srv/state', 'unix:///var/run/docker.sock')
    assert (params['state'], params['service'], params['state_dir']) == ('promoted', 'api', '/srv/state')
    assert (params['user'], params['project'], params['env']) == ('u1', 'app', 'prod')
    assert params['drain_seconds'] == 2 and params['image'] is None  # toggle_deploy's defaults


TASK = {'user': 'u1', 'project': 'app', 'env': 'prod', 'state_dir': '/local/u1/app/prod/config/deploy',
        'docker_host': 'unix:///var/run/docker.sock',
        'mesh': {'services': [{'service': 'api', 'type': 'python', 'container_port': 8000, 'internal_port': 5100,
                               'domain': None}],
                 'address': '10.0.0.5', 'zone': None, 'image': 'nginx', 'config_dir': '/c', 'network': 'u1_app_prod_net',
                 'edge': None, 'drain_seconds': 1.0}}


def test_a_lone_server_routes_in_the_start_and_retires_what_it_started(monkeypatch):
    """toggle_deploy's mesh: the routes from what serves here; only the services that started a new slot retire."""
    routed = []
    monkeypatch.setattr(toggle_deploy, 'route', lambda client, p, check_mode: routed.append((client, p)) or {
        'changed': True, 'reloaded': True, 'diff': [{'before': 'x'}]})
    extra = toggle_deploy.route_here('the client', TASK, started(), {'api': {'active_port': 18100}})
    assert extra == {'routed': True, 'mesh': {'changed': True, 'reloaded': True}}
    ((client, p),) = routed
    assert client == 'the client' and p['routes'][0]['upstreams'] == ['10.0.0.5:18100'] and p['retire']['services'] == ['api', 'web']


def test_a_routing_that_fails_in_the_start_is_said_not_raised(monkeypatch):
    def refuse(client, p, check_mode):
        raise apply.MeshFailed('sidecar u1_app_prod: nginx -t: unknown directive')
    monkeypatch.setattr(toggle_deploy, 'route', refuse)
    assert toggle_deploy.route_here('the client', TASK, started(), {'api': {'active_port': 18100}}) == {
        'routed': False, 'mesh_error': 'sidecar u1_app_prod: nginx -t: unknown directive'}
