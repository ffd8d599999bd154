# SPDX-License-Identifier: GPL-3.0-or-later
"""The DigitalOcean simulator (tests/world/do_sim.sh) with real hosts, driven by the real pydo.

One simulator per module (its own port, state directory and token), started and stopped through
tests/world/do_sim.sh; the stop must leave no host behind. The client is built the way the
collection builds it: ``Client(token, endpoint=URL, connection_verify=CA)``.

pydo returns the 404 body of droplets.get/destroy (and of every call whose spec lists a 404)
instead of raising; 401 raises ClientAuthenticationError; azure-core retries 429s itself.

The VPC peering endpoints are driven here against a simulator of their own with fake hosts
(``do_sim.sh start --fake-hosts``); their real routing is tested in test_do_sim_peering.py.
"""
import os
import secrets
import subprocess
import time

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError
from pydo import Client

from helpers import free_port
from sim_hosts import PING_PY, SSH_OPTIONS, list_hosts

pytestmark = pytest.mark.integration

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DO_SIM_SH = os.path.join(REPO, 'tests', 'world', 'do_sim.sh')
ACTIVE_TIMEOUT = 180   # host.sh up: engine 60 s + sshd 10 s, plus queueing
ACTION_TIMEOUT = 180
NOT_FOUND = {'id': 'not_found', 'message': 'The resource you were accessing could not be found.'}
NOT_FOUND_UUID = '00000000-0000-4000-8000-000000000000'


def _run(args, timeout):
    proc = subprocess.run(['bash', DO_SIM_SH] + args, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 0, 'do_sim.sh %s failed:\n%s%s' % (' '.join(args), proc.stdout, proc.stderr)
    return proc.stdout


class Sim:
    def __init__(self, env, state_dir):
        self.url = env['DO_SIM_URL']
        self.ca = env['DO_SIM_CA']
        self.token = env['DO_SIM_TOKEN']
        self.state_dir = state_dir

    def client(self, **kw):
        kw.setdefault('connection_verify', self.ca)
        return Client(kw.pop('token', self.token), endpoint=self.url, **kw)

    def control(self, method, path, body=None, timeout=60):
        import requests
        resp = requests.request(method, self.url + path, json=body, verify=self.ca, timeout=timeout,
                                headers={'Authorization': 'Bearer ' + self.token})
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture(scope='module')
def do_sim(world, tmp_path_factory):
    state_dir = str(tmp_path_factory.mktemp('do_sim'))
    token = 'it-' + secrets.token_hex(8)
    out = _run(['start', '--port', str(free_port()), '--state-dir', state_dir, '--token', token], 60)
    env = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    assert env['DO_SIM_TOKEN'] == token and env['DO_SIM_CA'] == os.path.join(state_dir, 'tls', 'ca.pem')
    sim = Sim(env, state_dir)
    hosts = set()
    sim.hosts_seen = hosts
    try:
        yield sim
    finally:
        try:
            hosts |= set(sim.control('GET', '/_sim/state')['hosts'])
        except Exception:  # noqa: BLE001 - the stop below is what matters
            pass
        _run(['stop', '--state-dir', state_dir], 420)
        left = set(list_hosts()) & hosts
        assert not left, 'do_sim.sh stop left hosts: %s' % sorted(left)
        assert subprocess.run(['bash', DO_SIM_SH, 'status', '--state-dir', state_dir], capture_output=True,
                              timeout=30, check=False).returncode == 3


@pytest.fixture
def prefix():
    return 'fd' + secrets.token_hex(3)


@pytest.fixture
def keypair(tmp_path):
    key = tmp_path / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'do-sim-test', '-f', str(key)],
                   check=True, timeout=30, stdin=subprocess.DEVNULL)
    return key


def _ssh(key, ip, command, timeout=60, stdin=None):
    return subprocess.run(['ssh', '-i', str(key)] + list(SSH_OPTIONS) + ['root@' + ip, command], input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _wait(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail('%s not reached within %s s (last: %r)' % (what, timeout, last))


def _wait_action(client, action_id, timeout=ACTION_TIMEOUT):
    def done():
        a = client.actions.get(action_id)['action']
        return a if a['status'] != 'in-progress' else None
    a = _wait(done, timeout, 'action %s' % action_id)
    assert a['status'] == 'completed', a
    return a


def _addr(droplet, kind):
    nets = [n for n in droplet['networks']['v4'] if n['type'] == kind]
    assert len(nets) == 1, droplet['networks']
    return nets[0]


def test_pydo_lists_regions_and_sizes_over_tls(do_sim, monkeypatch):
    client = do_sim.client()
    regions = client.regions.list()
    assert regions['meta']['total'] == len(regions['regions'])
    assert {'nyc3', 'fra1', 'ams3'} <= {r['slug'] for r in regions['regions'] if r['available']}
    sizes = {s['slug']: s for s in client.sizes.list(per_page=200)['sizes']}
    for slug in ('s-1vcpu-1gb', 's-1vcpu-2gb', 's-2vcpu-2gb', 's-2vcpu-4gb', 's-4vcpu-8gb'):
        assert {'price_monthly', 'memory', 'vcpus', 'regions', 'disk'} <= set(sizes[slug])
    assert sizes['s-1vcpu-2gb']['memory'] == 2048
    # trusting the CA through the environment works as well ...
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', do_sim.ca)
    assert Client(do_sim.token, endpoint=do_sim.url).account.get()['account']['status'] == 'active'
    # ... and without it there is no connection
    monkeypatch.delenv('REQUESTS_CA_BUNDLE')
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    with pytest.raises(ServiceRequestError, match='CERTIFICATE_VERIFY_FAILED'):
        Client(do_sim.token, endpoint=do_sim.url, retry_total=0).regions.list()


def test_bad_token_is_401(do_sim):
    with pytest.raises(ClientAuthenticationError) as exc:
        do_sim.client(token='not-' + do_sim.token).droplets.list()
    assert exc.value.status_code == 401
    assert exc.value.response.json() == {'id': 'unauthorized', 'message': 'Unable to authenticate you.'}


def test_droplets_are_real_hosts(do_sim, prefix, keypair):
    c = do_sim.client()
    key = c.ssh_keys.create({'name': prefix, 'public_key': (keypair.parent / 'id_ed25519.pub').read_text()})['ssh_key']
    vpc = c.vpcs.create({'name': prefix + '-vpc', 'region': 'fra1', 'ip_range': '10.141.0.0/24'})['vpc']
    tag = prefix + ':web'
    body = {'region': 'fra1', 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64', 'ssh_keys': [key['fingerprint']],
            'tags': [tag], 'vpc_uuid': vpc['id']}
    with pytest.raises(HttpResponseError) as exc:
        c.droplets.create(dict(body, name=prefix + '_a'))
    assert exc.value.response.status_code == 422
    assert exc.value.response.json()['id'] == 'unprocessable_entity'

    # the second name is no host.sh name (capitals, a dot): its host is d<id>
    names = [prefix + '-a', prefix.upper() + '.b']
    start = time.monotonic()
    made = c.droplets.create(dict(body, names=names))
    ids = [d['id'] for d in made['droplets']]
    assert [d['status'] for d in made['droplets']] == ['new', 'new']
    assert all(d['networks'] == {'v4': [], 'v6': []} for d in made['droplets'])
    took = {}

    def all_active():
        for i in ids:
            if i not in took and c.droplets.get(i)['droplet']['status'] == 'active':
                took[i] = time.monotonic() - start
        return len(took) == len(ids)
    _wait(all_active, ACTIVE_TIMEOUT, 'both droplets active')
    print('\ncreate -> active: %s' % ', '.join('%.1f s' % took[i] for i in ids))
    for link in made['links']['actions']:
        assert c.actions.get(link['id'])['action']['status'] == 'completed'
    sim_state = do_sim.control('GET', '/_sim/state')
    hosts = {h['name']: h for h in sim_state['hosts'].values()}
    do_sim.hosts_seen.update(hosts)
    # d<id>, or d<id>-<8 hex> when another simulator's droplet has that host name already
    assert names[0] in hosts and len(hosts) == 2
    assert [h for h in hosts if h != names[0]][0] in ('d%d' % ids[1], 'd%d-%s' % (ids[1], sim_state['router']))

    # found by tag, one per page, as the API pages
    pages = [c.droplets.list(tag_name=tag, per_page=1, page=p) for p in (1, 2)]
    assert [p['meta']['total'] for p in pages] == [2, 2]
    assert [p['droplets'][0]['id'] for p in pages] == ids
    assert set(pages[0]['links']['pages']) == {'last', 'next'}
    assert 'page=2' in pages[0]['links']['pages']['next'] and 'tag_name=' in pages[0]['links']['pages']['next']
    assert set(pages[1]['links']['pages']) == {'first', 'prev'}
    a, b = [c.droplets.get(i)['droplet'] for i in ids]
    pub_a, priv_b = _addr(a, 'public'), _addr(b, 'private')
    assert pub_a['ip_address'].startswith('10.250.') and pub_a['gateway'] == '10.250.0.1'
    assert pub_a['netmask'] == '255.255.0.0'
    assert priv_b['ip_address'].startswith('10.141.0.') and priv_b['netmask'] == '255.255.255.0'
    assert _addr(a, 'private')['ip_address'] != priv_b['ip_address']

    # real ssh with the droplet's key; the other droplet answers on its private address
    proc = _ssh(keypair, pub_a['ip_address'], "docker info --format '{{.Name}} {{.ServerVersion}}'")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == names[0]
    proc = _ssh(keypair, pub_a['ip_address'], '/usr/bin/python3 - ' + priv_b['ip_address'], stdin=PING_PY)
    assert proc.returncode == 0 and 'reply from ' + priv_b['ip_address'] in proc.stdout, proc.stdout + proc.stderr

    # resize: refused while on; shutdown -> completed -> resize -> power_on, same disk
    assert _ssh(keypair, pub_a['ip_address'], 'echo kept > /local/marker').returncode == 0
    with pytest.raises(HttpResponseError) as exc:
        c.droplet_actions.post(ids[0], {'type': 'resize', 'size': 's-2vcpu-4gb'})
    assert exc.value.response.status_code == 422
    assert 'power it off' in exc.value.response.json()['message']
    act = c.droplet_actions.post(ids[0], {'type': 'shutdown'})['action']
    assert act['status'] == 'in-progress' and act['type'] == 'shutdown'
    _wait_action(c, act['id'])
    assert c.droplets.get(ids[0])['droplet']['status'] == 'off'
    assert _ssh(keypair, pub_a['ip_address'], 'true', timeout=30).returncode != 0
    _wait_action(c, c.droplet_actions.post(ids[0], {'type': 'resize', 'size': 's-2vcpu-4gb'})['action']['id'])
    a = c.droplets.get(ids[0])['droplet']
    assert (a['size_slug'], a['memory'], a['vcpus'], a['status']) == ('s-2vcpu-4gb', 4096, 2, 'off')
    _wait_action(c, c.droplet_actions.post(ids[0], {'type': 'power_on'})['action']['id'])
    assert c.droplets.get(ids[0])['droplet']['status'] == 'active'
    proc = _ssh(keypair, pub_a['ip_address'], 'cat /local/marker')
    assert proc.returncode == 0 and proc.stdout.strip() == 'kept', proc.stderr

    # delete by tag: gone from the API at once, hosts down soon after, VPC bridge too
    assert c.droplets.destroy_by_tag(tag_name=tag) is None
    for i in ids:
        assert c.droplets.get(i) == NOT_FOUND        # pydo returns the 404 body
    assert c.droplets.list(tag_name=tag)['meta']['total'] == 0
    assert do_sim.control('POST', '/_sim/wait_idle', {'timeout': 200}, timeout=230)['idle']
    left = set(list_hosts()) & set(hosts)
    assert not left, left
    # the region's first VPC is its default, which cannot be deleted: make another the default
    assert vpc['default']
    with pytest.raises(HttpResponseError) as exc:
        c.vpcs.delete(vpc['id'])
    assert exc.value.response.status_code == 403 and exc.value.response.json()['id'] == 'forbidden'
    other = c.vpcs.create({'name': prefix + '-vpc2', 'region': 'fra1'})['vpc']
    assert c.vpcs.patch(other['id'], {'default': True})['vpc']['default']
    assert c.vpcs.delete(vpc['id']) is None
    assert do_sim.control('POST', '/_sim/wait_idle', {'timeout': 120}, timeout=150)['idle']
    bridge = 'fvpc-' + vpc['id'].replace('-', '')[:8]
    assert subprocess.run(['ip', 'link', 'show', 'dev', bridge], capture_output=True, timeout=30,
                          check=False).returncode != 0
    c.ssh_keys.delete(key['id'])


def test_rate_limit_burst_then_success(do_sim):
    c = do_sim.client()
    # a default client (azure-core's retry policy) waits out Retry-After, up to 3 times
    do_sim.control('POST', '/_sim/faults', {'rate_limit_next': 3, 'retry_after': 1})
    start = time.monotonic()
    assert c.droplets.list()['meta']['total'] >= 0
    assert time.monotonic() - start >= 2.5
    # with retries off the 429 reaches the caller, with the headers to back off by
    do_sim.control('POST', '/_sim/faults', {'rate_limit_next': 2, 'retry_after': 2})
    for _attempt in range(2):
        with pytest.raises(HttpResponseError) as exc:
            c.droplets.list(retry_total=0)
        resp = exc.value.response
        assert resp.status_code == 429
        assert resp.json() == {'id': 'too_many_requests', 'message': 'API Rate limit exceeded.'}
        assert resp.headers['Retry-After'] == '2' and resp.headers['ratelimit-remaining'] == '0'
        assert int(resp.headers['ratelimit-reset']) >= int(time.time())
    assert c.droplets.list(retry_total=0)['meta']['total'] >= 0
    assert do_sim.control('GET', '/_sim/faults')['rate_limit_next'] == 0


def test_never_active_droplet_stays_new(do_sim, prefix):
    c = do_sim.client()
    do_sim.control('POST', '/_sim/faults', {'never_active': [prefix + '-stuck']})
    try:
        d = c.droplets.create({'name': prefix + '-stuck-1', 'region': 'nyc3', 'size': 's-1vcpu-1gb',
                               'image': 'ubuntu-24-04-x64', 'tags': [prefix]})['droplet']
        time.sleep(8)   # a normal droplet is active within a few seconds
        got = c.droplets.get(d['id'])['droplet']
        assert got['status'] == 'new' and got['networks'] == {'v4': [], 'v6': []}
        state = do_sim.control('GET', '/_sim/state')
        assert all(h['droplet_id'] != d['id'] for h in state['hosts'].values())
        assert prefix + '-stuck-1' not in list_hosts()
        assert c.droplets.destroy(d['id']) is None
        assert c.droplets.get(d['id']) == NOT_FOUND
    finally:
        do_sim.control('POST', '/_sim/faults', {'never_active': []})


def _wait_peering(client, peering_id, status, timeout=60):
    """Wait for a VPC peering to reach ``status``, or (status None) to be gone (404 body)."""
    def reached():
        got = client.vpc_peerings.get(peering_id)
        if status is None:
            return got.get('id') == 'not_found'
        return got.get('vpc_peering', {}).get('status') == status
    _wait(reached, timeout, 'VPC peering %s %s' % (peering_id, status or 'gone'))


def test_vpc_peerings_api_with_fake_hosts(tmp_path):
    """The VPC peering endpoints through pydo against a do_sim.sh --fake-hosts process, and a
    restart that keeps the peerings."""
    state_dir = str(tmp_path / 'sim')
    token = 'it-' + secrets.token_hex(8)
    port = str(free_port())
    start = ['start', '--fake-hosts', '--port', port, '--state-dir', state_dir, '--token', token]
    out = _run(start, 60)
    env = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    sim = Sim(env, state_dir)
    try:
        c = sim.client()
        a = c.vpcs.create({'name': 'it-peer-a', 'region': 'nyc1', 'ip_range': '10.171.0.0/24'})['vpc']
        b = c.vpcs.create({'name': 'it-peer-b', 'region': 'sfo3', 'ip_range': '10.172.0.0/24'})['vpc']
        v3 = c.vpcs.create({'name': 'it-peer-c', 'region': 'sfo3', 'ip_range': '10.173.0.0/24'})['vpc']
        began = time.monotonic()
        ab = c.vpc_peerings.create({'name': 'it-ab', 'vpc_ids': [a['id'], b['id']]})['vpc_peering']
        assert ab['status'] == 'PROVISIONING' and ab['vpc_ids'] == [a['id'], b['id']]
        _wait_peering(c, ab['id'], 'ACTIVE')
        print('\nfake hosts: PROVISIONING -> ACTIVE in %.1f s' % (time.monotonic() - began))
        bc = c.vpcs.create_peerings(b['id'], {'name': 'it-bc', 'vpc_id': v3['id']})['peering']
        assert bc['vpc_ids'] == [b['id'], v3['id']]
        assert [p['id'] for p in c.vpcs.list_peerings(b['id'])['peerings']] == [ab['id'], bc['id']]
        assert [p['id'] for p in c.vpc_peerings.list(region='nyc1')['vpc_peerings']] == [ab['id']]
        assert c.vpc_peerings.patch(ab['id'], {'name': 'it-ab2'})['vpc_peering']['name'] == 'it-ab2'
        assert c.vpcs.patch_peerings(v3['id'], bc['id'], {'name': 'it-bc2'})['peering']['name'] == 'it-bc2'

        # errors, with the API's bodies: pydo raises where the spec lists no such answer ...
        for body, status, error_id in (({'name': 'x', 'vpc_ids': [b['id'], a['id']]}, 409, 'conflict'),
                                       ({'name': 'it-bc2', 'vpc_ids': [a['id'], v3['id']]}, 409, 'conflict'),
                                       ({'name': 'x', 'vpc_ids': [a['id'], a['id']]}, 422, 'unprocessable_entity'),
                                       ({'name': 'x', 'vpc_ids': [a['id']]}, 422, 'unprocessable_entity'),
                                       ({'name': 'x_y', 'vpc_ids': [a['id'], v3['id']]}, 422, 'unprocessable_entity'),
                                       ({'name': 'x', 'vpc_ids': [a['id'], NOT_FOUND_UUID]}, 404, 'not_found')):
            with pytest.raises(HttpResponseError) as exc:
                c.vpc_peerings.create(body)
            assert exc.value.response.status_code == status, body
            assert exc.value.response.json()['id'] == error_id
        # ... and returns the 404 body where it does
        assert c.vpcs.create_peerings(NOT_FOUND_UUID, {'name': 'x', 'vpc_id': a['id']})['id'] == 'not_found'
        assert c.vpc_peerings.get(NOT_FOUND_UUID)['id'] == 'not_found'
        # a peered VPC cannot be deleted
        with pytest.raises(HttpResponseError) as exc:
            c.vpcs.delete(v3['id'])
        assert exc.value.response.status_code == 422 and bc['id'] in exc.value.response.json()['message']
        shown = {p['id']: p for p in sim.control('GET', '/_sim/state')['peerings']}
        assert {shown[ab['id']]['status'], shown[bc['id']]['status']} <= {'PROVISIONING', 'ACTIVE'}

        # the peerings survive a restart of the simulator (their routing is set up again)
        _wait_peering(c, bc['id'], 'ACTIVE')
        _run(['stop', '--state-dir', state_dir], 120)
        out = _run(start, 60)
        sim = Sim(dict(line.split('=', 1) for line in out.splitlines() if '=' in line), state_dir)
        c = sim.client()
        assert {p['name'] for p in c.vpc_peerings.list()['vpc_peerings']} == {'it-ab2', 'it-bc2'}
        _wait_peering(c, ab['id'], 'ACTIVE')

        gone = c.vpc_peerings.delete(ab['id'])['vpc_peering']
        assert gone['status'] == 'DELETING' and gone['id'] == ab['id']
        _wait_peering(c, ab['id'], None)
        assert c.vpc_peerings.delete(ab['id'])['id'] == 'not_found'
        assert [p['id'] for p in c.vpc_peerings.list()['vpc_peerings']] == [bc['id']]
        assert sim.control('POST', '/_sim/reset', timeout=120)['idle']
        state = sim.control('GET', '/_sim/state')
        assert state['peerings'] == [] and state['routed'] == []
    finally:
        _run(['stop', '--state-dir', state_dir], 120)
