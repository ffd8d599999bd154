# SPDX-License-Identifier: GPL-3.0-or-later
"""Scaling a service's servers 2 -> 1 -> 2 on simulated droplets under steady load.

scale.yml = provision.yml (surplus droplets tagged fleet-surplus, left running), deploy.yml over the
droplets that stay (every edge and sidecar then routes only to them), provision.yml with
fleet_remove_surplus (the surplus droplets destroyed). A steady stream of requests through the
edge of the droplet that always stays must never fail; afterwards the surplus droplets (and with
them their hosts and containers) are gone, and the servers that stay run exactly the tenant's
containers. Then destroy_server.yml removes one server the same way (under load, zero failures) and
refuses to remove the last server of a service. The droplets are real hosts (tests/world/host.sh); they get the stand-in nginx image
the way a real droplet pulls it from Docker Hub, with host.sh load-images.
"""
import json
import random
import string
import sys
import urllib.request

import pytest
import yaml

from helpers import SteadyLoad, recap_changed, run_playbook
from do_cloud import sim_state, wait_idle
from sim_hosts import SimHost, list_hosts, load_images

pytestmark = pytest.mark.usefixtures('world')

NGINX = 'fleet-world/nginx:1.22'


def test_scale_2_1_2_under_load(cloud, tmp_path):
    user = 's' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(5))
    domain = 'web.%s.localhost' % user
    controller = tmp_path / 'ctl'
    key = str(controller / user / '.ssh' / 'fleet_ed25519')
    spec_path = tmp_path / 'spec.yml'

    def write_spec(count):
        spec_path.write_text(yaml.safe_dump({
            'fleet_user': user, 'fleet_project': 'shop', 'fleet_version': '1', 'docker_hub_user': '',
            'services': {'web': {'image': NGINX, 'ports': [80], 'domain': domain, 'health_path': '/',
                                 'servers_count': count, 'server_zone': 'lon1'}}}))

    common = ['-e', '@%s' % spec_path, '-e', '@tests/world/images.yml', '-e', 'fleet_env=prod',
              '-e', 'fleet_controller_root=%s' % controller,
              '-e', 'fleet_do_endpoint=%s' % cloud['url'], '-e', 'fleet_do_ca_bundle=%s' % cloud['ca'],
              '-e', json.dumps({'fleet_do_token': cloud['token'], 'fleet_controller_addresses': ['10.250.0.1/32'],
                                'fleet_health_overrides': {'interval': 1, 'retries': 60}}),
              # the simulated droplets share this machine's files: the venv's Python has the Docker SDK
              '-e', 'ansible_python_interpreter=%s' % sys.executable,
              '-e', 'fleet_build_root=%s' % (tmp_path / 'build'), '-e', 'fleet_drain_seconds=2']
    env = {'ANSIBLE_HOST_KEY_CHECKING': 'False'}

    def droplets():
        return dict((d['name'], d) for d in sim_state(cloud)['droplets'] if d['name'].startswith(user + '-'))

    def provision(count):
        write_spec(count)
        proc = run_playbook('playbooks/provision.yml', *common, env=env, timeout=900)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
        for droplet in droplets().values():  # what a real droplet would pull from Docker Hub
            load_images(droplet['host'], NGINX)

    def scale(count):
        write_spec(count)
        proc = run_playbook('playbooks/scale.yml', *common, env=env, timeout=1800)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
        return proc

    def ssh(droplet, command):
        return SimHost(droplet['host'], droplet['public_ip'], key).ssh(command, timeout=60, check=True).stdout

    def serves(droplet):
        req = urllib.request.Request('http://%s/' % droplet['public_ip'], headers={'Host': domain})
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status == 200

    def containers(droplet):
        return sorted(ssh(droplet, "docker ps -a --format '{{.Names}}'").split())

    def upstreams(droplet):
        """The edge's peers of the tenant: its route table (docs/mesh.md)."""
        return ssh(droplet, 'cat /local/.fleet/edge/routes/%s_shop_prod.routes' % user)

    name = '%s-shop-prod-web-lon1-%%d' % user
    mine = sorted(['%s_shop_prod_web' % user, '%s_shop_prod_nginx' % user, 'fleet_edge'])
    try:
        provision(2)    # (two, not three: the CI's 30 minutes; one surplus droplet proves what two did)
        first = scale(2)
        assert 'surplus, still running' not in first.stdout
        found = droplets()
        assert sorted(found) == [name % i for i in (1, 2)]
        for droplet in found.values():
            assert serves(droplet), droplet['name']
        stays = found[name % 1]
        for droplet in found.values():
            assert droplet['private_ip'] in upstreams(stays)

        # 2 -> 1 under load through the edge of the droplet that stays
        with SteadyLoad(stays['public_ip'], domain, rate=20) as load:
            down = scale(1)
        assert load.total > 100 and load.failed == 0, load.summary()
        assert 'surplus, still running: %s' % (name % 2) in down.stdout, down.stdout[-6000:]
        assert sorted(droplets()) == [name % 1]
        wait_idle(cloud)
        hosts = list_hosts()
        assert found[name % 2]['host'] not in hosts
        assert containers(stays) == mine
        conf = upstreams(stays)
        assert stays['private_ip'] in conf
        assert found[name % 2]['private_ip'] not in conf

        # 1 -> 2: the new droplet gets the image first (provision), then scale under load
        provision(2)
        with SteadyLoad(stays['public_ip'], domain, rate=20) as load:
            up = scale(2)
        assert load.total > 50 and load.failed == 0, load.summary()
        found = droplets()
        assert sorted(found) == [name % 1, name % 2]
        assert all('fleet-surplus' not in d['tags'] for d in found.values())
        for droplet in found.values():
            assert serves(droplet), droplet['name']
            assert containers(droplet) == mine, droplet['name']
            assert found[name % 2]['private_ip'] in upstreams(droplet)
        assert 'surplus, still running' not in up.stdout
        again = scale(2)  # nothing to do: nothing changes, nothing restarts
        assert recap_changed(again.stdout) == 0, again.stdout[-6000:]

        # destroy_server (by its public address) under load: web-2 leaves the routes, then goes
        leaving = found[name % 2]
        config = tmp_path / 'cloud.droplets.yml'
        config.write_text(yaml.safe_dump({'plugin': 'projectdeployer.fleet.droplets', 'api_endpoint': cloud['url'],
                                          'ca_bundle': cloud['ca'], 'api_token': cloud['token'], 'user': user}))
        inventory = ['-i', str(config), '-e', 'fleet_hosts=fleet_%s_shop_prod' % user, '-e', 'ansible_user=root',
                     '-e', 'ansible_ssh_private_key_file=%s' % key]
        unconfirmed = run_playbook('playbooks/destroy_server.yml', *inventory, *common,
                                   '-e', 'fleet_server=%s' % leaving['public_ip'], env=env, timeout=900)
        assert unconfirmed.returncode != 0 and 'fleet_confirm' in unconfirmed.stdout, unconfirmed.stdout[-3000:]
        with SteadyLoad(stays['public_ip'], domain, rate=20) as load:
            one = run_playbook('playbooks/destroy_server.yml', *inventory, *common,
                               '-e', 'fleet_server=%s' % leaving['public_ip'],
                               '-e', 'fleet_confirm=%s' % leaving['public_ip'], env=env, timeout=900)
        assert one.returncode == 0, (one.stdout + one.stderr)[-6000:]
        assert load.total > 20 and load.failed == 0, load.summary()
        assert sorted(droplets()) == [name % 1]
        assert leaving['private_ip'] not in upstreams(stays) and containers(stays) == mine
        last = run_playbook('playbooks/destroy_server.yml', *inventory, *common, '-e', 'fleet_server=%s' % (name % 1),
                            '-e', 'fleet_confirm=%s' % (name % 1), env=env, timeout=900)
        assert last.returncode != 0, last.stdout[-3000:]
        assert 'is the last server of web; fix: raise servers_count' in last.stdout, last.stdout[-3000:]
        assert sorted(droplets()) == [name % 1] and serves(stays)
    finally:
        gone = run_playbook('playbooks/destroy.yml', *common, '-e', 'fleet_confirm=%s/shop/prod' % user, timeout=600)
        assert gone.returncode == 0, (gone.stdout + gone.stderr)[-4000:]
