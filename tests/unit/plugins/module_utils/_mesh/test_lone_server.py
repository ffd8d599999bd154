# SPDX-License-Identifier: GPL-3.0-or-later
"""A server alone in the play routes in its start's run (toggle_deploy's mesh): nginx_mesh's parameters from what
serves on it."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.apply import edge_params
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.lone_server import routing_params

TASK = {'user': 'u1', 'project': 'myapp', 'env': 'prod', 'state_dir': '/local/u1/myapp/prod/config/deploy',
        'docker_host': 'unix:///var/run/docker.sock'}
ROWS = [
    {'service': 'postgres', 'type': 'postgres', 'container_port': 5432, 'internal_port': 5563, 'domain': None},
    {'service': 'api', 'type': 'python', 'container_port': 8000, 'internal_port': 5100, 'domain': 'api.example.com',
     'ssl_mode': 'letsencrypt', 'hsts': True},
]
MESH = {'services': ROWS, 'address': '10.0.0.5', 'zone': None, 'image': 'nginx:1.25',
        'config_dir': '/local/u1/myapp/prod/config/nginx', 'network': 'u1_myapp_prod_net',
        'edge': {'config_dir': '/local/.fleet/edge', 'http_port': 80, 'https_port': 443,
                 'certificates_dir': '/local/u1/myapp/prod/tls', 'bind_address': '0.0.0.0', 'container_name': 'fleet_edge'},
        'drain_seconds': 1.0}
RUNNING = {'api': {'active_port': 18100}, 'postgres': {'active_port': 8300}}


def test_the_routes_name_the_slots_that_serve_here_and_the_old_ones_retire():
    p = routing_params(TASK, MESH, RUNNING, ['api'])
    assert (p['kind'], p['user'], p['image'], p['network'], p['state']) == (
        'sidecar', 'u1', 'nginx:1.25', 'u1_myapp_prod_net', 'present')
    assert [(r['service'], r['protocol'], r['listen'], r['upstreams']) for r in p['routes']] == [
        ('api', 'http', 5100, ['10.0.0.5:18100']), ('postgres', 'tcp', 5563, ['10.0.0.5:8300'])]
    assert p['edge']['routes'] == [{'service': 'api', 'protocol': 'http', 'domain': 'api.example.com',
                                    'upstreams': ['10.0.0.5:18100'], 'tls': True, 'hsts': True}]
    assert p['edge']['container_name'] == 'fleet_edge' and p['promote'] is None
    assert p['retire'] == {'services': ['api'], 'state_dir': TASK['state_dir'], 'drain_seconds': 1.0,
                           'stop_timeout': 10, 'go_timeout': None}


def test_no_domain_no_edge_and_nothing_started_nothing_retired():
    rows = [dict(ROWS[1], domain=None)]
    p = routing_params(TASK, dict(MESH, services=rows), RUNNING, [])
    assert p['edge'] is None and p['retire'] is None
    assert p['routes'][0]['upstreams'] == ['10.0.0.5:18100']


def test_a_wrong_plan_or_edge_is_one_error():
    with pytest.raises(ValueError, match='mesh: services: '):
        routing_params(TASK, dict(MESH, services=[{'type': 'python'}]), RUNNING, [])
    # the edge's options are checked as the routing run takes them (nginx_mesh's edge)
    p = routing_params(TASK, dict(MESH, edge=dict(MESH['edge'], http_port='eighty')), RUNNING, [])
    with pytest.raises(ValueError, match='edge: .*http_port'):
        edge_params(p)
