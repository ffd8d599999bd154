# SPDX-License-Identifier: GPL-3.0-or-later
from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare.targets import (
    cloudflare_targets, failure_lines, server_view)

ROWS = [
    {'service': 'api', 'domain': 'api.example.test', 'ssl_mode': 'letsencrypt'},
    {'service': 'web', 'domain': 'www.example.test', 'ssl_mode': 'cloudflare'},
    {'service': 'db', 'domain': None, 'ssl_mode': None},
]


def srv(name, zone, address, services, passed=True):
    return {'name': name, 'zone': zone, 'address': address, 'services': services, 'passed': passed}


SERVERS = [
    srv('api-lon1-1', 'lon1', '192.0.2.1', ['api']), srv('api-lon1-2', 'lon1', '192.0.2.2', ['api']),
    srv('api-nyc3-1', 'nyc3', '198.51.100.1', ['api']), srv('web-lon1-1', 'lon1', '192.0.2.9', ['web']),
    srv('db-lon1-1', 'lon1', '192.0.2.20', ['db']),
]


def test_a_domain_in_several_zones_is_balanced_one_in_one_zone_gets_records():
    found = cloudflare_targets(ROWS, SERVERS)
    assert found['balanced'] == [{'service': 'api', 'hostname': 'api.example.test', 'tls': True,
                                  'regions': {'lon1': ['192.0.2.1', '192.0.2.2'], 'nyc3': ['198.51.100.1']}}]
    assert found['records'] == [{'service': 'web', 'name': 'www.example.test', 'content': ['192.0.2.9'],
                                 'proxied': True}]
    assert found['failed'] == []


def test_a_failed_zone_leaves_the_load_balancer_and_is_named():
    servers = SERVERS[:2] + [srv('api-nyc3-1', 'nyc3', '198.51.100.1', ['api'], passed=False)]
    found = cloudflare_targets(ROWS, servers)
    assert found['balanced'][0]['regions'] == {'lon1': ['192.0.2.1', '192.0.2.2']}
    assert found['failed'] == [{'service': 'api', 'hostname': 'api.example.test', 'zone': 'nyc3',
                                'servers': ['api-nyc3-1']}]
    line, = failure_lines(found['failed'], found)
    assert line.startswith('zone nyc3 failed for api (api-nyc3-1): the load balancer of api.example.test points at lon1')
    assert '; fix: ' in line


def test_a_domain_whose_servers_all_failed_is_left_as_it_was():
    servers = [dict(s, passed=False) for s in SERVERS]
    found = cloudflare_targets(ROWS, servers)
    assert found['balanced'] == [] and found['records'] == []
    assert 'is left as it was' in failure_lines(found['failed'], found)[0]


def test_server_views_leave_out_surplus_and_zones_the_run_left():
    assert server_view('a', {'fleet_droplet_surplus': True}) is None
    assert server_view('a', {'deploy_left_out': True}) is None
    view = server_view('a', {'ansible_host': '203.0.113.5', 'deploy_served': ['api'], 'deploy_passed': True})
    assert view == {'name': 'a', 'zone': 'local', 'address': '203.0.113.5', 'services': ['api'], 'passed': True}
    view = server_view('b', {'fleet_public_ip': '192.0.2.7', 'ansible_host': '10.0.0.1', 'fleet_zone': 'lon1',
                             'deploy_served': ['api']})
    assert view['address'] == '192.0.2.7' and view['zone'] == 'lon1' and view['passed'] is False


def test_a_multi_zone_run_keeps_the_load_balancer_with_one_zone_left_and_orders_by_preference():
    rows = [dict(ROWS[0], zones=['nyc3', 'lon1']), dict(ROWS[1], zones=['lon1'])]
    found = cloudflare_targets(rows, SERVERS, zones=['nyc3', 'lon1'])
    assert list(found['balanced'][0]['regions']) == ['nyc3', 'lon1']
    assert found['records'][0]['name'] == 'www.example.test'     # web's one zone is its server_zone: records
    rows = [dict(ROWS[0], zones=['lon1'])]
    found = cloudflare_targets(rows, SERVERS[:2], zones=['lon1'])
    assert found['balanced'][0]['regions'] == {'lon1': ['192.0.2.1', '192.0.2.2']} and found['records'] == []
