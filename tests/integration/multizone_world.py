# SPDX-License-Identifier: GPL-3.0-or-later
"""One service in several zones behind the Cloudflare simulator's load balancer: the world of
tests/integration/test_multizone.py and bench/multizone.

``MultiZone(tmp).start()`` starts pebble (its DNS server is the zone's authoritative one), the DigitalOcean
simulator (real hosts for droplets) and the Cloudflare simulator in this process (its monitors trust pebble's
root, its front plays Cloudflare's edge); the spec has one web service ``api`` (``servers_count`` per zone, a
domain in the zone ``example.test``, a certificate from pebble). ``playbook(name, ...)`` runs a playbook over the
droplets inventory with every setting; the rest reads the simulators. ``stop()`` takes it all down.
"""

from __future__ import annotations

import json
import random
import string
import sys
import threading
import time

import requests
import yaml

import do_cloud
from acme_ca import AcmeCA
from helpers import REPO, recap_changed, run_playbook

sys.path.insert(0, '%s/tests/world' % REPO)
import cf_sim  # noqa: E402  pylint: disable=wrong-import-position
from cf_sim.front import REGION_HEADER  # noqa: E402  pylint: disable=wrong-import-position

NGINX = 'fleet-world/nginx:1.22'
ZONE = 'example.test'
SCALE = 0.05                        # a 60 s monitor probes every 3 s
MONITOR = {'timeout': 2, 'retries': 1}
INTERVAL = 60 * SCALE


class MultiZone(object):
    def __init__(self, tmp, servers=2):
        self.tmp, self.servers = tmp, servers
        self.user = 'm' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
        self.domain = 'api-%s.%s' % (self.user, ZONE)
        self.controller = tmp / 'ctl'
        self.key = self.controller / self.user / '.ssh' / 'fleet_ed25519'
        # (task timestamps, to tell when something happened during a run)
        self.env = {'ANSIBLE_HOST_KEY_CHECKING': 'False', 'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks'}

    def start(self):
        # HTTP-01 goes to port 80 of the addresses the zone's DNS-only records name (published by the simulator)
        self.acme = AcmeCA(self.tmp / 'acme', http_port=80).start()
        self.cloud = do_cloud.start(str(self.tmp / 'do'), images=[NGINX])
        self.cf_server, self.cf, self.cf_info = cf_sim.make_server(
            str(self.tmp / 'cf'), zones=[ZONE], interval_scale=SCALE, front_port=0, origin_scheme='https',
            authoritative='http://127.0.0.1:%d' % self.acme.dns_management_port, trust=self.acme.roots())
        threading.Thread(target=self.cf_server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
        self.spec = self.tmp / 'spec.yml'
        self.spec.write_text(yaml.safe_dump({
            'fleet_user': self.user, 'fleet_project': 'site', 'fleet_version': '1', 'docker_hub_user': '',
            'services': {'api': {'image': NGINX, 'ports': [80], 'health_path': '/', 'domain': self.domain,
                                 'ssl_mode': 'letsencrypt', 'servers_count': self.servers, 'server_zone': 'lon1'}}}))
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
        """GET / through the front as a client of ``region``: the status, or what went wrong (a string)."""
        try:
            return requests.get(self.cf_info['front'] + '/', verify=self.cf_info['ca'], timeout=timeout,
                                headers={'Host': self.domain, REGION_HEADER: region}).status_code
        except requests.RequestException as exc:
            return '%s: %s' % (type(exc).__name__, str(exc)[-160:])

    def power(self, droplets, action):
        for droplet in droplets:
            do_cloud.wait_actions(self.cloud, droplet['id'])   # a power-off still under way on a loaded machine
            do_cloud.droplet_action(self.cloud, droplet['id'], action)


def wait_for(what, condition, timeout, step=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError('%s: not within %d s' % (what, timeout))


class FrontLoad(object):
    """Clients of ``region`` through the front, a new request every 1/``rate`` s whether the others answered or not
    (at most ``clients`` at once), as many independent clients send them: (monotonic start, status) of each. A
    request stuck on an origin that went away does not hold the next ones back, so a switch is seen when it happens.
    """

    def __init__(self, world, region, rate=10, clients=40):
        self.world, self.region, self.interval = world, region, 1.0 / rate
        self.results = []
        self._stop = threading.Event()
        self._slots = threading.Semaphore(clients)
        self._threads = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, started):
        try:
            self.results.append((started, self.world.get(self.region)))
        finally:
            self._slots.release()

    def _run(self):
        deadline = time.monotonic() + 900
        next_at = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < deadline:
            if self._slots.acquire(timeout=15):
                thread = threading.Thread(target=self._one, args=(time.monotonic(),), daemon=True)
                thread.start()
                self._threads.append(thread)
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(30)
        for thread in self._threads:
            thread.join(15)

    def failed_after(self, moment):
        return [r for r in self.results if r[0] >= moment and r[1] != 200]

    def summary(self, moment):
        """The failures after ``moment``: how many, when (seconds after it), the first reasons."""
        failed = self.failed_after(moment)
        if not failed:
            return 'none failed of %d' % len(self.results)
        return '%d failed of %d, from %.1f s to %.1f s after the start: %s' % (
            len(failed), len(self.results), failed[0][0] - moment, failed[-1][0] - moment,
            sorted(set(str(r[1]) for r in failed))[:4])


def failover(world, zone='nyc3', region='ENAM', settle=3):
    """Power ``zone``'s droplets off under steady load of ``region``'s clients through the front, wait until another
    zone serves them, then power them on and wait until ``zone`` serves them again. Seconds from the power-off
    (which shuts the servers down gracefully: they answer meanwhile) and from the first request that failed (the
    outage the monitors must notice) to the switch, and from the power-on to the return; the requests."""
    droplets = world.droplets(zone)
    with FrontLoad(world, region) as load:
        time.sleep(2)
        before, start = world.counts(), time.monotonic()
        world.power(droplets, 'power_off')
        wait_for('%s clients served by another zone' % region,
                 lambda: sum(n for z, n in world.counts().items() if z != zone)
                 > sum(n for z, n in before.items() if z != zone), 300, step=0.1)
        switch = time.monotonic()
        time.sleep(settle)
        during, back_start = world.counts(), time.monotonic()
        world.power(droplets, 'power_on')
        wait_for('%s clients served from %s again' % (region, zone),
                 lambda: world.counts().get(zone, 0) > during.get(zone, 0), 300, step=0.2)
        back = time.monotonic() - back_start
        time.sleep(1)
    failed = [r for r in load.results if start <= r[0] < switch and r[1] != 200]
    outage = failed[0][0] if failed else switch
    return {'from_power_off': switch - start, 'from_outage': switch - outage, 'back': back,
            'failed_before': len(failed), 'failed_after': len(load.failed_after(switch)),
            'requests': len(load.results)}
