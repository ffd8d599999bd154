# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.routes import mesh_routes, promoted_view

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


ZONED = [
    {'address': '10.1.0.5', 'zone': 'lon1', 'services': {'api': {'active_port': 8100}, 'postgres': {'active_port': 8300}}},
    {'address': '10.2.0.5', 'zone': 'nyc3', 'services': {'api': {'active_port': 8100}}},
    {'address': '10.2.0.6', 'zone': 'nyc3', 'services': {'api': {'active_port': 8101}}},
]


def test_http_routes_stay_in_the_servers_zone_and_databases_reach_across():
    routes = mesh_routes(ROWS, ZONED, 'nyc3')
    by_service = dict((r['service'], r['upstreams']) for r in routes['sidecar'])
    assert by_service == {'api': ['10.2.0.5:8100', '10.2.0.6:8101'], 'postgres': ['10.1.0.5:8300']}
    assert routes['edge'][0]['upstreams'] == ['10.2.0.5:8100', '10.2.0.6:8101']
    assert mesh_routes(ROWS, ZONED, 'lon1')['edge'][0]['upstreams'] == ['10.1.0.5:8100']


def test_a_zone_where_the_service_does_not_serve_routes_to_every_zone():
    routes = mesh_routes(ROWS, ZONED, 'sgp1')
    assert routes['edge'][0]['upstreams'] == ['10.1.0.5:8100', '10.2.0.5:8100', '10.2.0.6:8101']
    assert mesh_routes(ROWS, ZONED)['edge'][0]['upstreams'] == routes['edge'][0]['upstreams']


def test_promoted_view_puts_the_started_services_in_their_new_slots():
    view = {'changed': False, 'services': {
        'api': {'active_slot': 'primary', 'active_port': 8100, 'active_container': 'u1_app_prod_api',
                'active_version': '3', 'containers': []},
        'postgres': {'active_slot': 'primary', 'active_port': 8300}}}
    started = [{'item': 'api', 'active_slot': 'secondary', 'active_port': 18100,
                'active_container': 'u1_app_prod_api_secondary', 'version': '4'},
               {'item': 'web', 'active_slot': 'primary', 'active_port': 8200, 'active_container': 'u1_app_prod_web'}]
    out = promoted_view(view, started)
    assert out['services']['api'] == {'active_slot': 'secondary', 'active_port': 18100,
                                      'active_container': 'u1_app_prod_api_secondary', 'active_version': '3',
                                      'containers': []}
    assert out['services']['web']['active_port'] == 8200
    assert out['services']['postgres'] == view['services']['postgres'] and out['changed'] is False
    assert view['services']['api']['active_port'] == 8100  # the input is left as it was
    assert promoted_view(view, []) == view
    routes = mesh_routes([{'service': 'api', 'type': 'python', 'container_port': 8000, 'internal_port': 7000}],
                         [{'address': '10.0.0.5', 'services': out['services']}])
    assert routes['sidecar'][0]['upstreams'] == ['10.0.0.5:18100']
