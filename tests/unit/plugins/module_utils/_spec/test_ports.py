# SPDX-License-Identifier: GPL-3.0-or-later
import hashlib
import random

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import ports as p


def test_hash_is_sha256_mod_1000():
    text = 'u1_myapp_prod_api_8000'
    assert p.stable_hash(text) == int(hashlib.sha256(text.encode()).hexdigest(), 16) % 1000
    assert p.hashed_host_port('u1', 'myapp', 'prod', 'api', 8000) == 8000 + p.stable_hash(text)
    assert p.hashed_internal_port('u1', 'myapp', 'prod', 'api') == 5000 + p.stable_hash('u1_myapp_prod_api_internal')


def test_seed_examples_are_stable_and_user_specific():
    # The seed's get_host_port("u1", "myapp", "prod", "api", "8000") used Python's randomised hash();
    # with sha256 the values are fixed forever on every machine:
    assert p.hashed_host_port('u1', 'myapp', 'prod', 'api', 8000) == 8988
    assert p.hashed_host_port('u2', 'myapp', 'prod', 'api', 8000) == 8129
    assert p.hashed_internal_port('u1', 'myapp', 'prod', 'postgres') == 5563
    assert p.secondary_port(8988) == 18988


def test_ranges():
    for i in range(2000):
        host = p.hashed_host_port('u%d' % i, 'app', 'prod', 'svc', 80)
        internal = p.hashed_internal_port('u%d' % i, 'app', 'prod', 'svc')
        assert 8000 <= host <= 8999
        assert 18000 <= p.secondary_port(host) <= 18999
        assert 5000 <= internal <= 5999


def test_collision_probes_to_next_free_port_deterministically():
    table = p.PortTable(p.HOST_BASE)
    key = 'u1_myapp_prod_api_8000'
    hashed = 8000 + p.stable_hash(key)
    squatter = p.PortTable(p.HOST_BASE, {'other': hashed})
    port, new = squatter.assign(key)
    assert new and port == 8000 + (p.stable_hash(key) + 1) % 1000
    assert table.assign(key) == (hashed, True)
    assert table.assign(key) == (hashed, False)


def test_wraps_around_and_exhausts():
    full = p.PortTable(p.HOST_BASE, dict(('k%d' % i, 8000 + i) for i in range(999)))
    assert full.assign('last') == (8999, True)
    with pytest.raises(p.PortExhaustedError):
        full.assign('one-too-many')


def test_state_is_validated():
    with pytest.raises(ValueError, match='outside'):
        p.PortTable(p.HOST_BASE, {'a': 5000})
    with pytest.raises(ValueError, match='both'):
        p.PortTable(p.HOST_BASE, {'a': 8001, 'b': 8001})


def _world(users=50, services_per_user=6):
    """300 services across 50 users: (user, project, env, service, container_port)."""
    rng = random.Random(42)
    kinds = [('postgres', 5432), ('redis', 6379), ('api', 8000), ('web', 80), ('admin', 3000), ('search', 9200)]
    world = []
    for u in range(users):
        project = rng.choice(['myapp', 'shop', 'blog'])
        for name, port in kinds[:services_per_user]:
            world.append(('u%d' % u, project, 'prod', name, port))
    return world


def _deploy_all(world, host_state=None, internal_state=None):
    host = p.PortTable(p.HOST_BASE, host_state)
    internal_tables = dict((k, p.PortTable(p.INTERNAL_BASE, v)) for k, v in (internal_state or {}).items())
    result = {}
    for user, project, env, service, port in world:
        tenant = internal_tables.setdefault((user, project, env), p.PortTable(p.INTERNAL_BASE))
        result[(user, project, env, service)] = p.service_ports(host, tenant, user, project, env, service, port)
    return host, internal_tables, result


def test_300_services_50_users_one_server_zero_collisions():
    world = _world()
    assert len(world) == 300 and len(set(w[0] for w in world)) == 50
    host, internal_tables, result = _deploy_all(world)
    hashed = [r['host_port_hashed'] for r in result.values()]
    assert len(set(hashed)) < len(hashed), 'the birthday bound says raw hashes collide here'
    base = [r['host_port'] for r in result.values()]
    secondary = [r['secondary_port'] for r in result.values()]
    every_host_port = base + secondary
    assert len(set(every_host_port)) == len(every_host_port) == 600
    assert sum(r['collision'] for r in result.values()) > 0
    for tenant, table in internal_tables.items():
        ports = list(table.assignments.values())
        assert len(set(ports)) == len(ports)
    # Deterministic: the same deploys from scratch give the same ports.
    assert _deploy_all(world)[2] == result


def test_adding_services_never_moves_an_assigned_port():
    world = _world()
    rng = random.Random(7)
    host, internal_tables, before = _deploy_all(world)
    host_state = dict(host.assignments)
    internal_state = dict((k, dict(t.assignments)) for k, t in internal_tables.items())
    extra = [('u%d' % rng.randrange(50), 'shop', 'prod', 'extra%d' % i, 8000) for i in range(200)]
    # Adding one at a time, in a random order, through the persisted state each time.
    for item in rng.sample(extra, len(extra)):
        host, internal_tables = _deploy_all([item], host_state, internal_state)[:2]
        host_state = dict(host.assignments)
        internal_state.update((k, dict(t.assignments)) for k, t in internal_tables.items())
    after = _deploy_all(world, host_state, internal_state)[2]
    for key, ports in before.items():
        assert after[key]['host_port'] == ports['host_port']
        assert after[key]['internal_port'] == ports['internal_port']
    assert len(set(host_state.values())) == len(host_state) == 500


def test_service_without_port_gets_internal_only():
    ports = p.service_ports(p.PortTable(p.HOST_BASE), p.PortTable(p.INTERNAL_BASE), 'u1', 'myapp', 'prod', 'worker')
    assert ports['host_port'] is None and ports['secondary_port'] is None
    assert 5000 <= ports['internal_port'] <= 5999 and ports['collision'] is False


def test_a_busy_port_is_skipped_for_a_new_key_and_never_moves_an_assigned_one():
    busy = set()
    table = p.PortTable(p.HOST_BASE, {}, busy=lambda port: port in busy)
    first, _new = table.assign('a')
    busy.add(first)  # now bound (by its own container)
    assert table.assign('a') == (first, False)  # an assigned key keeps its port
    other = p.PortTable(p.HOST_BASE, {}, busy=lambda port: port in busy)  # another fleet root on the same engine
    port, new = other.assign('a')
    assert new and port == p.HOST_BASE + (first - p.HOST_BASE + 1) % 1000


def test_port_hash_reserves_several_services_in_one_locked_run(tmp_path):
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.port_reservation import port_hash
    state = str(tmp_path / 'ports.json')
    params = {'user': 'u1', 'project': 'myapp', 'env': 'prod', 'service': None, 'container_port': None,
              'services': [{'service': 'api', 'container_port': 8000}, {'service': 'worker', 'container_port': None}],
              'state_file': state, 'avoid_bound': None}
    first = port_hash(params)
    assert first['changed'] is True
    assert set(first['ports']) == {'api', 'worker'}
    assert first['ports']['api']['secondary_port'] == first['ports']['api']['host_port'] + 10000
    assert first['ports']['worker']['host_port'] is None
    again = port_hash(params)
    assert again == dict(first, changed=False)
    single = port_hash(dict(params, services=None, service='api', container_port=8000))
    assert single['host_port'] == first['ports']['api']['host_port'] and single['changed'] is False
