# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A web service on three droplets of the DigitalOcean simulator, deployed with the health agent and alert mails:
the world of tests/integration/test_heal.py and bench/heal.

``web_on_droplets(cloud, sink, tmp)`` provisions and deploys it (asserting each run) and returns a ``CloudWeb``:
the playbook arguments (``run``, ``env``), the droplets as the simulator lists them, each server's last verdict,
and GET through an edge. ``cloud`` comes from ``do_cloud.start(..., images=[NGINX])`` started inside
``health_world.open_ports(sink.port)``. With ``cache=True`` a redis service ``cache`` (``heal:
restore_latest_backup``) runs on a droplet of its own (the simulator then needs ``REDIS`` too);
``dead_after`` sets ``fleet_health_dead_after_misses``. With ``cloudflare`` (the Cloudflare simulator's info, its
zone ``example.test``) the web service's domain is in that zone and the run is a one-zone multi-zone run
(``fleet_zones: [lon1]``): every deploy, heal.yml's too, keeps its load balancer's lon1 pool on the web servers.
"""

from __future__ import annotations

import http.client
import json
import random
import shlex
import string
import sys
import threading

import yaml

import do_cloud
from health_world import GATEWAY, NGINX
from helpers import run_playbook
from sim_hosts import SimHost

REDIS = 'fleet-world/redis:7'
REDIS_CLI = ('export REDISCLI_AUTH="$(sed -n "s/^requirepass //p" /run/secrets/redis.conf)"; '
             'exec redis-cli --no-auth-warning "$@"')
MONITOR_ROUND = "sh -c \"$(sed -n 's/^\\([^ ]* \\)\\{5\\}root //p' /etc/cron.d/fleet-health-monitor)\""


class CloudWeb(object):
    def __init__(self, cloud, user, tmp, domain=None):
        self.cloud, self.user, self.tmp = cloud, user, tmp
        self.domain = domain or 'web.%s.localhost' % user
        self.controller = tmp / 'ctl'
        self.key = self.controller / user / '.ssh' / 'fleet_ed25519'
        self.env = {'ANSIBLE_HOST_KEY_CHECKING': 'False'}
        self.run = []

    def playbook(self, name, timeout=1500):
        return run_playbook('playbooks/%s' % name, *self.run, env=self.env, timeout=timeout)

    def droplets(self):
        return sorted((d for d in do_cloud.sim_state(self.cloud)['droplets'] if d['name'].startswith(self.user + '-')),
                      key=lambda d: d['name'])

    def host(self, droplet):
        return SimHost(droplet['host'], droplet['public_ip'], str(self.key))

    def monitor_round(self, droplets):
        """One monitor round now on each of ``droplets`` at once (the command its cron line runs each minute)."""
        threads = [threading.Thread(target=self.host(d).ssh, args=(MONITOR_ROUND,), kwargs={'timeout': 120})
                   for d in droplets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)

    def redis(self, droplet, *args):
        """redis-cli on the ``cache`` service of ``droplet``, its answer's text."""
        return self.host(droplet).ssh(
            'c=$(docker ps -q --filter label=fleet.user=%s --filter label=fleet.service=cache | head -n 1); '
            'docker exec "$c" sh -c %s redis-cli %s' % (self.user, shlex.quote(REDIS_CLI),
                                                        ' '.join(shlex.quote(a) for a in args)),
            timeout=60, check=True).stdout.strip()

    def verdict(self, droplet):
        """The last verdict of the monitor on ``droplet`` ({} before its first round)."""
        out = self.host(droplet).ssh(
            'cat /local/%s/site/prod/monitoring/health/status.json' % self.user, timeout=30).stdout
        return (json.loads(out).get('verdict') or {}) if out.strip() else {}

    def answer(self, address):
        """The HTTP status of GET / through the edge at ``address`` (0 when it does not answer)."""
        conn = http.client.HTTPConnection(address, 80, timeout=5)
        try:
            conn.request('GET', '/', headers={'Host': self.domain})
            return conn.getresponse().status
        except OSError:
            return 0
        finally:
            conn.close()


def web_on_droplets(cloud, sink, tmp, servers=3, cache=False, dead_after=None, cloudflare=None):
    user = 'r' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    world = CloudWeb(cloud, user, tmp, domain='web-%s.example.test' % user if cloudflare else None)
    spec_path = tmp / 'spec.yml'
    services = {'web': {'image': NGINX, 'ports': [80], 'health_path': '/', 'domain': world.domain,
                        'servers_count': servers, 'server_zone': 'lon1'}}
    if cache:
        services['cache'] = {'type': 'redis', 'version': '7', 'server_zone': 'lon1', 'heal': 'restore_latest_backup'}
    spec_path.write_text(yaml.safe_dump({
        'fleet_user': user, 'fleet_project': 'site', 'fleet_version': '1', 'docker_hub_user': '',
        'services': services}))
    world.spec = spec_path
    common = ['-e', '@%s' % spec_path, '-e', 'fleet_env=prod', '-e', 'fleet_controller_root=%s' % world.controller,
              '-e', 'fleet_do_endpoint=%s' % cloud['url'], '-e', 'fleet_do_ca_bundle=%s' % cloud['ca'],
              '-e', json.dumps({'fleet_do_token': cloud['token'], 'fleet_controller_addresses': ['10.250.0.1/32'],
                                'fleet_health_overrides': {'interval': 1, 'retries': 60},
                                'fleet_health_grace_seconds': 0,
                                'fleet_health_dead_after_misses': dead_after or 3,
                                'fleet_alert_email': 'ops@example.test', 'fleet_alert_smtp_host': GATEWAY,
                                'fleet_alert_smtp_port': sink.port, 'fleet_alert_smtp_starttls': False,
                                'fleet_alert_group_seconds': 3})]
    if cloudflare:
        common += ['-e', json.dumps({'fleet_zones': ['lon1'], 'fleet_cloudflare_api_token': cloudflare['token'],
                                     'fleet_cloudflare_endpoint': cloudflare['url'],
                                     'fleet_cloudflare_ca_bundle': cloudflare['ca']})]
    proc = run_playbook('playbooks/provision.yml', *common, '-e', 'fleet_droplet_python=%s' % sys.executable,
                        env=world.env, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    inventory = tmp / 'cloud.droplets.yml'
    inventory.write_text(yaml.safe_dump({'plugin': 'projectdeployer.fleet.droplets', 'api_endpoint': cloud['url'],
                                         'ca_bundle': cloud['ca'], 'api_token': cloud['token'], 'user': user,
                                         'cache': False}))  # heal.yml must see the droplets as they are now
    world.run = ['-i', str(inventory), '-e', 'fleet_hosts=fleet_%s_site_prod' % user, '-e', '@tests/world/images.yml',
                 '-e', 'ansible_user=root', '-e', 'ansible_ssh_private_key_file=%s' % world.key,
                 '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', 'fleet_drain_seconds=1'] + common
    proc = world.playbook('deploy.yml', timeout=1200)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
    return world
