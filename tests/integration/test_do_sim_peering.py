# SPDX-License-Identifier: GPL-3.0-or-later
"""VPC peering on the DigitalOcean simulator with real hosts, driven by the real pydo client.

Three VPCs in three regions, one droplet in each; the droplets (real hosts: netns fleet-HOST)
try each other's private address on TCP port 22 (every host's sshd listens on all its addresses)
from inside their netns. Unreachable is a refused connection at once: without a route the
packet goes to this machine (the default gateway), which rejects it; with a route that no
peering allows, the router rejects it. Checked: nothing before the peering; A <-> B once it is
ACTIVE (also ICMP); C stays out; peering B-C does not connect A with C (not even for a droplet
that adds the route itself); a droplet created after the peering gets its route; after the
delete (404) A and B are apart again and the router goes with the last peering; the
simulator's reset, stop and start take the routing of an ACTIVE peering down and up.
"""
import ipaddress
import json
import ssl
import subprocess
import time
import urllib.request

import pytest
from pydo import Client

import do_cloud
from helpers import REPO
from sim_hosts import PING_PY

HOST_SH = REPO + '/tests/world/host.sh'
ACTIVE_TIMEOUT = 180    # host.sh up: engine 60 s + sshd 10 s, plus queueing
PEERING_TIMEOUT = 120   # host.sh peer/unpeer: locks, a few ip and iptables calls

# TCP connect from inside a host's netns; prints the first bytes (sshd's banner) or the error
CONNECT_PY = r'''
import socket, sys
try:
    with socket.create_connection((sys.argv[1], 22), timeout=5) as s:
        s.settimeout(5)
        print(s.recv(8).decode('ascii', 'replace'))
except OSError as exc:
    print('error: %s' % exc)
    sys.exit(1)
'''


def _wait(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail('%s not reached within %s s (last: %r)' % (what, timeout, last))


def _in_netns(host, code, *args, timeout=30):
    return subprocess.run(['ip', 'netns', 'exec', 'fleet-' + host, 'python3', '-c', code] + list(args),
                          capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)


def _reaches(src, dst_ip):
    proc = _in_netns(src['host'], CONNECT_PY, dst_ip)
    return proc.returncode == 0 and proc.stdout.startswith('SSH-')


def _assert_reach(src, dst, expected):
    started = time.monotonic()
    got = _reaches(src, dst['ip'])
    took = time.monotonic() - started
    assert got == expected, '%s -> %s (%s): %s, expected %s' % (src['name'], dst['name'], dst['ip'], got, expected)
    assert took < 8, 'a refusal should be immediate, took %.1f s' % took


def _routes(host):
    return subprocess.run(['ip', '-n', 'fleet-' + host, '-4', 'route', 'show'], capture_output=True, text=True,
                          timeout=30, check=True).stdout


def _ip(*args):
    subprocess.run(['ip'] + list(args), capture_output=True, text=True, timeout=30, check=True)


def _router_netns(router):
    out = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, timeout=30, check=True).stdout
    return 'fleet-router.' + router in [line.split()[0] for line in out.splitlines() if line.strip()]


def _peerings_of(bridges):
    out = subprocess.run(['bash', HOST_SH, 'peerings'], capture_output=True, text=True, timeout=30, check=True).stdout
    return [line for line in out.splitlines() if set(line.split()) & set(bridges)]


def _link_exists(name):
    return subprocess.run(['ip', 'link', 'show', 'dev', name], capture_output=True, timeout=30,
                          check=False).returncode == 0


def _control(cloud, path, body=None, timeout=60):
    ctx = ssl.create_default_context(cafile=cloud['ca'])
    req = urllib.request.Request(cloud['url'] + path, data=json.dumps(body or {}).encode(), method='POST',
                                 headers={'Authorization': 'Bearer %s' % cloud['token'],
                                          'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope='module')
def client(cloud):
    return Client(cloud['token'], endpoint=cloud['url'], connection_verify=cloud['ca'])


def test_peering_routes_between_vpcs_and_nothing_else(cloud, client):
    c = client
    prefix = 'pp' + time.strftime('%H%M%S')
    ranges = {'a': '10.181.0.0/24', 'b': '10.182.0.0/24', 'c': '10.183.0.0/24'}
    regions = {'a': 'fra1', 'b': 'ams3', 'c': 'lon1'}
    vpcs = {k: c.vpcs.create({'name': '%s-%s' % (prefix, k), 'region': regions[k], 'ip_range': ranges[k]})['vpc']
            for k in 'abc'}
    timings = {}

    def create(key, vpc_key):
        body = {'name': '%s-%s' % (prefix, key), 'region': regions[vpc_key], 'size': 's-1vcpu-1gb',
                'image': 'debian-12-x64', 'vpc_uuid': vpcs[vpc_key]['id']}
        return c.droplets.create(body)['droplet']['id']

    def wait_active(ids):
        started = time.monotonic()
        _wait(lambda: all(c.droplets.get(i)['droplet']['status'] == 'active' for i in ids), ACTIVE_TIMEOUT,
              'droplets %s active' % ids)
        state = do_cloud.sim_state(cloud)
        hosts = {d['id']: d['host'] for d in state['droplets']}
        out = {}
        for i in ids:
            d = c.droplets.get(i)['droplet']
            private = [n['ip_address'] for n in d['networks']['v4'] if n['type'] == 'private']
            out[d['name'].rsplit('-', 1)[1]] = {'id': i, 'name': d['name'], 'host': hosts[i], 'ip': private[0]}
        return out, time.monotonic() - started

    drops, timings['3 droplets active'] = wait_active([create('a1', 'a'), create('b1', 'b'), create('c1', 'c')])
    a1, b1, c1 = drops['a1'], drops['b1'], drops['c1']
    for k, d in (('a', a1), ('b', b1), ('c', c1)):
        assert ipaddress.ip_address(d['ip']) in ipaddress.ip_network(ranges[k])
    state = do_cloud.sim_state(cloud)
    router = state['router']
    bridges = {v['id']: v['bridge'] for v in state['vpcs']}
    br = {k: bridges[vpcs[k]['id']] for k in 'abc'}

    # no peering: every VPC on its own
    for src, dst in ((a1, b1), (b1, a1), (a1, c1), (c1, b1)):
        _assert_reach(src, dst, False)

    # peering A-B: PROVISIONING, then ACTIVE once the routing is in place
    started = time.monotonic()
    ab = c.vpc_peerings.create({'name': prefix + '-ab', 'vpc_ids': [vpcs['a']['id'], vpcs['b']['id']]})['vpc_peering']
    assert ab['status'] == 'PROVISIONING'
    _wait(lambda: c.vpc_peerings.get(ab['id'])['vpc_peering']['status'] == 'ACTIVE', PEERING_TIMEOUT, 'A-B ACTIVE')
    timings['peering ACTIVE'] = time.monotonic() - started
    assert 'via 10.181.0.1 dev eth1' in [line for line in _routes(a1['host']).splitlines()
                                         if line.startswith('10.182.0.0/24')][0]
    assert any(line.startswith('10.181.0.0/24 via 10.182.0.1') for line in _routes(b1['host']).splitlines())
    _assert_reach(a1, b1, True)
    _assert_reach(b1, a1, True)
    assert _in_netns(a1['host'], PING_PY, b1['ip']).returncode == 0
    for src, dst in ((a1, c1), (c1, a1), (b1, c1), (c1, b1)):
        _assert_reach(src, dst, False)
    assert _router_netns(router)

    # peering B-C through the VPC: B <-> C, but A and C stay apart (not transitive), even for
    # droplets that route through their gateway themselves: the router refuses
    bc = c.vpcs.create_peerings(vpcs['b']['id'], {'name': prefix + '-bc', 'vpc_id': vpcs['c']['id']})['peering']
    _wait(lambda: c.vpc_peerings.get(bc['id'])['vpc_peering']['status'] == 'ACTIVE', PEERING_TIMEOUT, 'B-C ACTIVE')
    _assert_reach(b1, c1, True)
    _assert_reach(c1, b1, True)
    _assert_reach(a1, c1, False)
    _ip('-n', 'fleet-' + a1['host'], 'route', 'add', ranges['c'], 'via', '10.181.0.1', 'dev', 'eth1')
    _ip('-n', 'fleet-' + c1['host'], 'route', 'add', ranges['a'], 'via', '10.183.0.1', 'dev', 'eth1')
    try:
        _assert_reach(a1, c1, False)
        _assert_reach(c1, a1, False)
        assert _in_netns(a1['host'], PING_PY, c1['ip']).returncode != 0
    finally:
        _ip('-n', 'fleet-' + a1['host'], 'route', 'del', ranges['c'])
        _ip('-n', 'fleet-' + c1['host'], 'route', 'del', ranges['a'])

    # a droplet created after the peering gets its route when it comes up
    later, timings['4th droplet active'] = wait_active([create('a2', 'a')])
    a2 = later['a2']
    _assert_reach(a2, b1, True)
    _assert_reach(b1, a2, True)
    _assert_reach(a2, c1, False)
    _assert_reach(a2, a1, True)    # its own VPC, as ever

    # delete A-B: DELETING, then 404 once the routes are gone; B-C keeps working
    started = time.monotonic()
    gone = c.vpc_peerings.delete(ab['id'])['vpc_peering']
    assert gone['status'] == 'DELETING'
    _wait(lambda: c.vpc_peerings.get(ab['id']).get('id') == 'not_found', PEERING_TIMEOUT, 'A-B gone')
    timings['peering gone'] = time.monotonic() - started
    for d in (a1, a2):
        assert ranges['b'] not in _routes(d['host'])
    assert ranges['a'] not in _routes(b1['host'])
    for src, dst in ((a1, b1), (b1, a1), (a2, b1)):
        _assert_reach(src, dst, False)
    _assert_reach(b1, c1, True)
    assert _peerings_of([br['a']]) == [] and len(_peerings_of([br['b'], br['c']])) == 1

    # the last peering takes the router with it
    c.vpc_peerings.delete(bc['id'])
    _wait(lambda: c.vpc_peerings.get(bc['id']).get('id') == 'not_found', PEERING_TIMEOUT, 'B-C gone')
    _assert_reach(b1, c1, False)
    assert not _router_netns(router)
    assert _peerings_of(list(br.values())) == []
    assert do_cloud.sim_state(cloud)['routed'] == []

    # the simulator's reset takes the routing of a peering that is still ACTIVE down as well
    ac = c.vpc_peerings.create({'name': prefix + '-ac', 'vpc_ids': [vpcs['a']['id'], vpcs['c']['id']]})['vpc_peering']
    _wait(lambda: c.vpc_peerings.get(ac['id'])['vpc_peering']['status'] == 'ACTIVE', PEERING_TIMEOUT, 'A-C ACTIVE')
    _assert_reach(a2, c1, True)
    started = time.monotonic()
    assert _control(cloud, '/_sim/reset', timeout=400)['idle']
    timings['reset'] = time.monotonic() - started
    assert not _router_netns(router) and _peerings_of(list(br.values())) == []
    assert not [b for b in br.values() if _link_exists(b)]
    print('\n' + ', '.join('%s: %.1f s' % kv for kv in timings.items()))


def test_stop_and_start_take_the_routing_down_and_up(tmp_path):
    """A peering without droplets: its bridges and router exist while it is ACTIVE; the
    simulator's stop removes them, a start on the same state sets them up again."""
    cloud = do_cloud.start(str(tmp_path))
    try:
        c = Client(cloud['token'], endpoint=cloud['url'], connection_verify=cloud['ca'])
        x = c.vpcs.create({'name': 'pp-x', 'region': 'nyc1', 'ip_range': '10.184.0.0/24'})['vpc']
        y = c.vpcs.create({'name': 'pp-y', 'region': 'sfo3', 'ip_range': '10.185.0.0/24'})['vpc']
        p = c.vpc_peerings.create({'name': 'pp-xy', 'vpc_ids': [x['id'], y['id']]})['vpc_peering']
        _wait(lambda: c.vpc_peerings.get(p['id'])['vpc_peering']['status'] == 'ACTIVE', PEERING_TIMEOUT, 'ACTIVE')
        state = do_cloud.sim_state(cloud)
        bridges = state['routed'][0]
        assert _router_netns(state['router']) and all(_link_exists(b) for b in bridges)
        assert len(_peerings_of(bridges)) == 1
        do_cloud.stop(cloud)
        assert not _router_netns(state['router']) and not [b for b in bridges if _link_exists(b)]
        assert _peerings_of(bridges) == []

        cloud = do_cloud.start(str(tmp_path))
        c = Client(cloud['token'], endpoint=cloud['url'], connection_verify=cloud['ca'])
        _wait(lambda: c.vpc_peerings.get(p['id'])['vpc_peering']['status'] == 'ACTIVE', PEERING_TIMEOUT, 'again')
        assert _router_netns(state['router']) and len(_peerings_of(bridges)) == 1
    finally:
        do_cloud.stop(cloud)
    assert not _router_netns(state['router']) and _peerings_of(bridges) == []
