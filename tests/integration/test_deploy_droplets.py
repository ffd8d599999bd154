# SPDX-License-Identifier: GPL-3.0-or-later
"""From nothing to a running project on simulated DigitalOcean droplets in two regions: provision.yml
creates one droplet per service of the example (postgres and redis in lon1, the api in
fra1), the user's VPCs of both regions and their peering; deploy.yml runs over the droplets the
inventory plugin lists, each droplet running its own service; the API answers through every
droplet's edge and keeps its data in postgres on a droplet of the other region, reached over the
peered VPCs' private addresses.

The host firewall across servers: postgres's host port is closed to another tenant's container and to
the default bridge on its droplet and to another tenant's container on the API's droplet, open to the
tenant's own network there; a Docker daemon restart keeps the rules, rules lost anyway (a reboot) come
back with the next deploy, which changes nothing else. Then remove.yml takes the env off all three
droplets (nothing of it left in an engine, cron or the shared state; data/, backups/ and secrets/ stay;
the edge and the health agent go with the last tenant), and destroy.yml the droplets.

The droplets are real hosts (tests/world/host.sh); as they cannot reach a registry, they get the
stand-in images (nginx, postgres, redis) the way a real droplet pulls them from Docker Hub, with
host.sh load-images, and the built images over SSH. (This test took in test_multi_server's firewall and
removal steps: the same servers prove them, without a second world for the CI's 30 minutes.)
"""
import json
import os
import random
import re
import string
import sys
import urllib.request

import pytest
import yaml

from helpers import REPO, changed_tasks, run_playbook, task_hosts
from do_cloud import sim_state
from sim_hosts import SimHost, load_images

pytestmark = pytest.mark.usefixtures('world')

IMAGES = {'postgres': ['fleet-world/postgres:15'], 'redis': ['fleet-world/redis:7']}


def test_example_on_droplets(cloud, tmp_path):
    user = 'w' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(5))
    with open(os.path.join(REPO, 'examples', 'myapp.yml')) as handle:
        spec = yaml.safe_load(handle)
    spec['fleet_user'] = user
    spec['services'].pop('report')  # scheduled jobs use cron, whose files the simulated hosts share
    spec['services'].pop('worker')  # a fourth droplet would prove nothing the api's does not (the CI's 30 minutes)
    for name in ('api',):
        spec['services'][name]['build_context'] = os.path.join(REPO, 'examples', 'apps', 'api')
        spec['services'][name]['server_zone'] = 'fra1'
    spec['services']['api']['domain'] = 'api.%s.localhost' % user
    spec_path = tmp_path / 'spec.yml'
    spec_path.write_text(yaml.safe_dump(spec))
    controller = tmp_path / 'ctl'
    common = ['-e', '@%s' % spec_path, '-e', 'fleet_env=prod', '-e', 'fleet_controller_root=%s' % controller,
              '-e', 'fleet_do_endpoint=%s' % cloud['url'], '-e', 'fleet_do_ca_bundle=%s' % cloud['ca'],
              '-e', json.dumps({'fleet_do_token': cloud['token'], 'fleet_controller_addresses': ['10.250.0.1/32']})]
    env = {'ANSIBLE_HOST_KEY_CHECKING': 'False'}
    proc = run_playbook('playbooks/provision.yml', *common, '-e', 'fleet_droplet_python=/usr/bin/python3',
                        env=env, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    state = sim_state(cloud)
    droplets = [d for d in state['droplets'] if d['name'].startswith(user + '-')]
    assert sorted(d['name'] for d in droplets) == sorted('%s-myapp-prod-%s-1' % (user, s) for s in (
        'postgres-lon1', 'redis-lon1', 'api-fra1'))
    vpcs = dict((v['name'], v) for v in state['vpcs'] if v['name'].startswith('fleet-%s-' % user))
    assert sorted(vpcs) == ['fleet-%s-fra1' % user, 'fleet-%s-lon1' % user]
    for droplet in droplets:
        assert droplet['vpc_uuid'] == vpcs['fleet-%s-%s' % (user, droplet['name'].split('-')[4])]['id']
    peered = [p for p in state['peerings'] if sorted(p['vpc_ids']) == sorted(v['id'] for v in vpcs.values())]
    assert [p['status'] for p in peered] == ['ACTIVE'], state['peerings']
    for droplet in droplets:
        service = droplet['name'].split('-')[3]
        load_images(droplet['host'], 'fleet-world/nginx:1.22', *IMAGES.get(service, []))

    config = tmp_path / 'cloud.droplets.yml'
    config.write_text(yaml.safe_dump({'plugin': 'projectdeployer.fleet.droplets', 'api_endpoint': cloud['url'],
                                      'ca_bundle': cloud['ca'], 'api_token': cloud['token'], 'user': user}))
    deploy = ['-i', str(config), '-e', 'fleet_hosts=fleet_%s_myapp_prod' % user, '-e', '@tests/world/images.yml',
              '-e', 'ansible_user=root', '-e', 'ansible_ssh_private_key_file=%s' % (
                  controller / user / '.ssh' / 'fleet_ed25519'),
              # the simulated droplets share this machine's files: the venv's Python has the Docker SDK
              '-e', 'ansible_python_interpreter=%s' % sys.executable,
              '-e', 'fleet_build_root=%s' % (tmp_path / 'build'),
              '-e', json.dumps({'fleet_health_overrides': {'interval': 1, 'retries': 60}}),
              '-e', 'fleet_drain_seconds=1'] + common
    proc = run_playbook('playbooks/deploy.yml', *deploy, env=env, timeout=1800)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]

    by_service = dict((d['name'].split('-')[3], d) for d in droplets)
    host = 'api.%s.localhost' % user
    req = urllib.request.Request('http://%s/items' % by_service['postgres']['public_ip'], method='POST',
                                 data=json.dumps({'name': 'on-droplets'}).encode(),
                                 headers={'Host': host, 'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=15) as resp:
        assert resp.status == 201
    for droplet in droplets:  # every droplet's edge routes to the API droplet
        req = urllib.request.Request('http://%s/items' % droplet['public_ip'], headers={'Host': host})
        with urllib.request.urlopen(req, timeout=15) as resp:
            assert 'on-droplets' in resp.read().decode(), droplet['name']
    # each droplet runs its own service (plus the tenant's sidecar and the edge)
    key = str(controller / user / '.ssh' / 'fleet_ed25519')
    for service, droplet in by_service.items():
        names = SimHost(droplet['host'], droplet['public_ip'], key).ssh(
            "docker ps --format '{{.Names}}'", timeout=60, check=True).stdout.split()
        mine = sorted(n for n in names if n.startswith('%s_myapp_prod_' % user))
        assert mine == sorted(['%s_myapp_prod_%s' % (user, service), '%s_myapp_prod_nginx' % user]), (service, names)
    # the api's sidecar in fra1 routes to postgres and redis by their private addresses in lon1
    api = by_service['api']
    sidecar = SimHost(api['host'], api['public_ip'], key).ssh(
        'cat /local/%s/myapp/prod/config/nginx/nginx.conf' % user, timeout=60, check=True).stdout
    for service in ('postgres', 'redis'):
        assert by_service[service]['private_ip'] + ':' in sidecar, (service, sidecar)

    # The host firewall: postgres's host port is closed to another tenant's container and to the default bridge
    # on its droplet, and to another tenant's container on the API's droplet (its connections would leave with
    # that droplet's address); the API's sidecar reached it above, from the tenant's network.
    prefix = '%s_myapp_prod' % user
    db, app = (SimHost(by_service[s]['host'], by_service[s]['public_ip'], key) for s in ('postgres', 'api'))
    ports = host_ports(db, prefix)
    assert len(ports) == 1, ports
    assert probe_ports(db, ports, 'other_net') == {ports[0]: 'closed'}
    assert probe_ports(db, ports, 'bridge') == {ports[0]: 'closed'}
    assert probe_ports(app, ports, 'other_net') == {ports[0]: 'closed'}
    assert probe_ports(app, ports, prefix + '_net') == {ports[0]: 'open'}
    # A Docker daemon restart keeps the rules; rules lost anyway (a reboot) come back with the next deploy,
    # which changes nothing else (the second deploy's idempotence, but for that one task).
    rules = db.ssh('iptables -S', check=True).stdout
    assert '--comment "fleet %s"' % prefix in rules, rules
    db.restart_docker()
    assert db.ssh('iptables -S', check=True).stdout.count('fleet %s' % prefix) == rules.count('fleet %s' % prefix)
    db.ssh('for c in $(iptables -S | awk \'/^-N FLEET-/ {print $2}\'); do iptables -F $c; done; '
           'iptables -D INPUT -j FLEET-PORTS-IN; iptables -D DOCKER-USER -j FLEET-PORTS-FWD; '
           'for c in $(iptables -S | awk \'/^-N FLEET-/ {print $2}\'); do iptables -X $c; done', check=True)
    assert probe_ports(db, ports, 'bridge') == {ports[0]: 'open'}
    again = run_playbook('playbooks/deploy.yml', *deploy, env=env, timeout=1800)
    assert again.returncode == 0, (again.stdout + again.stderr)[-6000:]
    firewall_task = ('projectdeployer.fleet.deploy : Let only the tenant\'s network, the edge and the env\'s '
                     'other servers reach its host ports')
    assert changed_tasks(again.stdout) == [(firewall_task, by_service['postgres']['name'])], again.stdout[-6000:]
    # deploy_changes found the other servers' firewalls current: host_firewall ran on the database server only
    assert task_hosts(again.stdout, firewall_task) == [by_service['postgres']['name']], again.stdout[-6000:]
    # the health agent, installed from the same inputs and answering, is not installed again (deploy_changes)
    assert 'look after the env on this server' not in again.stdout, again.stdout[-6000:]
    assert db.ssh('iptables -S', check=True).stdout.count('fleet %s' % prefix) == rules.count('fleet %s' % prefix)
    assert probe_ports(db, ports, 'bridge') == {ports[0]: 'closed'}

    # remove.yml takes the env off every droplet (issue 13): nothing of it in an engine, cron or the shared state;
    # the edge and the health agent go with their last tenant; data/, backups/ and secrets/ stay (not purged)
    removed = run_playbook('playbooks/remove.yml', *deploy, '-e', 'fleet_confirm=%s/myapp/prod' % user, env=env,
                           timeout=600)
    assert removed.returncode == 0, (removed.stdout + removed.stderr)[-6000:]
    for droplet in droplets:
        server = SimHost(droplet['host'], droplet['public_ip'], key)
        assert 'FLEET-' not in server.ssh('iptables -S', check=True).stdout  # the last tenant: no chain left
        engine = server.ssh("docker ps -a --format '{{.Names}}'; docker network ls --format '{{.Name}}'",
                            check=True).stdout.split()
        assert [n for n in engine if n.startswith(prefix) or n.startswith('fleet_edge')] == [], engine
        left = server.ssh('ls /etc/cron.d /local/.fleet/edge/conf.d; cat /local/.fleet/ports.json', timeout=60).stdout
        assert prefix not in left, left
        kept = server.ssh('ls /local/%s/myapp/prod' % user, check=True).stdout.split()
        assert sorted(kept) == ['backups', 'data', 'secrets'], kept
        agent = server.ssh('ls /etc/systemd/system/fleet-agent.service /etc/cron.d/fleet-health-monitor '
                           '/local/.fleet/lib/fleet-health.zip /local/.fleet/agent 2>&1', timeout=60).stdout
        assert agent.count('No such file or directory') == 4, agent
    gone = run_playbook('playbooks/destroy.yml', *common, '-e', 'fleet_confirm=%s/myapp/prod' % user, timeout=600)
    assert gone.returncode == 0, (gone.stdout + gone.stderr)[-4000:]


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
