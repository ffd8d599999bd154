# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""One name served from two servers gets one certificate (issue 15): exactly one ACME order, the same serial on
both edges, and the CA's validation succeeds whichever server it reaches. In the same deploy a name whose DNS
points elsewhere: one block with the CA's error and the fix, everything deployed, the run failed at its end.

Two simulated hosts (tests/world/host.sh: own network namespace, dockerd and sshd) run one web service (the
nginx stand-in) behind their edges on port 80/443 of their own addresses. A real pebble validates HTTP-01 on
port 80 of the name's address, which its DNS (pebble-challtestsrv) gives as both hosts' addresses.
"""

from __future__ import annotations

import json
import random
import string
import time

import pytest
import yaml

from acme_ca import AcmeCA
from helpers import host_ips, run_playbook, served_certificate, ssh_host_vars, ssh_keypair
from sim_hosts import sim_host

pytestmark = pytest.mark.usefixtures('world')

NGINX = 'fleet-world/nginx:1.22'


def test_one_order_and_one_certificate_for_a_name_on_two_servers(tmp_path):
    key = ssh_keypair(tmp_path)
    user = 's' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    domain = 'web.%s.localhost' % user
    ips = host_ips(2)
    bad = 'bad.%s.localhost' % user  # its DNS points elsewhere
    spec_path = tmp_path / 'spec.yml'
    web = {'image': NGINX, 'ports': [80], 'health_path': '/', 'domain': domain, 'ssl_mode': 'letsencrypt'}
    spec_path.write_text(yaml.safe_dump({
        'fleet_user': user, 'fleet_project': 'site', 'fleet_version': '1', 'docker_hub_user': '',
        'services': {'web': web, 'bad': dict(web, domain=bad)}}))
    with AcmeCA(tmp_path / 'acme', 80) as acme, \
            sim_host('ft-%s-a' % user, ips[0], '%s.pub' % key) as host_a, \
            sim_host('ft-%s-b' % user, ips[1], '%s.pub' % key) as host_b:
        acme.add_a(domain, *ips)
        acme.add_a(bad, '127.0.0.2')
        for host in (host_a, host_b):
            host.load_images(NGINX)
        common = ssh_host_vars(key)
        inventory = tmp_path / 'hosts.yml'
        inventory.write_text(yaml.safe_dump({'fleet_servers': {'hosts': {
            'a': dict(common, ansible_host=ips[0]), 'b': dict(common, ansible_host=ips[1])}}}))
        args = ['-i', str(inventory), '-e', '@%s' % spec_path, '-e', '@tests/world/images.yml', '-e', 'fleet_env=prod',
                '-e', 'fleet_controller_root=%s' % (tmp_path / 'controller'),
                '-e', 'fleet_acme_directory=%s' % acme.directory, '-e', 'fleet_acme_ca_bundle=%s' % acme.ca_bundle,
                '-e', json.dumps({'fleet_health_overrides': {'interval': 1, 'retries': 60}})]
        proc = run_playbook('playbooks/deploy.yml', *args, timeout=900)
        out = proc.stdout + proc.stderr
        # the bad name: one block with the CA's error and the fix, everything deployed, the run failed at its end
        assert proc.returncode != 0, out[-6000:]
        assert 'HTTPS: no new certificate for %s (ssl_mode letsencrypt)' % bad in out, out[-6000:]
        assert '%s is served over HTTP (no certificate yet)' % bad in out
        assert "fix: the CA could not reach this name's port 80" in out
        assert '%s: no certificate could be issued' % bad in out
        assert 'HTTPS: no new certificate for %s ' % domain not in out
        # the good name: one order for it (the bad name had its own), the same certificate on both edges
        assert acme.orders() == 2, acme.log()[-3000:]
        roots = acme.roots()
        der_a, names_a = served_certificate(ips[0], domain, roots)
        der_b, names_b = served_certificate(ips[1], domain, roots)
        assert der_a == der_b and names_a == names_b == [domain]
        for host in (host_a, host_b):  # the challenge answers were taken off both edges
            left = host.ssh('ls /local/.fleet/edge/acme', check=True).stdout.split()
            assert left == [], left

        # a new version on both servers: each routing run hands its old slot to a retire that waits until every
        # server routes to the new one, then the deploy tells it (a touch over SSH): the old slots go, nothing waits
        spec = yaml.safe_load(spec_path.read_text())
        spec_path.write_text(yaml.safe_dump(dict(spec, fleet_version='2')))
        proc = run_playbook('playbooks/deploy.yml', *args, timeout=900)
        out = proc.stdout + proc.stderr
        # (the bad name waits for its next try and no longer fails the run, unless that try came and failed)
        assert proc.returncode == 0 or '%s: no certificate could be issued' % bad in out, out[-6000:]
        assert 'Retire the old versions, group 1' in out, out[-6000:]

        def web_containers(host):
            return sorted(name for name in host.ssh("docker ps -a --format '{{.Names}}'", check=True).stdout.split()
                          if name.startswith('%s_site_prod_web' % user))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(len(web_containers(host)) > 1 for host in (host_a, host_b)):
            time.sleep(1)
        for host in (host_a, host_b):
            assert web_containers(host) == ['%s_site_prod_web_secondary' % user], web_containers(host)
            told = host.ssh('ls /local/%s/site/prod/config/deploy' % user, check=True).stdout.split()
            assert not [name for name in told if name.endswith('.go') or name.endswith('.retiring.json')], told
        assert served_certificate(ips[0], domain, roots)[1] == [domain]
