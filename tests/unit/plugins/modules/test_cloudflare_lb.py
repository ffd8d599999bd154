# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.cloudflare_lb through the real cloudflare SDK against the Cloudflare simulator (in this
process) with its prober and front: pools per region, geo steering counted at real loopback origins, a re-run
that writes nothing, a region leaving (load balancer first, then its pool), removal, bad input."""
import http.server
import os
import sys
import threading
import time

import pytest
import requests
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.projectdeployer.fleet.plugins.modules import cloudflare_lb as mod
from ansible_collections.projectdeployer.fleet.plugins.modules import cloudflare_lb_info as info_mod

WORLD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                         'world')
if WORLD_DIR not in sys.path:
    sys.path.append(WORLD_DIR)

import cf_sim  # noqa: E402


class Exit(Exception):
    pass


class Origin(object):
    """An edge stand-in on a loopback address: /healthz and / answer with the address."""

    def __init__(self, address, port):
        origin = self
        self.address, self.status = address, 200

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = origin.address.encode()
                self.send_response(origin.status)
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


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    lon = Origin('127.0.0.2', 0)
    nyc = Origin('127.0.0.3', lon.port)
    server, state, info = cf_sim.make_server(str(tmp_path_factory.mktemp('cf_sim')), zones=['example.test'],
                                             interval_scale=0.01, front_port=0, origin_scheme='http',
                                             origin_port=lon.port)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
    yield dict(info, state=state, lon=lon, nyc=nyc)
    state.prober.stop()
    server.front_server.shutdown()
    server.shutdown()
    server.server_close()
    lon.close()
    nyc.close()


def run(monkeypatch, world, check=False, **args):
    def done(self, **result):
        raise Exit(result)

    def failed(self, msg, **result):
        raise Exit(dict(result, msg=msg, failed=True))
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', done)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', failed)
    base = dict(owner='u1/myapp/prod', service='api', hostname='api.example.test', cloudflare_api_token=world['token'],
                cloudflare_endpoint=world['url'], cloudflare_ca_bundle=world['ca'], cloudflare_max_retries=0,
                monitor={'type': 'http', 'port': world['lon'].port, 'interval': 60}, _ansible_check_mode=check)
    with patch_module_args(dict(base, **args)):
        with pytest.raises(Exit) as answer:
            mod.main()
    return answer.value.args[0]


def run_info(monkeypatch, world, hostnames):
    def done(self, **result):
        raise Exit(result)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', done)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', lambda self, msg, **r: done(self, msg=msg, failed=True, **r))
    with patch_module_args(dict(hostnames=hostnames, cloudflare_api_token=world['token'], cloudflare_endpoint=world['url'],
                                cloudflare_ca_bundle=world['ca'], cloudflare_max_retries=0)):
        with pytest.raises(Exit) as answer:
            info_mod.main()
    return answer.value.args[0]


def served(world, region, n=6):
    return sorted(set(requests.get(world['front'] + '/', timeout=10, verify=world['ca'], headers={
        'Host': 'api.example.test', 'X-Sim-Client-Region': region}).text for dummy in range(n)))


def wait_until(check, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


REGIONS = {'lon1': ['127.0.0.2'], 'nyc3': ['127.0.0.3']}


def test_two_regions_steered_by_geography_and_a_rerun_writes_nothing(monkeypatch, world):
    checked = run(monkeypatch, world, check=True, regions=REGIONS)
    assert checked['changed'] and world['state'].snapshot()['writes'] == 0
    made = run(monkeypatch, world, regions=REGIONS)
    assert made['writes'] == ['create monitor for api.example.test', 'create pool u1-myapp-prod-api-lon1',
                              'create pool u1-myapp-prod-api-nyc3', 'create load balancer api.example.test']
    lb = made['load_balancer']
    assert lb['region_pools'] == {'WEU': [made['pools']['lon1']['id']], 'ENAM': [made['pools']['nyc3']['id']]}
    assert lb['fallback_pool'] == made['pools']['lon1']['id'] and lb['steering_policy'] == 'geo'
    assert wait_until(lambda: served(world, 'WEU') == ['127.0.0.2'] and served(world, 'ENAM') == ['127.0.0.3'])
    writes = world['state'].snapshot()['writes']
    again = run(monkeypatch, world, regions=REGIONS)
    assert not again['changed'] and again['writes'] == [] and world['state'].snapshot()['writes'] == writes
    # nyc3's edge fails its check: North America is served from lon1, then back
    world['nyc'].status = 503
    assert wait_until(lambda: served(world, 'ENAM', 3) == ['127.0.0.2'])
    # what status.yml shows: the pools in order, nyc3's origin down with the monitor's reason
    info = run_info(monkeypatch, world, ['api.example.test', 'nothing.example.test'])
    assert not info['changed'] and [lb['hostname'] for lb in info['load_balancers']] == ['api.example.test']
    pools = info['load_balancers'][0]['pools']
    assert [(p['name'], p['healthy']) for p in pools] == [('u1-myapp-prod-api-lon1', True),
                                                          ('u1-myapp-prod-api-nyc3', False)]
    assert pools[1]['origins'][0]['address'] == '127.0.0.3' and pools[1]['origins'][0]['healthy'] is False
    assert 'expected_codes' in pools[1]['origins'][0]['reason']
    assert info['load_balancers'][0]['fallback_pool'] == 'u1-myapp-prod-api-lon1'
    assert info['table'][0].split() == ['hostname', 'pool', 'pool', 'health', 'fallback', 'origins']
    assert info['table'][2].split()[:4] == ['api.example.test', 'u1-myapp-prod-api-lon1', 'healthy', 'yes']
    assert info['table'][3].split()[:3] == ['u1-myapp-prod-api-nyc3', 'DOWN', '127.0.0.3']
    world['nyc'].status = 200
    assert wait_until(lambda: served(world, 'ENAM', 3) == ['127.0.0.3'])
    # the monitor's own timeout (the SDK calls it load_balancer_monitor_timeout) is set, and kept on a re-run
    monitor = dict(type='http', port=world['lon'].port, interval=60, timeout=2, retries=1)
    changed = run(monkeypatch, world, regions=REGIONS, monitor=monitor)
    assert changed['writes'] == ['update monitor for api.example.test']
    stored = [m for m in world['state'].snapshot()['monitors'] if m['header'].get('Host') == ['api.example.test']]
    assert [(m['timeout'], m['retries']) for m in stored] == [(2, 1)]
    assert run(monkeypatch, world, regions=REGIONS, monitor=monitor)['writes'] == []
    assert run(monkeypatch, world, regions=REGIONS)['writes'] == ['update monitor for api.example.test']


def test_a_region_leaves_load_balancer_first_then_its_pool_then_all_goes(monkeypatch, world):
    left = run(monkeypatch, world, regions={'lon1': ['127.0.0.2']})
    assert left['writes'] == ['update load balancer api.example.test', 'delete pool u1-myapp-prod-api-nyc3']
    assert served(world, 'ENAM') == ['127.0.0.2']
    gone = run(monkeypatch, world, state='absent')
    assert gone['writes'] == ['delete load balancer api.example.test', 'delete pool u1-myapp-prod-api-lon1',
                              'delete monitor for api.example.test']
    snapshot = world['state'].snapshot()
    assert snapshot['load_balancers'] == [] and snapshot['pools'] == [] and snapshot['monitors'] == []
    assert requests.get(world['front'] + '/', headers={'Host': 'api.example.test'}, timeout=10,
                        verify=world['ca']).status_code == 530


def test_bad_input_is_one_line_with_the_fix(monkeypatch, world):
    out = run(monkeypatch, world, regions={'mars1': ['127.0.0.2']})
    assert out['failed'] and out['msg'].startswith("zone 'mars1' is not a DigitalOcean region the collection knows; fix:")
    out = run(monkeypatch, world, regions=REGIONS, fallback_region='sgp1')
    assert out['failed'] and 'fallback_region: sgp1 is not one of the regions' in out['msg']
    out = run(monkeypatch, world, regions=REGIONS, hostname='api.nowhere.test')
    assert out['failed'] and 'is in no zone of this account; fix:' in out['msg']
