# SPDX-License-Identifier: GPL-3.0-or-later
"""One service in two zones behind the Cloudflare simulator's load balancer (issue 17).

The world: the DigitalOcean simulator (real hosts for droplets, VPCs of lon1 and nyc3 peered), the Cloudflare
simulator (tests/world/cf_sim, in this process: the API the real SDK drives, monitors that probe the edges over
HTTPS, the front that plays Cloudflare's edge and counts requests at origins, TXT records published to pebble's
DNS server), pebble for the certificate. The tests run in order on that world:

1. provision.yml and deploy.yml with ``fleet_zones: [lon1, nyc3]``: two droplets per zone, one certificate by
   DNS-01 (one order, the TXT record gone afterwards, the same certificate on all four edges), a load balancer
   with a pool per zone, geo steering and a fallback pool; European clients land in lon1, North-American ones in
   nyc3; a second identical run changes nothing and makes no write to the Cloudflare API;
2. failover: nyc3's droplets powered off under a steady stream of North-American clients; the monitors take
   nyc3's pool out and the front sends them to lon1, nothing fails after that point; powered on, traffic returns;
3. scale.yml with ``fleet_zones: [lon1]`` under load: nyc3's pool leaves the load balancer before its droplets
   are destroyed, no request fails.
"""

from __future__ import annotations

import json
import random
import re
import socket
import ssl
import string
import sys
import threading
import time

import pytest
import requests
import yaml

import do_cloud
from acme_ca import AcmeCA
from helpers import REPO, changed_tasks, free_port, recap_changed, run_playbook

sys.path.insert(0, '%s/tests/world' % REPO)
import cf_sim  # noqa: E402  pylint: disable=wrong-import-position
from cf_sim.front import REGION_HEADER  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.usefixtures('world')

NGINX = 'fleet-world/nginx:1.22'
ZONE = 'example.test'
SCALE = 0.05                        # a 60 s monitor probes every 3 s
MONITOR = {'timeout': 2, 'retries': 1}
INTERVAL = 60 * SCALE


class MultiZone(object):
    def __init__(self, tmp):
        self.tmp = tmp
        self.user = 'm' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
        self.domain = 'api-%s.%s' % (self.user, ZONE)
        self.controller = tmp / 'ctl'
        self.key = self.controller / self.user / '.ssh' / 'fleet_ed25519'
        self.env = {'ANSIBLE_HOST_KEY_CHECKING': 'False'}

    def start(self):
        self.acme = AcmeCA(self.tmp / 'acme', http_port=free_port()).start()
        self.cloud = do_cloud.start(str(self.tmp / 'do'), images=[NGINX])
        self.cf_server, self.cf, self.cf_info = cf_sim.make_server(
            str(self.tmp / 'cf'), zones=[ZONE], interval_scale=SCALE, front_port=0, origin_scheme='https',
            authoritative='http://127.0.0.1:%d' % self.acme.dns_management_port, trust=self.acme.roots())
        threading.Thread(target=self.cf_server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
        self.spec = self.tmp / 'spec.yml'
        self.spec.write_text(yaml.safe_dump({
            'fleet_user': self.user, 'fleet_project': 'site', 'fleet_version': '1', 'docker_hub_user': '',
            'services': {'api': {'image': NGINX, 'ports': [80], 'health_path': '/', 'domain': self.domain,
                                 'ssl_mode': 'letsencrypt', 'servers_count': 2, 'server_zone': 'lon1'}}}))
        self.common = [
            '-e', '@%s' % self.spec, '-e', 'fleet_env=prod', '-e', 'fleet_controller_root=%s' % self.controller,
            '-e', 'fleet_do_endpoint=%s' % self.cloud['url'], '-e', 'fleet_do_ca_bundle=%s' % self.cloud['ca'],
            '-e', json.dumps({
                'fleet_do_token': self.cloud['token'], 'fleet_controller_addresses': ['10.250.0.1/32'],
                'fleet_cloudflare_api_token': self.cf_info['token'], 'fleet_cloudflare_endpoint': self.cf_info['url'],
                'fleet_cloudflare_ca_bundle': self.cf_info['ca'], 'fleet_lb_monitor': MONITOR,
                'fleet_acme_directory': self.acme.directory, 'fleet_acme_ca_bundle': self.acme.ca_bundle,
                'fleet_acme_dns_servers': ['127.0.0.1:%d' % self.acme.dns_port], 'fleet_acme_dns_wait': 60,
                'fleet_health_grace_seconds': 0, 'fleet_drain_seconds': 1})]
        inventory = self.tmp / 'cloud.droplets.yml'
        inventory.write_text(yaml.safe_dump({
            'plugin': 'projectdeployer.fleet.droplets', 'api_endpoint': self.cloud['url'], 'ca_bundle': self.cloud['ca'],
            'api_token': self.cloud['token'], 'user': self.user, 'cache': False}))
        self.run = ['-i', str(inventory), '-e', 'fleet_hosts=fleet_%s_site_prod' % self.user,
                    '-e', '@tests/world/images.yml', '-e', 'ansible_user=root',
                    '-e', 'ansible_ssh_private_key_file=%s' % self.key,
                    '-e', 'ansible_python_interpreter=%s' % sys.executable] + self.common
        return self

    def stop(self):
        self.cf_server.shutdown()
        self.cf_server.server_close()
        self.cf.prober.stop()
        do_cloud.stop(self.cloud)
        self.acme.stop()

    def playbook(self, name, *extra, timeout=1200, ok=True):
        proc = run_playbook('playbooks/%s' % name, *(self.run + list(extra)), env=self.env, timeout=timeout)
        if ok:
            assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
        return proc

    def refused(self, *extra):
        """deploy.yml with bad input: its one error line, after checking that nothing changed anywhere."""
        writes = self.cf.snapshot()['writes']
        proc = self.playbook('deploy.yml', *extra, ok=False, timeout=300)
        assert proc.returncode != 0 and recap_changed(proc.stdout) == 0, proc.stdout[-4000:]
        assert self.cf.snapshot()['writes'] == writes
        return ' '.join(proc.stdout.split()).replace("''", "'")     # the YAML callback folds and quotes messages

    # -- what the simulators say
    def droplets(self, zone=None):
        found = [d for d in do_cloud.sim_state(self.cloud)['droplets'] if d['name'].startswith(self.user + '-')]
        return sorted((d for d in found if zone is None or d['region'] == zone), key=lambda d: d['name'])

    def balancer(self):
        found = [b for b in self.cf.snapshot()['load_balancers'] if b['name'] == self.domain]
        return found[0] if found else None

    def pools(self):
        """{region slug: pool} of the service's pools (named {user}-site-prod-api-{region})."""
        prefix = '%s-site-prod-api-' % self.user
        return dict((p['name'][len(prefix):], p) for p in self.cf.snapshot()['pools'] if p['name'].startswith(prefix))

    def healthy(self, region):
        pool = self.pools().get(region)
        return bool(pool) and self.cf.prober.pool_healthy(pool)

    def counts(self):
        """Requests the front sent to each zone so far."""
        zone_of = dict((d['public_ip'], d['region']) for d in self.droplets())
        out = {}
        for key, n in self.cf.snapshot()['front'].items():
            zone = zone_of.get(key.split()[1], 'gone')
            out[zone] = out.get(zone, 0) + n
        return out

    def get(self, region, timeout=10):
        """GET / through the front as a client of ``region``: the status (0 when it fails)."""
        try:
            return requests.get(self.cf_info['front'] + '/', verify=self.cf_info['ca'], timeout=timeout,
                                headers={'Host': self.domain, REGION_HEADER: region}).status_code
        except requests.RequestException:
            return 0

    def power(self, droplets, action):
        for droplet in droplets:
            do_cloud.droplet_action(self.cloud, droplet['id'], action)


def wait_for(what, condition, timeout, step=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError('%s: not within %d s' % (what, timeout))


def served_certificate(address, name, cafile):
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((address, 443), timeout=15) as sock:
        with context.wrap_socket(sock, server_hostname=name) as tls:
            return tls.getpeercert(binary_form=True)


class FrontLoad(object):
    """Clients of ``region`` through the front, ``rate`` a second: (monotonic time, status) of each request."""

    def __init__(self, world, region, rate=10):
        self.world, self.region, self.interval = world, region, 1.0 / rate
        self.results = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        deadline = time.monotonic() + 900
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            self.results.append((started, self.world.get(self.region)))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)

    def failed_after(self, moment):
        return [r for r in self.results if r[0] >= moment and r[1] != 200]


@pytest.fixture(scope='module')
def mz(tmp_path_factory):
    world = MultiZone(tmp_path_factory.mktemp('multizone')).start()
    yield world
    world.stop()


def test_two_zones_one_certificate_geo_steering_and_a_quiet_second_run(mz):
    mz.playbook('provision.yml', '-e', '{"fleet_zones": ["lon1", "nyc3"]}',
                '-e', 'fleet_droplet_python=%s' % sys.executable, timeout=900)
    assert [d['region'] for d in mz.droplets()] == ['lon1', 'lon1', 'nyc3', 'nyc3']

    # bad input: one line with the fix, before any server or Cloudflare object changes
    zones = '{"fleet_zones": ["lon1", "nyc3"]}'
    said = mz.refused('-e', '{"fleet_zones": ["lon1", "nyc4"]}')
    assert "fleet_zones: 'nyc4' is not a DigitalOcean zone of the fleet; fix: did you mean 'nyc3'?" in said, said
    said = mz.refused('-e', zones, '-e', 'fleet_cloudflare_api_token=')
    assert ('needs a Cloudflare load balancer, but no Cloudflare API token is set; fix: export CLOUDFLARE_API_TOKEN'
            in said), said
    said = mz.refused('-e', zones, '-e', json.dumps({'services': {'api': {
        'image': NGINX, 'ports': [80], 'domain': 'api.nowhere.test', 'servers_count': 2, 'server_zone': 'lon1'}}}))
    assert 'Cloudflare: api.nowhere.test is in no zone of this account; fix:' in said, said[-3000:]

    mz.playbook('deploy.yml', '-e', zones)

    # one certificate by DNS-01: one order, its TXT record gone, the same certificate on all four edges
    assert mz.acme.orders() == 1
    assert [r for r in mz.cf.snapshot()['records'] if r['type'] == 'TXT'] == []
    roots = mz.acme.roots()
    served = set(served_certificate(d['public_ip'], mz.domain, roots) for d in mz.droplets())
    assert len(served) == 1

    # a pool per zone with its two servers, geo steering, lon1 the fallback
    pools, lb = mz.pools(), mz.balancer()
    assert sorted(pools) == ['lon1', 'nyc3']
    for zone, pool in pools.items():
        assert sorted(o['address'] for o in pool['origins']) == sorted(d['public_ip'] for d in mz.droplets(zone))
    assert lb['steering_policy'] == 'geo' and lb['fallback_pool'] == pools['lon1']['id']
    assert lb['default_pools'] == [pools['lon1']['id'], pools['nyc3']['id']]
    assert lb['region_pools'] == {'WEU': [pools['lon1']['id']], 'ENAM': [pools['nyc3']['id']]}

    # the monitors see both zones healthy; Europeans land in lon1, North Americans in nyc3
    wait_for('both pools healthy', lambda: mz.healthy('lon1') and mz.healthy('nyc3'), 60)
    before = mz.counts()
    assert [mz.get('WEU') for dummy in range(20)] == [200] * 20
    after_eu = mz.counts()
    assert [mz.get('ENAM') for dummy in range(20)] == [200] * 20
    after_na = mz.counts()
    assert after_eu.get('lon1', 0) - before.get('lon1', 0) == 20 and after_eu.get('nyc3', 0) == before.get('nyc3', 0)
    assert after_na.get('nyc3', 0) - after_eu.get('nyc3', 0) == 20 and after_na.get('lon1', 0) == after_eu['lon1']

    # a second identical run: nothing changed, no write to the Cloudflare API; multizone.yml alone neither
    writes = mz.cf.snapshot()['writes']
    proc = mz.playbook('deploy.yml', '-e', zones)
    assert recap_changed(proc.stdout) == 0, changed_tasks(proc.stdout)
    proc = mz.playbook('multizone.yml')
    assert recap_changed(proc.stdout) == 0, changed_tasks(proc.stdout)
    assert mz.cf.snapshot()['writes'] == writes

    # status.yml: each pool healthy, with its servers
    status = mz.playbook('status.yml').stdout
    for zone in ('lon1', 'nyc3'):
        addresses = r'\s+'.join(r'%s healthy,?' % re.escape(d['public_ip']) for d in mz.droplets(zone))
        assert re.search(r'%s-site-prod-api-%s\s+healthy\s+%s%s' % (mz.user, zone, 'yes\\s+' if zone == 'lon1' else '',
                                                                      addresses), status), status[-3000:]


def test_failover_to_lon1_and_back(mz):
    nyc3 = mz.droplets('nyc3')
    with FrontLoad(mz, 'ENAM') as load:
        time.sleep(2)
        start, before = time.monotonic(), mz.counts()
        mz.power(nyc3, 'power_off')
        wait_for('North Americans served by lon1', lambda: mz.counts().get('lon1', 0) > before.get('lon1', 0), 120,
                 step=0.1)
        failover = time.monotonic() - start
        moment = time.monotonic()
        time.sleep(3)
        back_start, during = time.monotonic(), mz.counts()
        mz.power(nyc3, 'power_on')
        wait_for('North Americans back in nyc3', lambda: mz.counts().get('nyc3', 0) > during.get('nyc3', 0), 240,
                 step=0.2)
        back = time.monotonic() - back_start
        time.sleep(2)
    print('\nfailover to lon1 %.1f s (monitor interval %.1f s, timeout %d s, retries %d), back to nyc3 %.1f s after '
          'power on; %d requests, %d failed before the failover' % (
              failover, INTERVAL, MONITOR['timeout'], MONITOR['retries'], back, len(load.results),
              len([r for r in load.results if r[0] < moment and r[1] != 200])))
    assert load.failed_after(moment) == []
    # within two monitor intervals, and the probes that found nyc3 gone
    assert failover <= 2 * INTERVAL + MONITOR['timeout'] * (MONITOR['retries'] + 1) + 2


def test_a_zone_removed_is_drained_before_its_servers_go(mz):
    wait_for('nyc3 healthy again', lambda: mz.healthy('nyc3'), 120)
    nyc3 = set(d['public_ip'] for d in mz.droplets('nyc3'))
    with FrontLoad(mz, 'ENAM') as load, FrontLoad(mz, 'WEU', rate=5) as europe:
        time.sleep(1)
        start = time.monotonic()
        mz.playbook('scale.yml', '-e', '{"fleet_zones": ["lon1"]}', timeout=1500)
    assert load.failed_after(start) == [] and europe.failed_after(start) == []
    assert [d['region'] for d in mz.droplets()] == ['lon1', 'lon1']
    pools, lb = mz.pools(), mz.balancer()
    assert sorted(pools) == ['lon1']
    assert lb['default_pools'] == [pools['lon1']['id']] and lb['region_pools'] == {'WEU': [pools['lon1']['id']]}
    served_by_nyc3 = sum(n for key, n in mz.cf.snapshot()['front'].items() if key.split()[1] in nyc3)
    assert served_by_nyc3 > 0 and len(load.results) > 0
