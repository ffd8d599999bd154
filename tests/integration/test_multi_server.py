# SPDX-License-Identifier: GPL-3.0-or-later
"""deploy.yml across two servers: the databases on one, the API and the worker on the other; then remove.yml.

Both servers are simulated hosts (tests/world/host.sh: own network namespace, dockerd and sshd)
on one bridge. The API's image is built on this machine and sent over SSH; the API reaches
postgres and redis through its own server's sidecar, which routes to the other server's host
ports. A second identical run changes nothing; the docker_host role is a no-op where Docker runs.
"""
import json
import os
import random
import re
import string
import urllib.request

import pytest
import yaml

from helpers import REPO, changed_tasks, host_ips, recap_changed, run_playbook, ssh_host_vars, ssh_keypair
from sim_hosts import sim_host

pytestmark = pytest.mark.usefixtures('world')

STAND_INS = {'a': ['fleet-world/nginx:1.22', 'fleet-world/postgres:15', 'fleet-world/redis:7'],
             'b': ['fleet-world/nginx:1.22']}


def test_project_across_two_servers(tmp_path):
    key = ssh_keypair(tmp_path)
    user = 'm' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    ips = dict(zip('ab', host_ips(2)))
    with open(os.path.join(REPO, 'examples', 'myapp.yml')) as handle:
        spec = yaml.safe_load(handle)
    spec['fleet_user'] = user
    spec['services'].pop('report')  # scheduled jobs use the server's cron, which the simulated hosts share
    spec['services']['api']['domain'] = 'api.%s.localhost' % user
    spec['services']['api']['build_context'] = os.path.join(REPO, 'examples', 'apps', 'api')
    spec['services']['worker']['build_context'] = os.path.join(REPO, 'examples', 'apps', 'api')
    spec_path = tmp_path / 'spec.yml'
    spec_path.write_text(yaml.safe_dump(spec))
    with sim_host('fm-%s-a' % user, ips['a'], '%s.pub' % key) as host_a, \
            sim_host('fm-%s-b' % user, ips['b'], '%s.pub' % key) as host_b:
        host_a.load_images(*STAND_INS['a'])
        host_b.load_images(*STAND_INS['b'])
        common = ssh_host_vars(key)
        inventory = tmp_path / 'hosts.yml'
        inventory.write_text(yaml.safe_dump({'fleet_servers': {'hosts': {
            'db': dict(common, ansible_host=ips['a'], fleet_host_services=['postgres', 'redis']),
            'app': dict(common, ansible_host=ips['b'], fleet_host_services=['api', 'worker'])}}}))
        args = ['-i', str(inventory), '-e', '@%s' % spec_path, '-e', '@tests/world/images.yml', '-e', 'fleet_env=prod',
                '-e', 'fleet_controller_root=%s' % (tmp_path / 'controller'),
                '-e', 'fleet_build_root=%s' % (tmp_path / 'build'),
                '-e', json.dumps({'fleet_health_overrides': {'interval': 1, 'retries': 60}}),
                '-e', 'fleet_drain_seconds=1']
        ready = run_playbook('playbooks/docker_ready.yml', *args, timeout=300)
        assert ready.returncode == 0 and recap_changed(ready.stdout) == 0, (ready.stdout + ready.stderr)[-4000:]
        proc = run_playbook('playbooks/deploy.yml', *args, timeout=1500)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-8000:]

        def names(host):
            return host.ssh("docker ps --format '{{.Names}}'", check=True).stdout.split()
        prefix = '%s_myapp_prod' % user
        assert sorted(n for n in names(host_a) if n.startswith(prefix)) == sorted(
            [prefix + '_postgres', prefix + '_redis', prefix + '_nginx'])
        assert sorted(n for n in names(host_b) if n.startswith(prefix)) == sorted(
            [prefix + '_api', prefix + '_worker', prefix + '_nginx'])

        # the API on server b writes to postgres and redis on server a, through the mesh
        req = urllib.request.Request('http://%s/items' % ips['b'], data=json.dumps({'name': 'across'}).encode(),
                                     method='POST', headers={'Host': 'api.%s.localhost' % user,
                                                             'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=15) as resp:
            assert resp.status in (200, 201)
        req = urllib.request.Request('http://%s/items' % ips['b'], headers={'Host': 'api.%s.localhost' % user})
        with urllib.request.urlopen(req, timeout=15) as resp:
            assert 'across' in resp.read().decode()
        # postgres holds the row on server a
        count = host_a.ssh('docker exec %s_postgres sh -c \'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -At '
                           '-c "select count(*) from items"\'' % prefix, check=True).stdout.strip()
        assert int(count) >= 1
        # The host firewall: server a's host ports (postgres, redis) are closed to another tenant's container and to
        # the default bridge there, and to another tenant's container on server b (its connections would leave
        # with b's address); b's sidecar reached them above.
        ports = host_ports(host_a, prefix)
        assert len(ports) == 2, ports
        assert set(probe_ports(host_a, ports, 'other_net').values()) == {'closed'}
        assert set(probe_ports(host_a, ports, 'bridge').values()) == {'closed'}
        assert set(probe_ports(host_b, ports, 'other_net').values()) == {'closed'}
        assert set(probe_ports(host_b, ports, prefix + '_net').values()) == {'open'}
        # A Docker daemon restart keeps the rules; rules lost anyway (a reboot) come back with the next deploy,
        # which changes nothing else.
        rules = host_a.ssh('iptables -S', check=True).stdout
        assert '--comment "fleet %s"' % prefix in rules, rules
        host_a.restart_docker()
        assert host_a.ssh('iptables -S', check=True).stdout.count('fleet %s' % prefix) == rules.count('fleet %s' % prefix)
        host_a.ssh('for c in $(iptables -S | awk \'/^-N FLEET-/ {print $2}\'); do iptables -F $c; done; '
                   'iptables -D INPUT -j FLEET-PORTS-IN; iptables -D DOCKER-USER -j FLEET-PORTS-FWD; '
                   'for c in $(iptables -S | awk \'/^-N FLEET-/ {print $2}\'); do iptables -X $c; done', check=True)
        assert set(probe_ports(host_a, ports, 'bridge').values()) == {'open'}
        again = run_playbook('playbooks/deploy.yml', *args, timeout=1500)
        assert again.returncode == 0, (again.stdout + again.stderr)[-6000:]
        firewall_task = ('projectdeployer.fleet.deploy : Let only the tenant\'s network, the edge and the env\'s '
                         'other servers reach its host ports')
        assert changed_tasks(again.stdout) == [(firewall_task, 'db')], again.stdout[-6000:]
        assert host_a.ssh('iptables -S', check=True).stdout.count('fleet %s' % prefix) == rules.count('fleet %s' % prefix)
        assert set(probe_ports(host_a, ports, 'bridge').values()) == {'closed'}
        req = urllib.request.Request('http://%s/items' % ips['b'], headers={'Host': 'api.%s.localhost' % user})
        with urllib.request.urlopen(req, timeout=15) as resp:
            assert 'across' in resp.read().decode()

        # remove.yml takes the env off both servers (issue 13): nothing of it in either engine, cron or shared
        # state; the edge goes with its last tenant; data/, backups/ and secrets/ stay (not purged)
        confirm = ['-e', 'fleet_confirm=%s/myapp/prod' % user]
        removed = run_playbook('playbooks/remove.yml', *(args + confirm), timeout=600)
        assert removed.returncode == 0, (removed.stdout + removed.stderr)[-6000:]
        for host in (host_a, host_b):
            assert 'FLEET-' not in host.ssh('iptables -S', check=True).stdout  # the last tenant: no chain left
            engine = host.ssh("docker ps -a --format '{{.Names}}'; docker network ls --format '{{.Name}}'",
                              check=True).stdout.split()
            assert [n for n in engine if n.startswith(prefix) or n.startswith('fleet_edge')] == [], engine
            left = host.ssh('ls /etc/cron.d /local/.fleet/edge/conf.d; cat /local/.fleet/ports.json', timeout=60).stdout
            assert prefix not in left, left
            kept = host.ssh('ls /local/%s/myapp/prod' % user, check=True).stdout.split()
            assert sorted(kept) == ['backups', 'data', 'secrets'], kept
            # the health agent went with the last env it looked after: its unit, cron file and program
            agent = host.ssh('ls /etc/systemd/system/fleet-agent.service /etc/cron.d/fleet-health-monitor '
                             '/local/.fleet/lib/fleet-health.zip /local/.fleet/agent 2>&1', timeout=60).stdout
            assert agent.count('No such file or directory') == 4, agent
        again = run_playbook('playbooks/remove.yml', *(args + confirm), timeout=600)
        assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout[-4000:]


# Each address is tried at once, 3 s at most; bash's /dev/tcp, since the stand-in images have bash but not all python.
PROBE = ('for a in "$@"; do ( if timeout 3 bash -c "exec 3<>/dev/tcp/${a%:*}/${a##*:}" 2>/dev/null; '
         'then echo "$a open"; else echo "$a closed"; fi ) & done; wait')


def probe_ports(host, addresses, network):
    """``{address: 'open' | 'closed'}`` of connections from a container on ``network`` of ``host``
    (``other_net``: a network of its own, as another tenant's)."""
    make = 'docker network create other_net >/dev/null 2>&1; ' if network == 'other_net' else ''
    out = host.ssh("%sdocker run --rm --network %s --entrypoint bash fleet-world/nginx:1.22 -c '%s' probe %s"
                   % (make, network, PROBE, ' '.join(addresses)), check=True).stdout
    return dict(line.rsplit(' ', 1) for line in out.splitlines())


def host_ports(host, prefix):
    """``ADDRESS:PORT`` of every host port the tenant's running containers on ``host`` publish."""
    out = host.ssh("docker ps --filter name=%s --format '{{.Ports}}'" % prefix, check=True).stdout
    return sorted(set(re.findall(r'(\d+\.\d+\.\d+\.\d+:\d+)->', out)))
