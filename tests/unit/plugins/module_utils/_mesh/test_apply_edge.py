# SPDX-License-Identifier: GPL-3.0-or-later
"""The routing run's edge option (nginx_mesh, toggle_deploy's mesh): the sidecar task's edge parameters, checked like a task of their own."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import apply

TASK = {'user': 'u1', 'project': 'myapp', 'env': 'prod', 'kind': 'sidecar', 'routes': [], 'image': 'nginx',
        'config_dir': '/local/u1/myapp/prod/config/nginx', 'network': 'u1_myapp_prod_net', 'http_port': 80,
        'bind_address': '0.0.0.0', 'container_name': None, 'reload_timeout': 30, 'state': 'present',
        'docker_host': 'unix:///var/run/docker.sock'}


def test_the_edge_takes_the_tasks_tenant_and_image_and_its_own_site():
    edge = apply.edge_params(dict(TASK, edge={
        'routes': [{'service': 'api', 'domain': 'api.example.com', 'upstreams': ['10.0.0.2:8357']}],
        'config_dir': '/local/.fleet/edge', 'http_port': 8080, 'container_name': 'u1_edge'}))
    assert (edge['kind'], edge['config_dir'], edge['http_port'], edge['container_name']) == (
        'edge', '/local/.fleet/edge', 8080, 'u1_edge')
    assert (edge['user'], edge['image'], edge['bind_address']) == ('u1', 'nginx', '0.0.0.0')
    assert edge['routes'][0]['protocol'] == 'http' and edge['network'] is None and edge['edge'] is None


def test_an_unknown_key_or_a_missing_directory_is_one_error():
    with pytest.raises(ValueError, match='edge: unknown keys image'):
        apply.edge_params(dict(TASK, edge={'config_dir': '/e', 'image': 'other'}))
    with pytest.raises(ValueError, match='edge: .*config_dir'):
        apply.edge_params(dict(TASK, edge={'routes': []}))


def test_a_retire_that_waits_to_be_told_names_its_go_files(monkeypatch):
    """Over several servers (retire.go_timeout) the routing run says which files tell its retires to go."""
    monkeypatch.setattr(apply._nginx, 'sidecar', lambda client, p, check_mode: {'changed': False, 'diff': []})
    monkeypatch.setattr(apply, 'retire_old_slots', lambda *args: ['api'])
    retire = {'services': ['api', 'web'], 'state_dir': '/s', 'drain_seconds': 1.0, 'stop_timeout': 10}
    p = apply.checked(dict(TASK, retire=dict(retire, go_timeout=300.0)))
    result = apply.route('client', p, False)
    assert result['retiring'] == ['api'] and result['go_files'] == ['/s/api.retiring.json.go']
    # a server alone in the play retires at once: nothing to tell
    assert 'go_files' not in apply.route('client', apply.checked(dict(TASK, retire=retire)), False)
