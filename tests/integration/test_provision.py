# SPDX-License-Identifier: GPL-3.0-or-later
"""provision.yml, servers.yml and destroy.yml against the DigitalOcean simulator, whose droplets
are real hosts (their own network namespace, dockerd and sshd).

A project with a database in one region and a two-server API in another is provisioned from
nothing (key, VPCs, droplets, firewall, Docker checked over SSH), provisioned again (nothing
changes), listed through the droplets inventory plugin, and destroyed (droplets and hosts gone).
"""
import json
import os
import random
import string
import subprocess

import pytest
import yaml

from do_cloud import sim_state
from helpers import REPO, recap_changed, run_playbook

pytestmark = pytest.mark.usefixtures('world')

FLASK = os.path.join(REPO, 'tests', 'fixtures', 'apps', 'flask_api')


def test_provision_list_and_destroy(cloud, tmp_path):
    user = 'v' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    spec = {'fleet_user': user, 'fleet_project': 'prov', 'docker_hub_user': '',
            'services': {
                'postgres': {'type': 'postgres', 'version': '15', 'server_zone': 'lon1'},
                'api': {'type': 'python', 'build_context': FLASK, 'command': 'python -u app.py', 'port': 8000,
                        'depends_on': ['postgres'], 'server_zone': 'ams3', 'servers_count': 2}}}
    spec_path = tmp_path / 'spec.yml'
    spec_path.write_text(yaml.safe_dump(spec))
    args = ['-e', '@%s' % spec_path, '-e', 'fleet_env=prod', '-e', 'fleet_controller_root=%s' % (tmp_path / 'ctl'),
            '-e', 'fleet_do_endpoint=%s' % cloud['url'], '-e', 'fleet_do_ca_bundle=%s' % cloud['ca'],
            # the simulated droplets share this machine's files, where interpreter discovery finds a pyenv shim
            '-e', 'fleet_droplet_python=/usr/bin/python3',
            '-e', json.dumps({'fleet_do_token': cloud['token'], 'fleet_controller_addresses': ['10.250.0.1/32']})]
    env = {'ANSIBLE_HOST_KEY_CHECKING': 'False'}

    proc = run_playbook('playbooks/provision.yml', *args, env=env, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert cloud['token'] not in out
    droplets = [d for d in sim_state(cloud)['droplets'] if d['name'].startswith(user + '-')]
    names = sorted(d['name'] for d in droplets)
    assert names == ['%s-prov-prod-api-ams3-1' % user, '%s-prov-prod-api-ams3-2' % user,
                     '%s-prov-prod-postgres-lon1-1' % user], names
    assert all(d['status'] == 'active' for d in droplets)
    # the key stays on the controller, private
    key = tmp_path / 'ctl' / user / '.ssh' / 'fleet_ed25519'
    assert oct(key.stat().st_mode & 0o777) == '0o600' and oct(key.parent.stat().st_mode & 0o777) == '0o700'
    # Docker answered on every droplet (reached over SSH), so the docker_host role changed nothing
    assert 'Install Docker from the distribution' not in out.split('Docker on every server')[-1] or \
        'skipping' in out.split('Install Docker from the distribution')[-1][:400]

    again = run_playbook('playbooks/provision.yml', *args, env=env, timeout=900)
    assert again.returncode == 0, (again.stdout + again.stderr)[-6000:]
    assert recap_changed(again.stdout) == 0, again.stdout[-5000:]

    config = tmp_path / 'cloud.droplets.yml'
    config.write_text(yaml.safe_dump({'plugin': 'projectdeployer.fleet.droplets', 'api_endpoint': cloud['url'],
                                      'ca_bundle': cloud['ca'], 'api_token': cloud['token'], 'user': user}))
    listed = run_playbook('playbooks/servers.yml', '-i', str(config), '-e', 'fleet_env=prod', '-e', 'zone=ams3',
                          timeout=300)
    assert listed.returncode == 0, (listed.stdout + listed.stderr)[-4000:]
    assert '%s-prov-prod-api-ams3-1' % user in listed.stdout and '%s-prov-prod-api-ams3-2' % user in listed.stdout
    assert 'postgres-lon1' not in listed.stdout and '2 server(s)' in listed.stdout

    refused = run_playbook('playbooks/destroy.yml', *args, timeout=300)
    assert refused.returncode != 0 and 'fleet_confirm=%s/prov/prod' % user in refused.stdout
    gone = run_playbook('playbooks/destroy.yml', *args, '-e', 'fleet_confirm=%s/prov/prod' % user, timeout=600)
    assert gone.returncode == 0, (gone.stdout + gone.stderr)[-6000:]
    state = sim_state(cloud)
    assert not [d for d in state['droplets'] if d['name'].startswith(user + '-')]
    hosts = subprocess.run(['bash', os.path.join(REPO, 'tests', 'world', 'host.sh'), 'list'], capture_output=True,
                           text=True, check=False).stdout
    for name in names:
        assert name not in hosts or ' up' not in hosts.split(name)[1].splitlines()[0]
