# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure DigitalOcean fleet logic: droplet plans, firewall rules, names, fingerprints."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean import fleet as f

IDS = ('u1', 'myapp', 'prod', 'api', 'lon1')


def droplet(index, id_=None, name=None, created='2026-01-01T00:00:00Z', **extra):
    d = dict(id=id_ or index, name=name or 'u1-myapp-prod-api-lon1-%d' % index, created_at=created,
             region={'slug': 'lon1'}, size_slug='s-1vcpu-1gb', status='active')
    d.update(extra)
    return d


def names(items):
    return [d['name'] for d in items]


def plan(existing, count):
    return f.plan_droplets(existing, *IDS, count=count)


# ---------------------------------------------------------------- plan

def test_plan_from_nothing_creates_all_names():
    p = plan([], 3)
    assert p['create'] == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2', 'u1-myapp-prod-api-lon1-3']
    assert p['keep'] == [] and p['surplus'] == []


def test_plan_is_idempotent_when_all_exist():
    existing = [droplet(2), droplet(1), droplet(3)]
    p = plan(existing, 3)
    assert p['create'] == [] and p['surplus'] == []
    assert names(p['keep']) == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2', 'u1-myapp-prod-api-lon1-3']


def test_plan_fills_the_lowest_free_indexes():
    p = plan([droplet(1), droplet(3)], 4)
    assert p['create'] == ['u1-myapp-prod-api-lon1-2', 'u1-myapp-prod-api-lon1-4']


def test_plan_reuses_any_existing_before_creating():
    p = plan([droplet(1), droplet(3), droplet(5)], 3)
    assert p['create'] == [] and p['surplus'] == []


def test_plan_surplus_highest_index_first():
    p = plan([droplet(i) for i in (1, 2, 3, 4, 5)], 2)
    assert names(p['keep']) == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2']
    assert names(p['surplus']) == ['u1-myapp-prod-api-lon1-5', 'u1-myapp-prod-api-lon1-4',
                                   'u1-myapp-prod-api-lon1-3']
    assert plan([droplet(1)], 0)['surplus'][0]['id'] == 1


def test_plan_duplicates_and_foreign_names_go_first():
    existing = [droplet(1, id_=10, created='2026-01-01'), droplet(1, id_=11, created='2026-01-02'),
                droplet(2), droplet(0, id_=99, name='hand-made')]
    p = plan(existing, 2)
    assert [d['id'] for d in p['keep']] == [10, 2]             # the older of the two "-1"
    assert [d['id'] for d in p['surplus']] == [11, 99]             # odd ones first, newest first
    p = plan(existing, 4)
    assert p['create'] == [] and [d['id'] for d in p['keep']] == [10, 2, 99, 11]


def test_plan_refuses_a_negative_count():
    with pytest.raises(ValueError):
        plan([], -1)


def test_droplet_index_parses_only_our_names():
    prefix = f.name_prefix(*IDS)
    assert prefix == 'u1-myapp-prod-api-lon1-'
    assert f.droplet_index('u1-myapp-prod-api-lon1-12', prefix) == 12
    assert f.droplet_index('u1-myapp-prod-api-lon1-0', prefix) is None
    assert f.droplet_index('u1-myapp-prod-api-lon1-x', prefix) is None
    assert f.droplet_index('u1-myapp-prod-api-fra1-1', prefix) is None
    assert f.droplet_index(None, prefix) is None


def test_batches_of_ten():
    assert [len(b) for b in f.batches(list(range(23)))] == [10, 10, 3]
    assert f.batches([]) == []


def test_create_body_is_a_multi_create():
    body = f.droplet_create_body(['a-1', 'a-2'], 'lon1', 's-1vcpu-1gb', 'debian-12-x64', ['fleet'],
                                 ssh_keys=['123', '3b:16:bf'], vpc_uuid='v-1')
    assert body == dict(names=['a-1', 'a-2'], region='lon1', size='s-1vcpu-1gb', image='debian-12-x64',
                        tags=['fleet'], ipv6=False, monitoring=False, ssh_keys=[123, '3b:16:bf'], vpc_uuid='v-1')
    assert 'name' not in body


def test_droplet_view_reads_networks():
    d = droplet(1, networks={'v4': [{'ip_address': '10.110.0.2', 'type': 'private'},
                                    {'ip_address': '203.0.113.10', 'type': 'public'}],
                             'v6': [{'ip_address': '2001:db8::1', 'type': 'public'}]},
                tags=['fleet', 'b', 'a'], vpc_uuid='v-1')
    view = f.droplet_view(d, f.name_prefix(*IDS))
    assert view['public_ip'] == '203.0.113.10' and view['private_ip'] == '10.110.0.2'
    assert view['public_ipv6'] == '2001:db8::1'
    assert view['zone'] == 'lon1' and view['size'] == 's-1vcpu-1gb' and view['index'] == 1
    assert view['tags'] == ['a', 'b', 'fleet']
    fresh = f.droplet_view(dict(id=2, name='n', status='new', networks={'v4': [], 'v6': []},
                                size={'slug': 's-2vcpu-2gb'}, region={'slug': 'fra1'}))
    assert fresh['public_ip'] is None and fresh['size'] == 's-2vcpu-2gb' and 'index' not in fresh
    assert not f.has_networks(dict(networks={'v4': []})) and f.has_networks(d)


def test_names_and_tags():
    assert f.vpc_name('lon1') == 'fleet-lon1'
    assert f.vpc_name('lon1', 'u1') == 'fleet-u1-lon1'
    assert f.firewall_name('u1', 'my-app', 'prod') == 'fleet-u1-my-app-prod'
    assert f.ssh_key_name('u1') == 'fleet-u1'
    assert f.env_tag('u1', 'myapp', 'prod') == 'fleet-env:u1_myapp_prod'
    assert f.service_tag('u1', 'myapp', 'prod', 'api') == 'fleet-service:u1_myapp_prod_api'


# ---------------------------------------------------------------- firewall

def test_firewall_rules_rendering():
    inbound, outbound = f.firewall_rules(['203.0.113.7/32'], ['10.110.0.0/20'])
    assert inbound == [
        {'protocol': 'tcp', 'ports': '22', 'sources': {'addresses': ['203.0.113.7/32']}},
        {'protocol': 'tcp', 'ports': '80', 'sources': {'addresses': ['0.0.0.0/0', '::/0']}},
        {'protocol': 'tcp', 'ports': '443', 'sources': {'addresses': ['0.0.0.0/0', '::/0']}},
        {'protocol': 'tcp', 'ports': '0', 'sources': {'addresses': ['10.110.0.0/20']}},
        {'protocol': 'udp', 'ports': '0', 'sources': {'addresses': ['10.110.0.0/20']}},
        {'protocol': 'icmp', 'sources': {'addresses': ['10.110.0.0/20']}},
    ]
    assert outbound == [
        {'protocol': 'tcp', 'ports': '0', 'destinations': {'addresses': ['0.0.0.0/0', '::/0']}},
        {'protocol': 'udp', 'ports': '0', 'destinations': {'addresses': ['0.0.0.0/0', '::/0']}},
        {'protocol': 'icmp', 'destinations': {'addresses': ['0.0.0.0/0', '::/0']}},
    ]


def test_ssh_is_never_open_to_the_world():
    inbound = f.firewall_rules(['198.51.100.1'], ['10.0.0.0/16', '10.1.0.0/16'], public_ports=[])[0]
    ssh = [r for r in inbound if r.get('ports') == '22']
    assert ssh == [{'protocol': 'tcp', 'ports': '22', 'sources': {'addresses': ['198.51.100.1']}}]
    assert all('0.0.0.0/0' not in r['sources']['addresses'] for r in inbound)
    inbound = f.firewall_rules([], ['10.0.0.0/16'])[0]
    assert not any(r.get('ports') == '22' for r in inbound)


def test_bad_cidr_and_port_are_refused():
    with pytest.raises(ValueError, match='not an IP address or CIDR'):
        f.firewall_rules(['my-laptop'], ['10.0.0.0/16'])
    with pytest.raises(ValueError, match='not a TCP port'):
        f.firewall_rules([], [], public_ports=[70000])


def test_rules_compare_as_digitalocean_means_them():
    inbound, outbound = f.firewall_rules(['203.0.113.7'], ['10.110.0.0/20'])
    wanted = f.firewall_state(f.firewall_body('fleet-u1-myapp-prod', ['fleet-env:u1_myapp_prod'], inbound, outbound))
    # What the API answers: other order, "all"/"0" ports, /32 spelled out, empty target lists, icmp ports "0".
    api = dict(
        id='fw-1', name='fleet-u1-myapp-prod', status='succeeded', droplet_ids=[5], tags=['fleet-env:u1_myapp_prod'],
        inbound_rules=[
            {'protocol': 'icmp', 'ports': '0',
             'sources': {'addresses': ['10.110.0.0/20'], 'tags': [], 'droplet_ids': []}},
            {'protocol': 'tcp', 'ports': '443', 'sources': {'addresses': ['::/0', '0.0.0.0/0']}},
            {'protocol': 'tcp', 'ports': 'all', 'sources': {'addresses': ['10.110.0.0/20']}},
            {'protocol': 'udp', 'ports': '1-65535', 'sources': {'addresses': ['10.110.0.0/20']}},
            {'protocol': 'tcp', 'ports': '22', 'sources': {'addresses': ['203.0.113.7/32']}},
            {'protocol': 'tcp', 'ports': '80-80', 'sources': {'addresses': ['0.0.0.0/0', '::/0']}},
        ],
        outbound_rules=[
            {'protocol': 'udp', 'ports': '0', 'destinations': {'addresses': ['0.0.0.0/0', '::/0']}},
            {'protocol': 'icmp', 'destinations': {'addresses': ['0.0.0.0/0', '::/0']}},
            {'protocol': 'tcp', 'ports': '0', 'destinations': {'addresses': ['0.0.0.0/0', '::/0']}},
        ])
    assert f.firewall_state(api) == wanted


def test_rules_that_differ_are_seen():
    inbound, outbound = f.firewall_rules(['203.0.113.7/32'], ['10.110.0.0/20'])
    wanted = f.firewall_state(f.firewall_body('fw', ['t'], inbound, outbound))
    wider = f.firewall_rules(['0.0.0.0/0'], ['10.110.0.0/20'])
    assert f.firewall_state(f.firewall_body('fw', ['t'], *wider)) != wanted
    assert f.firewall_state(f.firewall_body('fw', ['other'], inbound, outbound)) != wanted
    assert f.firewall_state(f.firewall_body('fw', ['t'], inbound[:-1], outbound)) != wanted
    extra = inbound + [{'protocol': 'tcp', 'ports': '5432', 'sources': {'addresses': ['0.0.0.0/0']}}]
    assert f.firewall_state(f.firewall_body('fw', ['t'], extra, outbound)) != wanted


def test_firewall_body_keeps_assigned_droplets():
    body = f.firewall_body('fw', ['t'], [], [], droplet_ids=[1, 2])
    assert body['droplet_ids'] == [1, 2]
    assert 'droplet_ids' not in f.firewall_body('fw', ['t'], [], [])


# ---------------------------------------------------------------- keys

def test_fingerprint_matches_ssh_keygen_md5():
    # ssh-keygen -l -E md5 -f key.pub -> 256 MD5:60:a2:68:f3:43:81:f7:9f:4b:50:6a:68:25:02:51:84 test (ED25519)
    line = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIETA90TW+SK8FlM7df+FoR07J7XM3r0IUKP+Z7MICO7E test'
    assert f.ssh_fingerprint(line) == '60:a2:68:f3:43:81:f7:9f:4b:50:6a:68:25:02:51:84'
    assert f.ssh_fingerprint(line.rsplit(' ', 1)[0]) == f.ssh_fingerprint(line)     # the comment does not count


def test_fingerprint_of_garbage_is_refused():
    with pytest.raises(ValueError):
        f.ssh_fingerprint('not-a-key')
    with pytest.raises(ValueError):
        f.ssh_fingerprint('ssh-ed25519 !!!notbase64')


# ---------------------------------------------------------------- vpc peerings

VPC_A = '997615ce-132d-4bae-9270-9ee21b395e5d'
VPC_B = 'e51aed59-3bb1-4a6a-8de0-9d1329e9c997'
VPC_C = 'c140286f-e6ce-4131-8b7b-df4590ce8d6a'


def peering(id_, a, b, status='ACTIVE', name=None, created='2026-01-01T00:00:00Z'):
    return dict(id=id_, name=name or 'p-%s' % id_, vpc_ids=[a, b], status=status, created_at=created)


def test_peering_pair_is_sorted_lower_case_and_order_free():
    assert f.peering_pair([VPC_B, VPC_A]) == (VPC_A, VPC_B) == f.peering_pair([VPC_A, VPC_B])
    assert f.peering_pair([VPC_B.upper(), ' %s ' % VPC_A]) == (VPC_A, VPC_B)


@pytest.mark.parametrize('ids, words', [
    ([VPC_A], 'exactly two VPC UUIDs, got 1'),
    ([VPC_A, VPC_B, VPC_C], 'exactly two VPC UUIDs, got 3'),
    ([], 'got 0'),
    (VPC_A, 'got a str'),
    ([VPC_A, VPC_A.upper()], 'names the VPC %s twice' % VPC_A),
    ([VPC_A, 'fleet-lon1'], "'fleet-lon1' is not a VPC UUID"),
    ([VPC_A, None], 'None is not a VPC UUID'),
])
def test_peering_pair_refuses_bad_input_naming_the_option(ids, words):
    with pytest.raises(ValueError) as err:
        f.peering_pair(ids)
    assert 'vpc_ids' in str(err.value) and words in str(err.value) and '\n' not in str(err.value)


def test_default_peering_name_is_stable_short_and_valid():
    name = f.peering_name([VPC_A, VPC_B])
    assert name == f.peering_name([VPC_B.upper(), VPC_A]) == f.peering_name((VPC_A, VPC_B))
    assert name.startswith('fleet-peering-') and len(name) == len('fleet-peering-') + 12
    assert f.check_peering_name(name) == name
    assert f.peering_name([VPC_A, VPC_C]) != name
    # UUIDs that share their first characters still get different names
    ones = ['00000000-0000-0000-0000-00000000000%d' % i for i in (1, 2, 3)]
    assert f.peering_name(ones[:2]) != f.peering_name(ones[1:])


def test_peering_name_check():
    assert f.check_peering_name('fleet-u1-lon1-nyc1') == 'fleet-u1-lon1-nyc1'
    for bad in ('', 'fleet.lon1', 'fleet_lon1', 'fleet lon1', 'x' * 256, None):
        with pytest.raises(ValueError) as err:
            f.check_peering_name(bad)
        assert str(err.value).startswith('name ') and 'letters, digits and "-"' in str(err.value)


def test_find_peering_by_pair_in_either_order_live_first():
    others = [peering('o1', VPC_A, VPC_C), peering('o2', VPC_C, VPC_B)]
    assert f.find_peering(others, [VPC_A, VPC_B]) is None
    going = peering('old', VPC_B, VPC_A, status='DELETING', created='2025-12-01T00:00:00Z')
    assert f.find_peering(others + [going], [VPC_A, VPC_B])['id'] == 'old'
    new = peering('new', VPC_A.upper(), VPC_B, status='PROVISIONING')
    assert f.find_peering([going] + others + [new], [VPC_B, VPC_A])['id'] == 'new'
    active = peering('act', VPC_B, VPC_A)
    found = f.peerings_of_pair([going, new] + others + [active], [VPC_A, VPC_B])
    assert [p['id'] for p in found] == ['act', 'new', 'old']
    assert f.find_peering([dict(id='odd', vpc_ids=[VPC_A])], [VPC_A, VPC_B]) is None


def test_peering_name_taken_only_by_other_pairs():
    existing = [peering('o1', VPC_A, VPC_C, name='fleet-x'), peering('me', VPC_B, VPC_A, name='fleet-me')]
    assert f.peering_name_taken(existing, 'fleet-x', [VPC_A, VPC_B])['id'] == 'o1'
    assert f.peering_name_taken(existing, 'fleet-me', [VPC_A, VPC_B]) is None
    assert f.peering_name_taken(existing, 'fleet-new', [VPC_A, VPC_B]) is None


def test_peering_view():
    view = f.peering_view(dict(peering('p', VPC_B, VPC_A.upper()), extra=1))
    assert view == dict(id='p', name='p-p', vpc_ids=[VPC_A, VPC_B], status='ACTIVE')
    assert f.peering_view(None) == {}


def test_stuck_droplets_are_new_for_at_least_max_age():
    import calendar
    now = calendar.timegm((2026, 1, 31, 12, 0, 0, 0, 0, 0))
    droplets = [dict(id=1, status='new', created_at='2026-01-31T11:55:00Z'),    # 300 s
                dict(id=2, status='new', created_at='2026-01-31T11:59:00Z'),    # 60 s: still booting
                dict(id=3, status='active', created_at='2026-01-30T00:00:00Z'),
                dict(id=4, status='new'),                                       # no date: never guessed
                dict(id=5, status='new', created_at='yesterday')]
    assert f.droplet_age(droplets[0], now) == 300
    assert f.droplet_age(droplets[3], now) is None
    assert [d['id'] for d in f.stuck_droplets(droplets, now, 300)] == [1]
    assert [d['id'] for d in f.stuck_droplets(droplets, now, 60)] == [1, 2]
