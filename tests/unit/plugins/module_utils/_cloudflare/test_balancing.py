# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._cloudflare import balancing, regions


def test_regions_map_and_refusal():
    assert [regions.cloudflare_region(r) for r in ('lon1', 'nyc3', 'sfo3', 'sgp1', 'syd1')] == [
        'WEU', 'ENAM', 'WNAM', 'SEAS', 'OC']
    with pytest.raises(ValueError, match="fix: use one of"):
        regions.cloudflare_region('mars1')


def test_bodies_and_what_differs():
    body = balancing.balancer_body('u1/app/prod', 'api', 'api.example.test', ['lon1', 'ams3', 'nyc3'],
                                   {'lon1': 'p1', 'ams3': 'p2', 'nyc3': 'p3'}, None, 'geo', True)
    assert body['region_pools'] == {'WEU': ['p1', 'p2'], 'ENAM': ['p3']} and body['fallback_pool'] == 'p1'
    assert body['default_pools'] == ['p1', 'p2', 'p3']
    pool = balancing.pool_body('u1/app/prod', 'api', 'lon1', ['192.0.2.1'], 'm1')
    assert pool['name'] == 'u1-app-prod-api-lon1'
    shown = dict(pool, id='x', created_on='t', origins=[dict(pool['origins'][0], disabled_at=None, weight=1)])
    assert not balancing.differs(shown, pool)
    assert balancing.differs(dict(shown, origins=[]), pool) and balancing.differs(dict(shown, monitor='m2'), pool)
    monitor = balancing.monitor_body('u1/app/prod', 'api', 'api.example.test', {})
    assert monitor['path'] == '/healthz' and monitor['header'] == {'Host': ['api.example.test']}
    assert not balancing.differs(dict(monitor, header={'host': ['api.example.test']}), monitor)


def test_pool_health_is_the_majority_of_the_data_centers():
    pool = {'id': 'p1', 'name': 'u1-myapp-prod-api-lon1', 'origins': [
        {'address': '192.0.2.1', 'enabled': True}, {'address': '192.0.2.2', 'enabled': True},
        {'address': '192.0.2.3', 'enabled': False}]}
    up = {'healthy': True, 'failure_reason': 'No failures'}
    down = {'healthy': False, 'failure_reason': 'TCP connection failed'}
    health = {'pool_id': 'p1', 'pop_health': {
        'Amsterdam, NL': {'healthy': True, 'origins': [{'192.0.2.1': up}, {'192.0.2.2': down}]},
        'Ashburn, US': {'healthy': True, 'origins': [{'192.0.2.1': up}, {'192.0.2.2': down}]},
        'Singapore, SG': {'healthy': False, 'origins': [{'192.0.2.1': down}, {'192.0.2.2': down}]}}}
    view = balancing.pool_health_view(pool, health)
    assert view['healthy'] is True
    assert [(o['address'], o['healthy'], o['reason']) for o in view['origins']] == [
        ('192.0.2.1', True, 'TCP connection failed'), ('192.0.2.2', False, 'TCP connection failed'),
        ('192.0.2.3', None, '')]
    assert balancing.pool_health_view(pool, {})['healthy'] is None
    table = balancing.health_table([{'hostname': 'api.example.test', 'fallback_pool': 'u1-myapp-prod-api-lon1',
                                     'pools': [view]}])
    assert table[2].startswith('api.example.test  u1-myapp-prod-api-lon1  healthy')
    assert '192.0.2.3 disabled' in table[2] and '192.0.2.2 DOWN (TCP connection failed)' in table[2]
