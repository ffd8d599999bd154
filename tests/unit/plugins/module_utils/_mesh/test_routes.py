# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.routes import mesh_routes

ROWS = [
    {'service': 'postgres', 'type': 'postgres', 'container_port': 5432, 'internal_port': 5563, 'domain': None},
    {'service': 'api', 'type': 'python', 'container_port': 8000, 'internal_port': 5100, 'domain': 'api.example.com'},
    {'service': 'worker', 'type': 'python', 'container_port': None, 'internal_port': 5200, 'domain': None},
]
SERVERS = [
    {'address': '10.0.0.6', 'services': {'api': {'active_port': 18100}, 'postgres': {'active_port': 8300}}},
    {'address': '10.0.0.5', 'services': {'api': {'active_port': 8100}, 'worker': {'active_port': None}}},
]


def test_routes_cover_every_replica_sorted():
    routes = mesh_routes(ROWS, SERVERS)
    assert routes['sidecar'] == [
        {'service': 'api', 'protocol': 'http', 'listen': 5100, 'upstreams': ['10.0.0.5:8100', '10.0.0.6:18100']},
        {'service': 'postgres', 'protocol': 'tcp', 'listen': 5563, 'upstreams': ['10.0.0.6:8300']},
    ]
    assert routes['edge'] == [{'service': 'api', 'protocol': 'http', 'domain': 'api.example.com',
                               'upstreams': ['10.0.0.5:8100', '10.0.0.6:18100'], 'tls': False, 'hsts': False}]


def test_service_not_running_yet_has_no_upstreams():
    routes = mesh_routes(ROWS, [{'address': '10.0.0.5', 'services': {}}])
    assert all(r['upstreams'] == [] for r in routes['sidecar'])
