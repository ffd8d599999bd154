# SPDX-License-Identifier: GPL-3.0-or-later
"""The Cloudflare simulator (tests/world/cf_sim) driven by the real ``cloudflare`` SDK, as the modules drive it, with
the SDK's strict response validation (its models are generated from Cloudflare's OpenAPI schema)."""
import os
import ssl
import sys
import threading

import httpx
import pytest
import requests

import cloudflare
from cloudflare import Cloudflare

WORLD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'world')
if WORLD_DIR not in sys.path:
    sys.path.append(WORLD_DIR)

import cf_sim  # noqa: E402
from cf_sim import model  # noqa: E402


@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    server, state, info = cf_sim.make_server(str(tmp_path_factory.mktemp('cf_sim')), zones=['example.test', 'other.test'],
                                             interval_scale=0.01)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
    thread.start()
    client = Cloudflare(api_token=info['token'], base_url=info['url'], max_retries=0, _strict_response_validation=True,
                        http_client=cloudflare.DefaultHttpxClient(verify=ssl.create_default_context(cafile=info['ca'])))
    yield dict(info, client=client, state=state)
    state.prober.stop()
    client.close()
    server.shutdown()
    server.server_close()


def zone_id(sim, name='example.test'):
    (zone,) = list(sim['client'].zones.list(name=name))
    return zone.id


def writes(sim):
    return requests.get(sim['url'].replace('/client/v4', '/_sim/state'), verify=sim['ca'], timeout=10,
                        headers={'Authorization': 'Bearer ' + sim['token']}).json()['writes']


def test_tokens_and_the_envelope(sim):
    bad = Cloudflare(api_token='nope', base_url=sim['url'], max_retries=0,
                     http_client=cloudflare.DefaultHttpxClient(verify=ssl.create_default_context(cafile=sim['ca'])))
    with pytest.raises(cloudflare.AuthenticationError) as exc:
        list(bad.zones.list())
    assert exc.value.status_code == 401 and exc.value.body['errors'][0]['code'] == 10000
    raw = httpx.get(sim['url'] + '/zones', params={'name': 'example.test'}, verify=ssl.create_default_context(cafile=sim['ca']),
                    headers={'Authorization': 'Bearer ' + sim['token']}).json()
    assert raw['success'] is True and raw['errors'] == [] and raw['messages'] == []
    assert raw['result'][0]['name'] == 'example.test' and len(raw['result'][0]['id']) == 32
    assert raw['result_info'] == {'page': 1, 'per_page': 20, 'count': 1, 'total_count': 1, 'total_pages': 1}


def test_zones_by_name(sim):
    assert [z.name for z in sim['client'].zones.list()] == ['example.test', 'other.test']
    assert list(sim['client'].zones.list(name='nowhere.test')) == []
    zone = sim['client'].zones.get(zone_id=zone_id(sim, 'other.test'))
    assert zone.name == 'other.test' and zone.status == 'active'
    with pytest.raises(cloudflare.NotFoundError):
        sim['client'].zones.get(zone_id='0' * 32)


def test_records_life_cycle_filters_and_paging(sim):
    client, zid = sim['client'], zone_id(sim)
    before = writes(sim)
    made = client.dns.records.create(zone_id=zid, type='A', name='api', content='203.0.113.7', ttl=1,
                                     proxied=True, comment='fleet:u1/myapp/prod')
    assert made.name == 'api.example.test' and made.proxied is True and made.comment == 'fleet:u1/myapp/prod'
    for i in range(7):
        client.dns.records.create(zone_id=zid, type='TXT', name='_acme-challenge.api', content='token-%d' % i, ttl=60)
    assert writes(sim) == before + 8
    # every page, through the SDK's iterator (it stops at the empty page after the last)
    txt = list(client.dns.records.list(zone_id=zid, type='TXT', per_page=3))
    assert sorted(r.content for r in txt) == ['token-%d' % i for i in range(7)]
    assert [r.id for r in client.dns.records.list(zone_id=zid, name={'exact': 'API.example.test'})] == [made.id]
    assert len(list(client.dns.records.list(zone_id=zid, name={'startswith': '_acme'}))) == 7
    assert [r.id for r in client.dns.records.list(zone_id=zid, comment={'startswith': 'fleet:'})] == [made.id]
    assert len(list(client.dns.records.list(zone_id=zid, comment={'absent': 'true'}))) == 7
    assert list(client.dns.records.list(zone_id=zid, content={'exact': '203.0.113.8'})) == []
    # PATCH changes what it names; PUT replaces the record
    patched = client.dns.records.edit(made.id, zone_id=zid, type='A', name='api', content='203.0.113.8', ttl=1)
    assert patched.content == '203.0.113.8' and patched.proxied is True and patched.comment == 'fleet:u1/myapp/prod'
    put = client.dns.records.update(made.id, zone_id=zid, type='A', name='api', content='203.0.113.9', ttl=300)
    assert put.content == '203.0.113.9' and put.proxied is False and put.comment is None and put.ttl == 300
    assert client.dns.records.get(made.id, zone_id=zid).content == '203.0.113.9'
    assert client.dns.records.delete(made.id, zone_id=zid).id == made.id
    with pytest.raises(cloudflare.NotFoundError) as exc:
        client.dns.records.get(made.id, zone_id=zid)
    assert exc.value.body['errors'][0]['code'] == 81044
    for record in txt:
        client.dns.records.delete(record.id, zone_id=zid)
    assert list(client.dns.records.list(zone_id=zid)) == []


@pytest.mark.parametrize('first, second, code', [
    (('A', 'www', '192.0.2.1'), ('A', 'www', '192.0.2.1'), 81058),
    (('TXT', 'www', 'v=1'), ('TXT', 'www', 'v=1'), 81057),
    (('A', 'www', '192.0.2.1'), ('CNAME', 'www', 'elsewhere.test'), 81053),
    (('CNAME', 'www', 'elsewhere.test'), ('AAAA', 'www', '2001:db8::1'), 81053),
])
def test_duplicates_are_refused_with_the_apis_codes(sim, first, second, code):
    client, zid = sim['client'], zone_id(sim)
    kept = client.dns.records.create(zone_id=zid, type=first[0], name=first[1], content=first[2], ttl=1)
    try:
        with pytest.raises(cloudflare.BadRequestError) as exc:
            client.dns.records.create(zone_id=zid, type=second[0], name=second[1], content=second[2], ttl=1)
        assert exc.value.body['errors'][0]['code'] == code and exc.value.body['success'] is False
    finally:
        client.dns.records.delete(kept.id, zone_id=zid)
    # two A records of one name with different addresses are fine (round robin)
    one = client.dns.records.create(zone_id=zid, type='A', name='rr', content='192.0.2.1', ttl=1)
    two = client.dns.records.create(zone_id=zid, type='A', name='rr', content='192.0.2.2', ttl=1)
    for record in (one, two):
        client.dns.records.delete(record.id, zone_id=zid)


@pytest.mark.parametrize('body, code', [
    (dict(type='A', name='x', content='not-an-address', ttl=1), 9005),
    (dict(type='AAAA', name='x', content='192.0.2.1', ttl=1), 9006),
    (dict(type='A', name='x.elsewhere.test.', content='192.0.2.1', ttl=1), None),   # relative: inside the zone
    (dict(type='TXT', name='x', content='t', ttl=1, proxied=True), 9004),
    (dict(type='A', name='x', content='192.0.2.1', ttl=5), 9003),
    (dict(type='A', name='x', content='192.0.2.1', ttl=1, comment='c' * 101), 9101),
])
def test_bad_records_are_refused(sim, body, code):
    client, zid = sim['client'], zone_id(sim)
    if code is None:
        made = client.dns.records.create(zone_id=zid, **body)
        assert made.name == 'x.elsewhere.test.example.test'
        client.dns.records.delete(made.id, zone_id=zid)
        return
    with pytest.raises(cloudflare.BadRequestError) as exc:
        client.dns.records.create(zone_id=zid, **body)
    assert exc.value.body['errors'][0]['code'] == code


def test_model_helpers():
    assert model.full_name('@', 'example.test') == 'example.test'
    assert model.full_name('WWW.Example.Test.', 'example.test') == 'www.example.test'
    items, info = model.page(list(range(5)), {'page': '3', 'per_page': '2'})
    assert items == [4] and info == {'page': 3, 'per_page': 2, 'count': 1, 'total_count': 5, 'total_pages': 3}
    assert model.page(list(range(5)), {'page': '4', 'per_page': '2'})[0] == []
    assert model.string_filters({'name': 'a', 'name.endswith': 'b', 'other': 'c'}, 'name') == [('exact', 'a'), ('endswith', 'b')]


def test_monitors_pools_and_load_balancers(sim):
    client, zid = sim['client'], zone_id(sim)
    account = sim['state'].account['id']
    monitor = client.load_balancers.monitors.create(account_id=account, type='https', method='GET', path='/healthz',
                                                    expected_codes='200', interval=60, timeout=5, retries=2,
                                                    header={'Host': ['api.example.test']}, allow_insecure=True)
    assert monitor.path == '/healthz' and monitor.header == {'Host': ['api.example.test']}
    pools = {}
    for region, address in (('lon1', '203.0.113.7'), ('nyc3', '198.51.100.7')):
        pools[region] = client.load_balancers.pools.create(
            account_id=account, name='u1-myapp-prod-api-%s' % region, monitor=monitor.id,
            origins=[{'name': 'api-%s-1' % region, 'address': address, 'enabled': True, 'weight': 1}])
    assert [p.name for p in client.load_balancers.pools.list(account_id=account)] == [
        'u1-myapp-prod-api-lon1', 'u1-myapp-prod-api-nyc3']
    with pytest.raises(cloudflare.BadRequestError):
        client.load_balancers.pools.create(account_id=account, name='nope', monitor='0' * 32,
                                           origins=[{'name': 'x', 'address': '192.0.2.1'}])
    lb = client.load_balancers.create(zone_id=zid, name='api', default_pools=[pools['lon1'].id, pools['nyc3'].id],
                                      fallback_pool=pools['lon1'].id, steering_policy='geo', proxied=True,
                                      region_pools={'WEU': [pools['lon1'].id], 'ENAM': [pools['nyc3'].id]})
    assert lb.name == 'api.example.test' and lb.steering_policy == 'geo' and lb.region_pools['ENAM'] == [pools['nyc3'].id]
    assert [b.id for b in client.load_balancers.list(zone_id=zid)] == [lb.id]
    # in use: neither the pool nor the monitor can go
    with pytest.raises(cloudflare.BadRequestError):
        client.load_balancers.pools.delete(pools['nyc3'].id, account_id=account)
    with pytest.raises(cloudflare.BadRequestError):
        client.load_balancers.monitors.delete(monitor.id, account_id=account)
    changed = client.load_balancers.edit(lb.id, zone_id=zid, default_pools=[pools['lon1'].id], region_pools={})
    assert changed.default_pools == [pools['lon1'].id] and changed.steering_policy == 'geo'
    edited = client.load_balancers.pools.edit(pools['lon1'].id, account_id=account,
                                              origins=[{'name': 'api-lon1-2', 'address': '203.0.113.8'}])
    assert [o.address for o in edited.origins] == ['203.0.113.8'] and edited.monitor == monitor.id
    assert client.load_balancers.delete(lb.id, zone_id=zid).id == lb.id
    for pool in pools.values():
        client.load_balancers.pools.delete(pool.id, account_id=account)
    client.load_balancers.monitors.delete(monitor.id, account_id=account)
    with pytest.raises(cloudflare.NotFoundError):
        client.load_balancers.monitors.get(monitor.id, account_id=account)


class Origin:
    """A real HTTP origin on loopback whose /healthz answers 200 or 503, counting the probes it got."""

    def __init__(self, address='127.0.0.1', port=0):
        import http.server
        origin = self
        self.status, self.hosts, self.address = 200, [], address

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                origin.hosts.append(self.headers.get('Host'))
                self.send_response(origin.status if self.path in ('/healthz', '/') else 404)
                body = origin.address.encode()
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer((address, port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_until(check, seconds=20):
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_monitors_probe_origins_and_pool_health_follows(sim):
    client, account = sim['client'], sim['state'].account['id']
    origin = Origin()
    try:
        monitor = client.load_balancers.monitors.create(account_id=account, type='http', path='/healthz', port=origin.port,
                                                        interval=60, timeout=2, retries=0, expected_codes='2xx',
                                                        header={'Host': ['api.example.test']})
        pool = client.load_balancers.pools.create(account_id=account, name='probed', monitor=monitor.id,
                                                  origins=[{'name': 'one', 'address': '127.0.0.1'}])

        def healthy():
            health = client.load_balancers.pools.health.get(pool.id, account_id=account)
            return health.pop_health.model_extra['Simulator, XX']['healthy']
        # 60 s x 0.01: a probe every 0.6 s, with the monitor's Host header
        assert wait_until(lambda: len(origin.hosts) >= 2) and origin.hosts[0] == 'api.example.test'
        assert healthy()
        origin.status = 503
        assert wait_until(lambda: not healthy())
        origin.status = 200
        assert wait_until(healthy)
        client.load_balancers.pools.delete(pool.id, account_id=account)
        client.load_balancers.monitors.delete(monitor.id, account_id=account)
    finally:
        origin.close()


def test_expected_codes():
    from cf_sim import prober
    assert prober.expected('2xx', 204) and prober.expected('200 301', 301) and not prober.expected('200', 201)


def test_the_front_steers_by_region_and_fails_over(tmp_path):
    lon, nyc = Origin('127.0.0.2'), Origin('127.0.0.3', 0)
    nyc.close()
    nyc = Origin('127.0.0.3', lon.port)              # the front reaches every origin on one port, as on 443
    server, state, info = cf_sim.make_server(str(tmp_path), zones=['example.test'], interval_scale=0.01, front_port=0,
                                             origin_scheme='http', origin_port=lon.port)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
    client = Cloudflare(api_token=info['token'], base_url=info['url'], max_retries=0, _strict_response_validation=True,
                        http_client=cloudflare.DefaultHttpxClient(verify=ssl.create_default_context(cafile=info['ca'])))
    try:
        account, zid = state.account['id'], list(client.zones.list())[0].id
        monitor = client.load_balancers.monitors.create(account_id=account, type='http', path='/healthz',
                                                        port=lon.port, interval=60, timeout=2, retries=0)
        pools = dict((name, client.load_balancers.pools.create(account_id=account, name=name, monitor=monitor.id,
                                                               origins=[{'name': name, 'address': o.address}]).id)
                     for name, o in (('lon1', lon), ('nyc3', nyc)))
        client.load_balancers.create(zone_id=zid, name='api', default_pools=[pools['lon1'], pools['nyc3']],
                                     fallback_pool=pools['lon1'], steering_policy='geo',
                                     region_pools={'WEU': [pools['lon1']], 'ENAM': [pools['nyc3']]})

        def served(region, n=10):
            headers = {'Host': 'api.example.test', 'X-Sim-Client-Region': region}
            answers = [requests.get(info['front'] + '/', headers=headers, timeout=10, verify=info['ca']) for dummy in range(n)]
            return sorted(set((a.status_code, a.text) for a in answers))
        assert served('WEU') == [(200, '127.0.0.2')] and served('ENAM') == [(200, '127.0.0.3')]
        nyc.status = 503                                # its monitor fails: North America goes to lon1
        assert wait_until(lambda: served('ENAM', 3) == [(200, '127.0.0.2')])
        nyc.status = 200
        assert wait_until(lambda: served('ENAM', 3) == [(200, '127.0.0.3')])
        nyc.close()                                     # gone at once: the first requests are retried elsewhere
        assert served('ENAM', 5) == [(200, '127.0.0.2')] or wait_until(lambda: served('ENAM', 3) == [(200, '127.0.0.2')])
        assert requests.get(info['front'] + '/', headers={'Host': 'nowhere.example.test'}, timeout=10,
                            verify=info['ca']).status_code == 530
        counts = state.snapshot()['front']
        assert counts['%s 127.0.0.2' % pools['lon1']] >= 10 and counts['%s 127.0.0.3' % pools['nyc3']] >= 10
    finally:
        state.prober.stop()
        server.front_server.shutdown()
        server.shutdown()
        server.server_close()
        lon.close()
