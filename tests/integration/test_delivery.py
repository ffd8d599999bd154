# SPDX-License-Identifier: GPL-3.0-or-later
"""Image delivery: registry-less over SSH to a server that cannot reach any registry, and
through the test world's registry on loopback.

The server is a simulated host (tests/world/host.sh): its own network namespace, dockerd and
sshd, with no route to the loopback registry. The image is built on this machine (the
controller), saved, sent over the SSH connection and loaded there, only when missing.
"""
import json
import os
import random
import string
import subprocess
import sys
import urllib.request

import pytest
import yaml

from helpers import REPO, free_port, host_ips, recap_changed, remove_edge, remove_tenant_firewall, run_playbook, ssh_keypair
from sim_hosts import sim_host

pytestmark = pytest.mark.usefixtures('world')

FLASK = os.path.join(REPO, 'tests', 'fixtures', 'apps', 'flask_api')
NGINX = 'fleet-world/nginx:1.22'


def _spec(tmp_path, user, hub=''):
    spec = {'fleet_user': user, 'fleet_project': 'ship', 'docker_hub_user': hub, 'fleet_version': '1',
            'services': {'api': {'type': 'python', 'build_context': FLASK, 'command': 'python -u app.py',
                                 'port': 8000, 'health_path': '/health', 'domain': 'api.%s.localhost' % user}}}
    path = tmp_path / 'ship.yml'
    path.write_text(yaml.safe_dump(spec))
    return path


def _get(address, port, host):
    req = urllib.request.Request('http://%s:%d/' % (address, port), headers={'Host': host})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


def _common(tmp_path, spec):
    return ['-e', '@%s' % spec, '-e', '@tests/world/images.yml', '-e', 'fleet_env=prod',
            '-e', 'fleet_build_root=%s' % (tmp_path / 'build'),
            '-e', json.dumps({'fleet_health_overrides': {'interval': 1, 'retries': 60}}), '-e', 'fleet_drain_seconds=1']


def test_registry_less_delivery_over_ssh(tmp_path):
    key = ssh_keypair(tmp_path)
    user = 'r' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    ip, = host_ips(1)
    with sim_host('fd-%s' % user, ip, '%s.pub' % key) as host:
        # the server has the stand-in nginx (as a real one pulls nginx from Docker Hub), nothing of ours,
        # and no way to reach the registry on this machine's loopback
        host.load_images(NGINX)
        assert host.ssh('curl -sS -m 3 http://127.0.0.1:5000/v2/ || exit 7').returncode != 0
        inventory = tmp_path / 'hosts.yml'
        inventory.write_text(yaml.safe_dump({'fleet_servers': {'hosts': {'server1': {
            'ansible_host': ip, 'ansible_user': 'root', 'ansible_ssh_private_key_file': str(key),
            'ansible_python_interpreter': sys.executable,
            'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'}}}}))
        spec = _spec(tmp_path, user)
        args = ['-i', str(inventory), '-e', 'fleet_controller_root=%s' % (tmp_path / 'controller')] + _common(tmp_path, spec)
        proc = run_playbook('playbooks/deploy.yml', *args, timeout=1200)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-8000:]
        assert 'Copy each archive to the server' in out
        status, body = _get(ip, 80, 'api.%s.localhost' % user)
        assert status == 200 and body['service'] == 'flask_api'
        image = '%s_ship_prod_api:1' % user
        local_id = subprocess.run(['docker', 'image', 'inspect', '--format', '{{.Id}}', image], capture_output=True,
                                  text=True, check=True).stdout.strip()
        remote_id = host.ssh("docker image inspect --format '{{.Id}}' %s" % image, check=True).stdout.strip()
        assert remote_id == local_id  # the same bytes: the content digest survives save/load
        # nothing of this run is left in the transfer directories (/tmp is this machine's: other tests' runs may
        # have theirs there meanwhile, so look for this image's archive)
        left = host.ssh('ls -d /tmp/fleet-images-*/%s.tar 2>/dev/null | wc -l' % local_id.replace('sha256:', ''),
                        check=True).stdout.strip()
        assert left == '0'
        # a second identical run sends nothing and changes nothing
        again = run_playbook('playbooks/deploy.yml', *args, timeout=1200)
        assert again.returncode == 0, (again.stdout + again.stderr)[-6000:]
        assert recap_changed(again.stdout) == 0, again.stdout[-4000:]
    subprocess.run(['docker', 'rmi', '-f', image], capture_output=True, check=False)


def test_push_to_the_registry_and_pull_where_missing(tmp_path):
    user = 'p' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    spec = _spec(tmp_path, user, hub='127.0.0.1:5000/fleettest')
    image = '127.0.0.1:5000/fleettest/%s_ship_prod_api:1' % user
    proc = run_playbook('playbooks/build.yml', *_common(tmp_path, spec), timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    built = subprocess.run(['docker', 'image', 'inspect', '--format', '{{.Id}} {{json .RepoDigests}}', image],
                           capture_output=True, text=True, check=True).stdout.split(' ', 1)
    digests = json.loads(built[1])
    assert any(d.startswith('127.0.0.1:5000/fleettest/%s_ship_prod_api@sha256:' % user) for d in digests), digests
    # the registry has it: remove it here, and a deploy without building pulls it back
    subprocess.run(['docker', 'rmi', '-f', image], capture_output=True, check=True)
    edge = 'fleet_edge_%s' % user
    port = free_port()
    try:
        proc = run_playbook('playbooks/deploy.yml', '-i', 'inventory/local.yml', *_common(tmp_path, spec),
                            '-e', 'fleet_build=false', '-e', 'fleet_root=%s' % (tmp_path / 'fleet'),
                            '-e', 'fleet_edge_container=%s' % edge, '-e', 'fleet_edge_http_port=%d' % port, '-e', 'fleet_edge_https_port=%d' % free_port(),
                            '-e', 'fleet_edge_bind_address=127.0.0.1', timeout=900)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
        pulled = subprocess.run(['docker', 'image', 'inspect', '--format', '{{.Id}}', image], capture_output=True,
                                text=True, check=True).stdout.strip()
        assert pulled == built[0]
        assert _get('127.0.0.1', port, 'api.%s.localhost' % user)[1]['service'] == 'flask_api'
    finally:
        ids = subprocess.run(['docker', 'ps', '-aq', '--filter', 'label=fleet.user=%s' % user],
                             capture_output=True, text=True, check=False).stdout.split()
        if ids:
            subprocess.run(['docker', 'rm', '-f'] + ids, capture_output=True, check=False)
        remove_edge(edge)
        remove_tenant_firewall(user, 'ship')
        subprocess.run(['docker', 'network', 'rm', '%s_ship_prod_net' % user], capture_output=True, check=False)
        subprocess.run(['docker', 'rmi', '-f', image], capture_output=True, check=False)
