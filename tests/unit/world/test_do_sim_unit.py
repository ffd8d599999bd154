# SPDX-License-Identifier: GPL-3.0-or-later
"""The DigitalOcean simulator (tests/world/do_sim) without hosts: its pure helpers, and the whole
API in-process with fake hosts, driven by the real pydo client and checked against the official
OpenAPI schemas (skipped when ../shared/specs is not there). No Docker, a few seconds."""
import os
import sys
import threading
import time
import types

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError
from pydo import Client

import do_openapi

try:
    import jsonschema
except ImportError:  # the answers are then not checked against the spec
    jsonschema = None

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'world')
if WORLD_DIR not in sys.path:
    sys.path.append(WORLD_DIR)

import do_sim  # noqa: E402
from do_sim import catalog, model  # noqa: E402
from do_sim.hosts import FakeHosts  # noqa: E402
from do_sim.state import Faults, State  # noqa: E402

ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEjGf7kGkgrsho1lGkFRHLaRMig4cKBvOHemBExSrgt8 vector'
ED25519_MD5 = '5a:2d:d1:8a:1b:1b:0a:44:11:e5:f0:ac:55:8c:c7:8c'   # ssh-keygen -l -E md5
RSA = ('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCUquoFYWNr4tPhtM2uveWTHcr+Sy0QunCQccRijPux+FVOER55PdUn+Ni8YNC9Wv'
       'CzZEgbsNyuhOvGDNMHGQdPS0te98P+h0Vp52NF6yPp7uy0G0K/xkOxk7OU2l8kKd3Lr5eyC/TlDLvwQwN2L3HMB8y08OPKDpsdonqRe'
       '7BNrQ== rsa-vector')
RSA_MD5 = 'ad:38:26:4b:9e:4d:4f:c7:66:8f:6e:8f:8b:8f:47:39'


# ---------------------------------------------------------------------------------------------
# pure parts

def test_page_links_like_the_api():
    base, path = 'https://api.example', '/v2/droplets'
    assert model.page_links(base, path, 1, 20, 3) == {}
    assert model.page_links(base, path, 1, 20, 0) == {}
    first = model.page_links(base, path, 1, 1, 3, {'tag_name': 'web', 'per_page': '1'})
    assert first == {'pages': {'last': base + path + '?page=3&per_page=1&tag_name=web',
                               'next': base + path + '?page=2&per_page=1&tag_name=web'}}
    middle = model.page_links(base, path, 2, 1, 3)['pages']
    assert set(middle) == {'first', 'prev', 'last', 'next'}
    assert middle['prev'].endswith('?page=1&per_page=1') and middle['next'].endswith('?page=3&per_page=1')
    assert set(model.page_links(base, path, 3, 1, 3)['pages']) == {'first', 'prev'}
    # beyond the last page: an empty page that points back
    assert model.page_links(base, path, 9, 1, 3)['pages']['prev'].endswith('?page=3&per_page=1')

    body = model.paged('droplets', list(range(45)), {'page': '3'}, base, path)
    assert body['droplets'] == list(range(40, 45)) and body['meta'] == {'total': 45}
    assert set(body['links']['pages']) == {'first', 'prev'}


def test_paging_parameters():
    assert model.parse_paging({}) == (1, 20)
    assert model.parse_paging({'page': '2', 'per_page': '500'}) == (2, 200)
    assert model.parse_paging({'page': '0', 'per_page': '0'}) == (1, 20)
    with pytest.raises(model.ApiError) as exc:
        model.parse_paging({'per_page': 'x'})
    assert exc.value.status == 422 and exc.value.body()['id'] == 'unprocessable_entity'


def test_fingerprints_are_md5_like_the_api():
    assert model.fingerprint(ED25519) == ED25519_MD5
    assert model.fingerprint(RSA) == RSA_MD5
    assert model.fingerprint('  ' + ED25519.replace(' ', '   ') + '\n') == ED25519_MD5
    assert model.normalize_public_key(ED25519 + '\n') == ED25519
    for bad in ('', 'ssh-ed25519', 'ssh-foo AAAA', 'ssh-ed25519 not*base64', 'ssh-rsa ' + ED25519.split()[1], 42):
        with pytest.raises(ValueError):
            model.fingerprint(bad)


def test_names():
    for good in ('web-1', 'api.example.com', 'A1', 'x'):
        model.check_droplet_name(good)
    for bad in ('web_1', '-web', 'web-', '', 'a b', None):
        with pytest.raises(model.ApiError) as exc:
            model.check_droplet_name(bad)
        assert exc.value.status == 422
    with pytest.raises(model.ApiError, match='hostname characters'):
        model.check_droplet_name('u1_myapp')
    model.check_tag_name('env:prod_1')
    with pytest.raises(model.ApiError):
        model.check_tag_name('bad tag')
    assert model.host_name_for('web-1', 7, set()) == 'web-1'
    assert model.host_name_for('web-1', 7, {'web-1'}) == 'd7'
    assert model.host_name_for('Web-1', 7, set()) == 'd7'
    assert model.host_name_for('api.example.com', 7, set()) == 'd7'
    assert model.host_name_for('a' * 33, 7, set()) == 'd7'


def test_vpc_ranges():
    assert str(model.check_vpc_range('10.20.0.0/24', [])) == '10.20.0.0/24'
    for bad in ('10.20.0.1/24', '8.8.8.0/24', '10.0.0.0/8', '10.20.0.0/29', '10.250.10.0/24', '172.17.5.0/24',
                'nonsense', 'fd00::/64'):
        with pytest.raises(model.ApiError) as exc:
            model.check_vpc_range(bad, [])
        assert exc.value.status == 422, bad
    with pytest.raises(model.ApiError, match='overlaps the range'):
        model.check_vpc_range('10.20.0.0/16', ['10.20.5.0/24'])
    assert model.auto_vpc_range('10.116.0.0/20', []) == '10.116.0.0/20'
    assert model.auto_vpc_range('10.116.0.0/20', ['10.116.0.0/20', '10.100.0.0/20']) == '10.100.16.0/20'
    assert model.vpc_host_range('10.116.0.0/20') == ('10.116.0.2', '10.116.15.254')
    assert model.netmask(20) == '255.255.240.0' and model.netmask(16) == '255.255.0.0'


def test_peering_helpers():
    assert model.vpc_gateway('10.116.0.0/20') == '10.116.0.1/20'
    assert model.vpc_gateway('10.141.0.0/24') == '10.141.0.1/24'
    assert model.peer_spec('fvpc-0123abcd', '10.141.0.0/24') == 'fvpc-0123abcd:10.141.0.1/24'
    # the gateway is never a droplet's: droplets start at .2
    assert model.vpc_host_range('10.141.0.0/24')[0] == '10.141.0.2'
    rid = model.router_id('/var/lib/fleet-world/do_sim')
    assert rid == model.router_id('/var/lib/fleet-world/do_sim/') and len(rid) == 8
    assert rid != model.router_id('/tmp/other') and all(ch in '0123456789abcdef' for ch in rid)
    err = model.conflict('taken')
    assert (err.status, err.body()) == (409, {'id': 'conflict', 'message': 'taken'})
    for good in ('nyc1-blr1', 'a', 'peer.1'):
        assert model.PEERING_NAME_RE.match(good)
    for bad in ('', 'bad_name', 'a b', 'x' * 256):
        assert not model.PEERING_NAME_RE.match(bad)


def test_address_allocation_is_round_robin():
    first, last = '10.250.201.1', '10.250.201.4'
    assert model.next_free_ip(first, last, set()) == '10.250.201.1'
    assert model.next_free_ip(first, last, set(), after='10.250.201.1') == '10.250.201.2'
    assert model.next_free_ip(first, last, {'10.250.201.2'}, after='10.250.201.1') == '10.250.201.3'
    assert model.next_free_ip(first, last, set(), after='10.250.201.4') == '10.250.201.1'   # wraps
    assert model.next_free_ip(first, last, {'10.250.201.%d' % i for i in range(1, 5)}) is None
    assert model.next_free_ip('10.250.201.254', '10.250.202.2', set(), after='10.250.201.254') == '10.250.202.1'


def test_catalogue():
    slugs = [s['slug'] for s in catalog.sizes_json()]
    for s in ('s-1vcpu-1gb', 's-1vcpu-2gb', 's-2vcpu-2gb', 's-2vcpu-4gb', 's-4vcpu-8gb'):
        assert s in slugs
    s = catalog.size_json('s-2vcpu-4gb')
    assert (s['memory'], s['vcpus'], s['price_monthly']) == (4096, 2, 24.0)
    assert 'nyc3' in s['regions'] and 'nyc2' not in s['regions']
    assert 'c-2' not in catalog.region_json('blr1')['sizes']
    assert catalog.find_image(169000103) == catalog.find_image('debian-12-x64') == catalog.find_image('169000103')
    assert catalog.find_image(True) is None


def test_faults_validation():
    f = Faults()
    f.update({'rate_limit_next': 2, 'never_active': ['x-'], 'delay_seconds': 1})
    assert f.as_dict()['delay_seconds'] == 1.0 and f.take('rate_limit_next') and f.take('rate_limit_next')
    assert not f.take('rate_limit_next')
    for bad in ({'nope': 1}, {'rate_limit_next': -1}, {'rate_limit_next': True}, {'never_active': 'x'},
                {'never_active': ['']}, {'delay_seconds': 999}, {'errored_actions': 'power_off'}, []):
        with pytest.raises(model.ApiError):
            f.update(bad)


def test_restart_takes_the_hosts_of_an_earlier_run_down(tmp_path):
    st = State(FakeHosts(0), str(tmp_path))
    key = st.create_key({'name': 'k', 'public_key': ED25519})['ssh_key']
    st.create_droplets({'name': 'web-1', 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64', 'ssh_keys': [key['id']]},
                       'https://x')
    assert st.backend.wait_idle(10)
    assert list(st.data['hosts']) == ['web-1']
    with open(st.data['droplets'][next(iter(st.data['droplets']))]['keys_file']) as f:
        assert f.read() == ED25519 + '\n'
    # a new process on the same directory (the old one was killed)
    st2 = State(FakeHosts(0), str(tmp_path))
    assert st2.data['hosts']['web-1']['state'] == 'stale'
    assert st2.teardown(timeout=10)
    assert st2.data['hosts'] == {} and st2.data['droplets'] == {} and st2.data['bridges'] == []
    assert [k['name'] for k in st2.data['keys'].values()] == ['k']      # keys survive
    assert os.listdir(st2.keys_dir) == []


class RecordingHosts(FakeHosts):
    """Fake hosts that remember the peering operations asked for."""

    def __init__(self):
        super().__init__(0.2)
        self.calls = []

    def peer(self, router, spec_a, spec_b, callback):
        self.calls.append(('peer', router, spec_a, spec_b))
        super().peer(router, spec_a, spec_b, callback)

    def unpeer(self, router, bridge_a, bridge_b, callback):
        self.calls.append(('unpeer', router, bridge_a, bridge_b))
        super().unpeer(router, bridge_a, bridge_b, callback)


def test_peerings_route_and_survive_a_restart(tmp_path):
    st = State(RecordingHosts(), str(tmp_path))
    a = st.create_vpc({'name': 'ra', 'region': 'nyc1', 'ip_range': '10.161.0.0/24'})['vpc']
    b = st.create_vpc({'name': 'rb', 'region': 'fra1', 'ip_range': '10.162.0.0/20'})['vpc']
    p = st.create_peering({'name': 'r-ab', 'vpc_ids': [b['id'], a['id']]})['vpc_peering']
    assert p['status'] == 'PROVISIONING' and p['vpc_ids'] == [b['id'], a['id']]
    assert st.backend.wait_idle(10)
    assert st.get_peering(p['id'])['vpc_peering']['status'] == 'ACTIVE'
    br_a, br_b = st.data['vpcs'][a['id']]['bridge'], st.data['vpcs'][b['id']]['bridge']
    rid = model.router_id(str(tmp_path))
    assert st.backend.calls == [('peer', rid, br_b + ':10.162.0.1/20', br_a + ':10.161.0.1/24')]
    assert st.data['routed'] == [sorted([br_a, br_b])] and {br_a, br_b} <= set(st.data['bridges'])
    # a new process on the same directory: the routing goes with the teardown, the peering stays
    st2 = State(RecordingHosts(), str(tmp_path))
    assert st2.teardown(timeout=10)
    assert st2.backend.calls == [('unpeer', rid) + tuple(sorted([br_a, br_b]))]
    assert st2.data['routed'] == [] and st2.data['bridges'] == []
    assert st2.data['peerings'][p['id']]['status'] == 'PROVISIONING'
    st2.resume()
    assert st2.backend.wait_idle(10)
    assert st2.get_peering(p['id'])['vpc_peering']['status'] == 'ACTIVE'
    assert st2.data['routed'] == [sorted([br_a, br_b])]
    # delete: DELETING, then gone once unpeered; the VPCs can then go
    with pytest.raises(model.ApiError) as exc:
        st2.delete_vpc(b['id'])
    assert exc.value.status == 403      # b is fra1's default VPC: that check comes first
    st2.update_vpc(st2.create_vpc({'name': 'rb2', 'region': 'fra1'})['vpc']['id'], {'default': True}, full=False)
    with pytest.raises(model.ApiError) as exc:
        st2.delete_vpc(b['id'])
    assert exc.value.status == 422 and p['id'] in exc.value.message and 'peer' in exc.value.message
    assert st2.delete_peering(p['id'])['vpc_peering']['status'] == 'DELETING'
    assert st2.delete_peering(p['id'])['vpc_peering']['status'] == 'DELETING'   # asked once only
    assert st2.backend.wait_idle(10)
    assert st2.data['peerings'] == {} and st2.data['routed'] == []
    assert [c[0] for c in st2.backend.calls] == ['unpeer', 'peer', 'unpeer']
    st2.delete_vpc(b['id'])
    assert st2.teardown(timeout=10, everything=True) and st2.data['vpcs'] == {}


# ---------------------------------------------------------------------------------------------
# the server in-process, fake hosts, real pydo

@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    state_dir = str(tmp_path_factory.mktemp('do_sim'))
    server, state, info = do_sim.make_server(state_dir, port=0, tokens=['unit-token'], backend='fake',
                                             boot_seconds=1.5, action_seconds=1.5)
    # long enough that a droplet is still "new", an action "in-progress" and a firewall "waiting" when the
    # test's next request comes, also on a machine busy with the rest of the suite (0.2-0.3 s was not)
    state.cfg['firewall_seconds'] = 1.5
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
    thread.start()

    def client(**kw):
        kw.setdefault('connection_verify', info['ca'])
        return Client(kw.pop('token', info['token']), endpoint=info['url'], **kw)

    def call(method, path, body=None, token=None, raw=None):
        resp = requests.request(method, info['url'] + path, json=body, data=raw, verify=info['ca'], timeout=30,
                                headers={'Authorization': 'Bearer ' + (token or info['token'])})
        return resp.status_code, resp.headers, (resp.json() if resp.content else None)

    ns = types.SimpleNamespace(client=client, call=call, state=state, **info)
    yield ns
    server.shutdown()
    server.server_close()
    state.teardown(timeout=10)


def _spec(path, method, status, body):
    if jsonschema is None or not do_openapi.available():
        return
    jsonschema.Draft4Validator(do_openapi.response_schema(path, method, status)).validate(body)


def _error(body, error_id):
    if jsonschema is not None and do_openapi.available():
        jsonschema.Draft4Validator(do_openapi.error_schema()).validate(body)
    assert body['id'] == error_id, body


def _http_error(exc_info, status, error_id):
    resp = exc_info.value.response
    assert resp.status_code == status
    _error(resp.json(), error_id)
    return resp.json()


def _wait(fn, timeout=10, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail('%s not reached within %s s' % (what, timeout))


def test_catalogue_answers_match_the_spec(sim):
    c = sim.client()
    _spec('/v2/account', 'get', 200, c.account.get())
    regions = c.regions.list()
    _spec('/v2/regions', 'get', 200, regions)
    assert regions['meta']['total'] == len(catalog.REGIONS) and regions['links'] == {}
    sizes = c.sizes.list(per_page=200)
    _spec('/v2/sizes', 'get', 200, sizes)
    page2 = c.sizes.list(per_page=3, page=2)
    assert [s['slug'] for s in page2['sizes']] == [s['slug'] for s in sizes['sizes'][3:6]]
    assert set(page2['links']['pages']) == {'first', 'prev', 'last', 'next'}


def test_bad_token_and_trust(sim, monkeypatch):
    status, headers, body = sim.call('GET', '/v2/account', token='wrong')
    assert status == 401 and body == {'id': 'unauthorized', 'message': 'Unable to authenticate you.'}
    assert headers['ratelimit-limit'] == '5000' and int(headers['ratelimit-reset']) > time.time()
    with pytest.raises(ClientAuthenticationError) as exc:
        sim.client(token='wrong').droplets.list()
    assert exc.value.status_code == 401
    assert sim.call('GET', '/_sim/state', token='wrong')[0] == 401
    # the CA through the environment instead of connection_verify
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', sim.ca)
    assert Client(sim.token, endpoint=sim.url).account.get()['account']['status'] == 'active'
    # and without trusting the CA there is no connection at all
    monkeypatch.delenv('REQUESTS_CA_BUNDLE')
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    with pytest.raises(ServiceRequestError, match='CERTIFICATE_VERIFY_FAILED'):
        Client(sim.token, endpoint=sim.url, retry_total=0).account.get()


def test_droplet_life_cycle(sim):
    c = sim.client()
    key = c.ssh_keys.create({'name': 'unit', 'public_key': ED25519})
    _spec('/v2/account/keys', 'post', 201, key)
    key = key['ssh_key']
    assert key['fingerprint'] == ED25519_MD5
    assert c.ssh_keys.get(ED25519_MD5)['ssh_key']['id'] == key['id']
    _spec('/v2/account/keys', 'get', 200, c.ssh_keys.list())
    vpc = c.vpcs.create({'name': 'unit-ams3', 'region': 'ams3', 'ip_range': '10.131.0.0/24'})
    _spec('/v2/vpcs', 'post', 201, vpc)
    vpc = vpc['vpc']

    made = c.droplets.create({'names': ['unit-a', 'unit-b', 'unit-c'], 'region': 'ams3', 'size': 's-1vcpu-1gb',
                              'image': 'debian-12-x64', 'ssh_keys': [key['id'], ED25519_MD5], 'tags': ['unit-t'],
                              'vpc_uuid': vpc['id'], 'user_data': '#cloud-config\n', 'monitoring': True})
    _spec('/v2/droplets', 'post', 202, made)
    assert [d['status'] for d in made['droplets']] == ['new'] * 3
    assert all(d['networks'] == {'v4': [], 'v6': []} for d in made['droplets'])
    assert [a['rel'] for a in made['links']['actions']] == ['create'] * 3
    ids = [d['id'] for d in made['droplets']]
    create_action = made['links']['actions'][0]['id']
    assert c.actions.get(create_action)['action']['status'] == 'in-progress'

    _wait(lambda: all(c.droplets.get(i)['droplet']['status'] == 'active' for i in ids), what='active')
    done = c.actions.get(create_action)
    _spec('/v2/actions/{action_id}', 'get', 200, done)
    assert done['action']['status'] == 'completed' and done['action']['completed_at']
    got = c.droplets.get(ids[0])
    _spec('/v2/droplets/{droplet_id}', 'get', 200, got)
    d = got['droplet']
    private = [n for n in d['networks']['v4'] if n['type'] == 'private']
    public = [n for n in d['networks']['v4'] if n['type'] == 'public']
    assert private[0]['ip_address'].startswith('10.131.0.') and private[0]['netmask'] == '255.255.255.0'
    assert public[0]['ip_address'].startswith('10.250.') and public[0]['gateway'] == '10.250.0.1'
    assert 'monitoring' in d['features'] and d['vpc_uuid'] == vpc['id']

    # paging by tag, one per page, following the links the API gives
    seen, page = [], c.droplets.list(tag_name='unit-t', per_page=1)
    _spec('/v2/droplets', 'get', 200, page)
    while True:
        assert page['meta']['total'] == 3 and len(page['droplets']) == 1
        seen.append(page['droplets'][0]['id'])
        nxt = page['links'].get('pages', {}).get('next')
        if not nxt:
            break
        page = requests.get(nxt, verify=sim.ca, timeout=10, headers={'Authorization': 'Bearer ' + sim.token}).json()
    assert seen == ids
    assert c.droplets.list(name='UNIT-B')['droplets'][0]['id'] == ids[1]
    assert c.vpcs.list_members(vpc['id'])['meta']['total'] == 3

    # resize: refused while on, then shutdown -> completed -> resize
    with pytest.raises(HttpResponseError) as exc:
        c.droplet_actions.post(ids[0], {'type': 'resize', 'size': 's-2vcpu-4gb'})
    assert 'power it off' in _http_error(exc, 422, 'unprocessable_entity')['message']
    act = c.droplet_actions.post(ids[0], {'type': 'shutdown'})
    _spec('/v2/droplets/{droplet_id}/actions', 'post', 201, act)
    with pytest.raises(HttpResponseError) as exc:
        c.droplet_actions.post(ids[0], {'type': 'power_off'})
    assert _http_error(exc, 422, 'unprocessable_entity')['message'] == 'Droplet already has a pending event.'
    _wait(lambda: c.actions.get(act['action']['id'])['action']['status'] == 'completed', what='shutdown')
    assert c.droplets.get(ids[0])['droplet']['status'] == 'off'
    act = c.droplet_actions.post(ids[0], {'type': 'resize', 'size': 's-2vcpu-4gb', 'disk': True})
    _wait(lambda: c.actions.get(act['action']['id'])['action']['status'] == 'completed', what='resize')
    d = c.droplets.get(ids[0])['droplet']
    assert (d['size_slug'], d['memory'], d['vcpus'], d['disk'], d['status']) == ('s-2vcpu-4gb', 4096, 2, 80, 'off')
    with pytest.raises(HttpResponseError) as exc:   # the disk grew: no way back
        c.droplet_actions.post(ids[0], {'type': 'resize', 'size': 's-1vcpu-1gb'})
    _http_error(exc, 422, 'unprocessable_entity')
    act = c.droplet_actions.post(ids[0], {'type': 'power_on'})
    _wait(lambda: c.actions.get(act['action']['id'])['action']['status'] == 'completed', what='power_on')
    assert c.droplets.get(ids[0])['droplet']['status'] == 'active'
    assert [a['type'] for a in c.droplet_actions.list(ids[0])['actions']] == ['power_on', 'resize', 'shutdown', 'create']

    # destroy one, then the rest by tag; pydo returns the 404 body instead of raising
    assert c.droplets.destroy(ids[0]) is None
    gone = c.droplets.get(ids[0])
    assert gone == {'id': 'not_found', 'message': 'The resource you were accessing could not be found.'}
    assert c.droplets.destroy(ids[0])['id'] == 'not_found'
    assert c.droplets.destroy_by_tag(tag_name='unit-t') is None
    assert c.droplets.list(tag_name='unit-t') == {'droplets': [], 'links': {}, 'meta': {'total': 0}}
    status, _hdrs, body = sim.call('DELETE', '/v2/droplets?tag_name=no-such-tag')
    assert status == 404 and body['id'] == 'not_found'
    _wait(lambda: not sim.call('GET', '/_sim/state')[2]['hosts'], what='hosts down')
    c.vpcs.delete(vpc['id']) if not c.vpcs.get(vpc['id'])['vpc']['default'] else None
    c.ssh_keys.delete(key['id'])
    assert c.ssh_keys.get(key['id'])['id'] == 'not_found'


def test_create_validation(sim):
    c = sim.client()
    base = {'name': 'ok-name', 'region': 'nyc3', 'size': 's-1vcpu-1gb', 'image': 'ubuntu-24-04-x64'}
    cases = [
        ({'name': 'u1_myapp'}, 'hostname characters'),
        ({'name': None, 'names': ['a', 'b_c']}, 'hostname characters'),
        ({'names': ['a', 'b']}, 'either name or names'),
        ({'name': None, 'names': ['n%d' % i for i in range(11)]}, 'up to 10'),
        ({'size': 's-99'}, 'invalid size'),
        ({'region': 'nyc2'}, 'invalid region'),
        ({'region': 'blr1', 'size': 'c-2'}, 'not available in this region'),
        ({'image': 'windows-2022'}, 'invalid image'),
        ({'size': 's-1vcpu-512mb-10gb', 'image': 'docker-20-04'}, 'disk of at least'),
        ({'ssh_keys': [12345]}, 'SSH key 12345'),
        ({'tags': ['bad tag']}, 'invalid characters'),
        ({'vpc_uuid': '00000000-0000-0000-0000-000000000000'}, 'could not be found'),
    ]
    for change, message in cases:
        body = dict(base, **change)
        body = {k: v for k, v in body.items() if v is not None}
        with pytest.raises(HttpResponseError) as exc:
            c.droplets.create(body)
        assert message in _http_error(exc, 422, 'unprocessable_entity')['message'], change
    status, _hdrs, body = sim.call('POST', '/v2/droplets', raw=b'{not json')
    assert status == 400 and body['id'] == 'bad_request'
    status, _hdrs, body = sim.call('GET', '/v2/no-such-thing')
    assert status == 404 and body['id'] == 'not_found'
    assert c.droplets.list()['meta']['total'] == 0   # nothing was created


def test_vpcs(sim):
    c = sim.client()
    first = c.vpcs.create({'name': 'unit-lon1-a', 'region': 'lon1'})['vpc']
    assert first['default'] and first['ip_range'] == '10.106.0.0/20' and first['urn'] == 'do:vpc:' + first['id']
    second = c.vpcs.create({'name': 'unit-lon1-b', 'region': 'lon1', 'description': 'second'})['vpc']
    assert not second['default'] and second['ip_range'] != first['ip_range']
    for body, status in (({'name': 'unit-lon1-a', 'region': 'lon1'}, 422),
                         ({'name': 'bad_name', 'region': 'lon1'}, 422),
                         ({'name': 'x1', 'region': 'lon1', 'ip_range': first['ip_range']}, 422),
                         ({'name': 'x2', 'region': 'lon1', 'ip_range': '10.250.0.0/20'}, 422),
                         ({'name': 'x3', 'region': 'mars1'}, 422)):
        with pytest.raises(HttpResponseError) as exc:
            c.vpcs.create(body)
        assert exc.value.response.status_code == status
    with pytest.raises(HttpResponseError) as exc:
        c.vpcs.delete(first['id'])
    _http_error(exc, 403, 'forbidden')
    patched = c.vpcs.patch(second['id'], {'default': True})
    _spec('/v2/vpcs/{vpc_id}', 'patch', 200, patched)
    assert patched['vpc']['default'] and not c.vpcs.get(first['id'])['vpc']['default']
    with pytest.raises(HttpResponseError) as exc:
        c.vpcs.patch(second['id'], {'default': False})
    _http_error(exc, 422, 'unprocessable_entity')
    # a droplet without vpc_uuid lands in the region's default VPC, which then has a member
    d = c.droplets.create({'name': 'unit-vpc', 'region': 'lon1', 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64'})
    assert d['droplet']['vpc_uuid'] == second['id']
    c.vpcs.patch(first['id'], {'default': True})
    with pytest.raises(HttpResponseError) as exc:
        c.vpcs.delete(second['id'])
    assert 'members' in _http_error(exc, 403, 'forbidden')['message']
    c.droplets.destroy(d['droplet']['id'])
    assert c.vpcs.delete(second['id']) is None
    assert c.vpcs.get(second['id'])['id'] == 'not_found'
    _spec('/v2/vpcs', 'get', 200, c.vpcs.list())


def test_vpc_peerings(sim):
    c = sim.client()
    a = c.vpcs.create({'name': 'unit-peer-a', 'region': 'tor1', 'ip_range': '10.151.0.0/24'})['vpc']
    b = c.vpcs.create({'name': 'unit-peer-b', 'region': 'sgp1', 'ip_range': '10.152.0.0/24'})['vpc']
    v3 = c.vpcs.create({'name': 'unit-peer-c', 'region': 'blr1', 'ip_range': '10.153.0.0/24'})['vpc']

    made = c.vpc_peerings.create({'name': 'unit-ab', 'vpc_ids': [a['id'], b['id']]})
    _spec('/v2/vpc_peerings', 'post', 202, made)
    ab = made['vpc_peering']
    assert ab['status'] == 'PROVISIONING' and ab['vpc_ids'] == [a['id'], b['id']] and ab['name'] == 'unit-ab'
    _wait(lambda: c.vpc_peerings.get(ab['id'])['vpc_peering']['status'] == 'ACTIVE', what='ACTIVE')
    got = c.vpc_peerings.get(ab['id'])
    _spec('/v2/vpc_peerings/{vpc_peering_id}', 'get', 200, got)
    assert got['vpc_peering']['created_at'] == ab['created_at']

    # the same through the VPC: key "peering"
    made = c.vpcs.create_peerings(b['id'], {'name': 'unit-bc', 'vpc_id': v3['id']})
    _spec('/v2/vpcs/{vpc_id}/peerings', 'post', 202, made)
    bc = made['peering']
    assert bc['vpc_ids'] == [b['id'], v3['id']] and bc['status'] == 'PROVISIONING'
    listed = c.vpcs.list_peerings(b['id'])
    _spec('/v2/vpcs/{vpc_id}/peerings', 'get', 200, listed)
    assert [p['id'] for p in listed['peerings']] == [ab['id'], bc['id']] and listed['meta'] == {'total': 2}
    assert [p['id'] for p in c.vpcs.list_peerings(a['id'])['peerings']] == [ab['id']]
    page = c.vpc_peerings.list(per_page=1, page=2)
    _spec('/v2/vpc_peerings', 'get', 200, page)
    assert [p['id'] for p in page['vpc_peerings']] == [bc['id']] and page['meta']['total'] == 2
    assert set(page['links']['pages']) == {'first', 'prev'}
    assert [p['id'] for p in c.vpc_peerings.list(region='tor1')['vpc_peerings']] == [ab['id']]
    assert c.vpc_peerings.list(region='syd1')['vpc_peerings'] == []

    # renames
    renamed = c.vpc_peerings.patch(ab['id'], {'name': 'unit-ab2'})
    _spec('/v2/vpc_peerings/{vpc_peering_id}', 'patch', 200, renamed)
    assert renamed['vpc_peering']['name'] == 'unit-ab2'
    renamed = c.vpcs.patch_peerings(a['id'], ab['id'], {'name': 'unit-ab3'})
    _spec('/v2/vpcs/{vpc_id}/peerings/{vpc_peering_id}', 'patch', 200, renamed)
    assert renamed['peering']['name'] == 'unit-ab3' and renamed['peering']['status'] == 'ACTIVE'
    # ... not through a VPC it does not peer (pydo returns the 404 body)
    _error(c.vpcs.patch_peerings(v3['id'], ab['id'], {'name': 'x'}), 'not_found')

    # errors: 422 for the request itself, 404 for an unknown VPC, 409 for what exists already
    unknown = '00000000-0000-4000-8000-000000000000'
    cases = [
        ({'name': 'bad_name', 'vpc_ids': [a['id'], v3['id']]}, 422, 'unprocessable_entity', 'alphanumeric'),
        ({'vpc_ids': [a['id'], v3['id']]}, 422, 'unprocessable_entity', 'name is required'),
        ({'name': 'n1', 'vpc_ids': [a['id']]}, 422, 'unprocessable_entity', 'exactly two'),
        ({'name': 'n1', 'vpc_ids': [a['id'], b['id'], v3['id']]}, 422, 'unprocessable_entity', 'exactly two'),
        ({'name': 'n1', 'vpc_ids': a['id']}, 422, 'unprocessable_entity', 'exactly two'),
        ({'name': 'n1', 'vpc_ids': [a['id'], a['id']]}, 422, 'unprocessable_entity', 'itself'),
        ({'name': 'n1', 'vpc_ids': [a['id'], unknown]}, 404, 'not_found', unknown),
        ({'name': 'n1', 'vpc_ids': [b['id'], a['id']]}, 409, 'conflict', 'already peered'),
        ({'name': 'unit-bc', 'vpc_ids': [a['id'], v3['id']]}, 409, 'conflict', 'name unit-bc'),
    ]
    for body, status, error_id, message in cases:
        with pytest.raises(HttpResponseError) as exc:
            c.vpc_peerings.create(body)
        assert message in _http_error(exc, status, error_id)['message'], body
    with pytest.raises(HttpResponseError) as exc:
        c.vpc_peerings.patch(bc['id'], {'name': 'unit-ab3'})
    _http_error(exc, 409, 'conflict')
    with pytest.raises(HttpResponseError) as exc:
        c.vpc_peerings.patch(bc['id'], {'name': 'a b'})
    _http_error(exc, 422, 'unprocessable_entity')
    with pytest.raises(HttpResponseError) as exc:
        c.vpcs.create_peerings(a['id'], {'name': 'n2'})
    _http_error(exc, 422, 'unprocessable_entity')
    _error(c.vpcs.create_peerings(unknown, {'name': 'n2', 'vpc_id': a['id']}), 'not_found')
    _error(c.vpcs.create_peerings(a['id'], {'name': 'n2', 'vpc_id': unknown}), 'not_found')
    _error(c.vpcs.list_peerings(unknown), 'not_found')
    _error(c.vpc_peerings.get(unknown), 'not_found')
    _error(c.vpc_peerings.delete(unknown), 'not_found')
    status, _hdrs, body = sim.call('POST', '/v2/vpc_peerings', raw=b'{not json')
    assert status == 400 and body['id'] == 'bad_request'
    # overlapping ranges (VPCs of one account never overlap: made up in the state)
    d = c.vpcs.create({'name': 'unit-peer-d', 'region': 'tor1', 'ip_range': '10.154.0.0/24'})['vpc']
    with sim.state.lock:
        sim.state.data['vpcs'][d['id']]['ip_range'] = '10.151.0.0/25'
    with pytest.raises(HttpResponseError) as exc:
        c.vpc_peerings.create({'name': 'n3', 'vpc_ids': [a['id'], d['id']]})
    assert 'overlap' in _http_error(exc, 422, 'unprocessable_entity')['message']
    with sim.state.lock:
        sim.state.data['vpcs'][d['id']]['ip_range'] = '10.154.0.0/24'
    # a name with periods (POST /v2/vpcs/{id}/peerings allows them)
    dotted = c.vpcs.create_peerings(d['id'], {'name': 'unit.dotted', 'vpc_id': v3['id']})['peering']
    assert dotted['name'] == 'unit.dotted'

    state = sim.call('GET', '/_sim/state')[2]
    shown = {p['id']: p for p in state['peerings']}
    assert set(shown) == {ab['id'], bc['id'], dotted['id']} and shown[ab['id']]['error'] is None
    bridges = {v['id']: v['bridge'] for v in state['vpcs']}
    assert shown[ab['id']]['bridges'] == sorted([bridges[a['id']], bridges[b['id']]])
    assert sorted(state['routed']) == sorted(p['bridges'] for p in shown.values())
    assert len(state['router']) == 8

    # a peered VPC cannot be deleted (d is not tor1's default: a is)
    with pytest.raises(HttpResponseError) as exc:
        c.vpcs.delete(d['id'])
    assert dotted['id'] in _http_error(exc, 422, 'unprocessable_entity')['message']

    # delete: 202 DELETING, then 404
    for p in (ab, bc, dotted):
        gone = c.vpc_peerings.delete(p['id'])
        if p is not dotted:     # the schema's name pattern has no periods (that of the request has)
            _spec('/v2/vpc_peerings/{vpc_peering_id}', 'delete', 202, gone)
        assert gone['vpc_peering']['status'] == 'DELETING'
    assert c.vpc_peerings.get(ab['id'])['vpc_peering']['status'] == 'DELETING'
    _wait(lambda: c.vpc_peerings.list()['meta']['total'] == 0, what='peerings gone')
    _error(c.vpc_peerings.get(ab['id']), 'not_found')
    assert sim.call('GET', '/_sim/state')[2]['routed'] == []
    assert c.vpcs.delete(d['id']) is None


def test_firewalls_and_tags(sim):
    c = sim.client()
    rules = {'name': 'unit-fw', 'inbound_rules': [{'protocol': 'tcp', 'ports': '22', 'sources': {'tags': ['unit-fw-t']}}],
             'outbound_rules': [{'protocol': 'tcp', 'ports': 'all',
                                 'destinations': {'addresses': ['0.0.0.0/0', '::/0']}}]}
    # tags must exist to be referenced; pydo returns the 400 body of firewall calls
    _error(c.firewalls.create(rules), 'bad_request')
    status, _hdrs, body = sim.call('GET', '/v2/tags?per_page=x')
    assert status == 422 and body['id'] == 'unprocessable_entity'
    _error(c.tags.create({'name': 'bad tag'}), 'bad_request')
    tag = c.tags.create({'name': 'unit-fw-t'})
    _spec('/v2/tags', 'post', 201, tag)
    assert c.tags.create({'name': 'UNIT-FW-T'})['tag']['name'] == 'unit-fw-t'   # case stable
    d = c.droplets.create({'name': 'unit-fw-d', 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64',
                           'tags': ['unit-fw-t']})['droplet']
    fw = c.firewalls.create(dict(rules, droplet_ids=[d['id']]))
    _spec('/v2/firewalls', 'post', 202, fw)
    fw = fw['firewall']
    assert fw['status'] == 'waiting' and fw['pending_changes'][0]['droplet_id'] == d['id']
    _wait(lambda: c.firewalls.get(fw['id'])['firewall']['status'] == 'succeeded', what='firewall applied')
    _spec('/v2/firewalls/{firewall_id}', 'get', 200, c.firewalls.get(fw['id']))
    assert c.firewalls.delete_droplets(fw['id'], {'droplet_ids': [d['id']]}) is None
    assert c.firewalls.add_tags(fw['id'], {'tags': ['unit-fw-t']}) is None
    got = c.firewalls.get(fw['id'])['firewall']
    assert got['droplet_ids'] == [] and got['tags'] == ['unit-fw-t']
    _error(c.firewalls.assign_droplets(fw['id'], {'droplet_ids': [999]}), 'bad_request')
    assert c.firewalls.add_rules(fw['id'], {'inbound_rules': [
        {'protocol': 'udp', 'ports': '53', 'sources': {'addresses': ['10.0.0.0/8']}}]}) is None
    assert [r['protocol'] for r in c.firewalls.get(fw['id'])['firewall']['inbound_rules']] == ['tcp', 'udp']
    assert c.firewalls.delete_rules(fw['id'], {'inbound_rules': [
        {'protocol': 'udp', 'ports': '53', 'sources': {'addresses': ['10.0.0.0/8']}}]}) is None
    assert [r['protocol'] for r in c.firewalls.get(fw['id'])['firewall']['inbound_rules']] == ['tcp']
    put = c.firewalls.update(fw['id'], {'name': 'unit-fw2', 'inbound_rules': [
        {'protocol': 'icmp', 'sources': {'addresses': ['10.0.0.0/8']}}]})
    _spec('/v2/firewalls/{firewall_id}', 'put', 200, put)
    assert put['firewall']['name'] == 'unit-fw2' and put['firewall']['outbound_rules'] == []
    _spec('/v2/firewalls', 'get', 200, c.firewalls.list())

    t = c.tags.get('unit-fw-t')
    _spec('/v2/tags/{tag_id}', 'get', 200, t)
    assert t['tag']['resources']['droplets']['count'] == 1
    _spec('/v2/tags', 'get', 200, c.tags.list())
    assert c.tags.delete('unit-fw-t') is None
    assert c.droplets.get(d['id'])['droplet']['tags'] == []
    assert c.tags.get('unit-fw-t')['id'] == 'not_found'
    c.firewalls.delete(fw['id'])
    assert c.firewalls.get(fw['id'])['id'] == 'not_found'
    c.droplets.destroy(d['id'])


def test_faults(sim):
    c = sim.client()
    # 429s: seen with retries off, absorbed (Retry-After honoured) by a default client
    status, _hdrs, body = sim.call('POST', '/_sim/faults', {'rate_limit_next': 2, 'retry_after': 1})
    assert status == 200 and body['rate_limit_next'] == 2
    before = time.time()
    with pytest.raises(HttpResponseError) as exc:
        sim.client(retry_total=0).account.get()
    _http_error(exc, 429, 'too_many_requests')
    headers = exc.value.response.headers
    assert headers['Retry-After'] == '1' and headers['ratelimit-remaining'] == '0'
    # a Unix time after the request (read against the time before it: a loaded machine may answer late)
    assert int(headers['ratelimit-reset']) > before
    start = time.monotonic()
    assert c.account.get()['account']      # one more 429, retried after 1 s
    assert time.monotonic() - start >= 0.9
    assert sim.call('GET', '/_sim/faults')[2]['rate_limit_next'] == 0

    # a 500 on create: azure-core retries POST on 500, so only retry_total=0 shows it
    sim.call('POST', '/_sim/faults', {'fail_next_create': 1})
    body = {'name': 'unit-f1', 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64', 'tags': ['unit-faults']}
    with pytest.raises(HttpResponseError) as exc:
        c.droplets.create(body, retry_total=0)
    _http_error(exc, 500, 'server_error')
    sim.call('POST', '/_sim/faults', {'fail_next_create': 1})
    assert c.droplets.create(body)['droplet']['status'] == 'new'

    # slow answers
    sim.call('POST', '/_sim/faults', {'delay_seconds': 0.5})
    start = time.monotonic()
    c.regions.list()
    assert time.monotonic() - start >= 0.5
    sim.call('POST', '/_sim/faults', {'delay_seconds': 0})

    # never active
    sim.call('POST', '/_sim/faults', {'never_active': ['unit-stuck']})
    stuck = c.droplets.create(dict(body, name='unit-stuck-1'))['droplet']
    time.sleep(2.0)   # > boot_seconds: the others are active by now
    d = c.droplets.get(stuck['id'])['droplet']
    assert d['status'] == 'new' and d['networks'] == {'v4': [], 'v6': []}
    state = sim.call('GET', '/_sim/state')[2]
    assert [x['never_active'] for x in state['droplets'] if x['id'] == stuck['id']] == [True]
    assert all(h['droplet_id'] != stuck['id'] for h in state['hosts'].values())
    with pytest.raises(HttpResponseError):
        c.droplet_actions.post(stuck['id'], {'type': 'power_cycle'})
    # an action that errors (a lost hypervisor): the droplet is left as it was
    up = [d for d in c.droplets.list(tag_name='unit-faults')['droplets'] if d['status'] == 'active'][0]
    sim.call('POST', '/_sim/faults', {'errored_actions': ['power_off']})
    action = c.droplet_actions.post(up['id'], {'type': 'power_off'})['action']
    deadline = time.monotonic() + 10
    while c.actions.get(action['id'])['action']['status'] == 'in-progress' and time.monotonic() < deadline:
        time.sleep(0.2)
    assert c.actions.get(action['id'])['action']['status'] == 'errored'
    assert c.droplets.get(up['id'])['droplet']['status'] == 'active'
    sim.call('POST', '/_sim/faults', {'errored_actions': []})
    status, _hdrs, body = sim.call('POST', '/_sim/faults', {'bogus': 1})
    assert status == 422
    c.droplets.destroy_by_tag(tag_name='unit-faults')
    assert c.droplets.get(stuck['id'])['id'] == 'not_found'

    # reset forgets everything
    status, _hdrs, body = sim.call('POST', '/_sim/reset')
    assert status == 200 and body['idle']
    state = sim.call('GET', '/_sim/state')[2]
    assert state['droplets'] == [] and state['hosts'] == {} and state['vpcs'] == []
    assert state['peerings'] == [] and state['routed'] == []
    assert state['faults']['never_active'] == []
