# SPDX-License-Identifier: GPL-3.0-or-later
"""``ansible-inventory`` with the droplets inventory against the DigitalOcean simulator.

The simulator (tests/world/do_sim) runs here as a child process on a free loopback port with
its own state directory and fake hosts (droplets go ``new`` -> ``active`` without starting a real
host: an inventory needs no SSH), so this test needs neither Docker nor the rest of the world.
Droplets are created through the API with the collection's names and tags; ``ansible-inventory
--list`` then reads them with the real pydo client over HTTPS, trusting the simulator's test CA.
"""
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest

from helpers import REPO

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import droplet_name, droplet_tags

PLUGIN = 'projectdeployer.fleet.droplets'
BIN = os.path.dirname(sys.executable)


class Sim(object):
    def __init__(self, url, ca, token):
        self.url, self.ca, self.token = url, ca, token
        self.context = ssl.create_default_context(cafile=ca)

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            'Authorization': 'Bearer %s' % self.token, 'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, context=self.context, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def create(self, user, project, env, service, zone, index):
        name = droplet_name(user, project, env, service, zone, index)
        body = {'name': name, 'region': zone, 'size': 's-1vcpu-1gb', 'image': 'debian-12-x64',
                'tags': droplet_tags(user, project, env, service)}
        return self.request('POST', '/v2/droplets', body)['droplet']['id']

    def droplet(self, droplet_id):
        return self.request('GET', '/v2/droplets/%d' % droplet_id)['droplet']

    def wait_active(self, ids, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            droplets = [self.droplet(i) for i in ids]
            if all(d['status'] == 'active' for d in droplets):
                return dict((d['name'], d) for d in droplets)
            assert time.monotonic() < deadline, 'droplets not active after %d s: %s' % (
                timeout, [(d['name'], d['status']) for d in droplets])
            time.sleep(0.3)


def _address(droplet, kind):
    return [n['ip_address'] for n in droplet['networks']['v4'] if n['type'] == kind][0]


@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    """The simulator as a child process; stopped (SIGTERM to that process only) at the end."""
    state = tmp_path_factory.mktemp('do_sim')
    token = 'fleet-inv-' + secrets.token_hex(8)
    log = open(str(state / 'do_sim.log'), 'wb')
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, 'tests', 'world'))
    proc = subprocess.Popen(
        [sys.executable, '-m', 'do_sim', 'serve', '--port', '0', '--state-dir', str(state), '--token', token,
         '--hosts', 'fake', '--fake-boot-seconds', '0.3', '--action-seconds', '0.3', '--stop-timeout', '30'],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        facts = {}
        while 'DO_SIM_URL' not in facts:
            assert proc.poll() is None, 'the simulator exited: see %s' % (state / 'do_sim.log')
            assert time.monotonic() < deadline, 'the simulator did not start in 30 s: see %s' % (state / 'do_sim.log')
            time.sleep(0.2)
            if (state / 'env').exists():
                facts = dict(line.split('=', 1) for line in (state / 'env').read_text().splitlines() if '=' in line)
        yield Sim(facts['DO_SIM_URL'], facts['DO_SIM_CA'], token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope='module')
def droplets(sim):
    """Three active fleet droplets (two tenants), one that stays new, and one without the fleet tag."""
    ids = [sim.create('u1', 'myapp', 'prod', 'api', 'lon1', 1), sim.create('u1', 'myapp', 'prod', 'postgres', 'lon1', 1),
           sim.create('u2', 'my-shop', 'uat', 'web', 'ams3', 1)]
    sim.request('POST', '/v2/droplets', {'name': 'unrelated-box', 'region': 'fra1', 'size': 's-1vcpu-1gb',
                                         'image': 'debian-12-x64', 'tags': ['web']})
    sim.request('POST', '/_sim/faults', {'never_active': ['u1-myapp-prod-api-lon1-2']})
    sim.create('u1', 'myapp', 'prod', 'api', 'lon1', 2)
    return sim.wait_active(ids)


def run_cli(sim, path, args=(), token=None, extra_env=None):
    env = dict(os.environ, DIGITALOCEAN_API_TOKEN=token or sim.token, DIGITALOCEAN_API_ENDPOINT=sim.url,
               DIGITALOCEAN_CA_BUNDLE=sim.ca, ANSIBLE_NOCOLOR='1', **(extra_env or {}))
    for name in ('DIGITALOCEAN_TOKEN', 'DO_API_TOKEN', 'REQUESTS_CA_BUNDLE'):
        env.pop(name, None)
    return subprocess.run([os.path.join(BIN, 'ansible-inventory'), '-i', str(path), '--list'] + list(args),
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=180, check=False)


def load(stdout):
    # ansible-inventory marks the API's values (not trusted templates) as {"__ansible_unsafe": ...}
    return json.loads(stdout, object_hook=lambda d: d['__ansible_unsafe'] if set(d) == {'__ansible_unsafe'} else d)


def inventory(sim, tmp_path, config, **kwargs):
    path = tmp_path / ('%s.droplets.yml' % secrets.token_hex(4))
    path.write_text('plugin: %s\n%s' % (PLUGIN, config))
    proc = run_cli(sim, path, **kwargs)
    return proc, (load(proc.stdout) if proc.returncode == 0 else None), path


def hosts(data, group):
    return sorted((data.get(group) or {}).get('hosts') or [])


def test_lists_the_fleet_with_groups_and_hostvars(sim, droplets, tmp_path):
    proc, data, dummy = inventory(sim, tmp_path, 'keyed_groups:\n  - key: fleet_zone\n    prefix: zone\n')
    assert proc.returncode == 0, proc.stderr
    assert hosts(data, 'fleet_servers') == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1',
                                            'u2-my-shop-uat-web-ams3-1']
    assert hosts(data, 'fleet_u1_myapp_prod') == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-postgres-lon1-1']
    assert hosts(data, 'fleet_service_u1_myapp_prod_postgres') == ['u1-myapp-prod-postgres-lon1-1']
    assert hosts(data, 'fleet_u2_my_shop_uat') == ['u2-my-shop-uat-web-ams3-1']
    assert hosts(data, 'fleet_service_u2_my_shop_uat_web') == ['u2-my-shop-uat-web-ams3-1']
    assert hosts(data, 'zone_ams3') == ['u2-my-shop-uat-web-ams3-1']
    api = droplets['u1-myapp-prod-api-lon1-1']
    hv = data['_meta']['hostvars']['u1-myapp-prod-api-lon1-1']
    assert hv['ansible_host'] == hv['fleet_public_ip'] == _address(api, 'public')
    assert hv['fleet_private_ip'] == _address(api, 'private')
    assert (hv['fleet_droplet_id'], hv['fleet_zone'], hv['fleet_size'], hv['fleet_status']) == (
        api['id'], 'lon1', 's-1vcpu-1gb', 'active')
    assert (hv['fleet_droplet_user'], hv['fleet_droplet_project'], hv['fleet_droplet_env'],
            hv['fleet_droplet_service']) == ('u1', 'myapp', 'prod', 'api')
    # the droplet that stays "new" is skipped with a warning; the untagged one is not asked for
    assert 'u1-myapp-prod-api-lon1-2' not in data['_meta']['hostvars']
    assert 'u1-myapp-prod-api-lon1-2' in proc.stderr and 'is new: skipped' in proc.stderr
    assert 'unrelated-box' not in proc.stdout


def test_one_environment_on_private_addresses(sim, droplets, tmp_path):
    proc, data, dummy = inventory(sim, tmp_path, 'user: u1\nproject: myapp\nenv: prod\nuse_private_ip: true\n'
                                                 'include_inactive: true\n')
    assert proc.returncode == 0, proc.stderr
    assert hosts(data, 'fleet_servers') == ['u1-myapp-prod-api-lon1-1', 'u1-myapp-prod-api-lon1-2',
                                            'u1-myapp-prod-postgres-lon1-1']
    hostvars = data['_meta']['hostvars']
    assert hostvars['u1-myapp-prod-postgres-lon1-1']['ansible_host'] == _address(
        droplets['u1-myapp-prod-postgres-lon1-1'], 'private')
    assert hostvars['u1-myapp-prod-api-lon1-2']['fleet_status'] == 'new'
    assert 'ansible_host' not in hostvars['u1-myapp-prod-api-lon1-2']


def test_cache_then_flush(sim, droplets, tmp_path):
    path = tmp_path / 'cached.droplets.yml'   # the cache key holds the path: one file throughout
    path.write_text('plugin: %s\ncache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n'
                    'user: u2\n' % (PLUGIN, tmp_path / 'cache'))

    def listed(*args):
        proc = run_cli(sim, path, args)
        assert proc.returncode == 0, proc.stderr
        return hosts(load(proc.stdout), 'fleet_servers')

    one, both = ['u2-my-shop-uat-web-ams3-1'], ['u2-my-shop-uat-web-ams3-1', 'u2-my-shop-uat-web-ams3-2']
    assert listed() == one
    new_id = sim.create('u2', 'my-shop', 'uat', 'web', 'ams3', 2)
    sim.wait_active([new_id])
    assert listed() == one, 'the cache was not used'
    assert listed('--flush-cache') == both
    sim.request('DELETE', '/v2/droplets/%d' % new_id)
    assert listed() == both, 'the cache was not used'
    assert listed('--flush-cache') == one


def test_bad_token_is_one_clear_error(sim, tmp_path):
    proc, data, path = inventory(sim, tmp_path, '', token='dop_v1_' + '0' * 64,
                                 extra_env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'})
    assert proc.returncode != 0
    assert 'DigitalOcean API: listing droplets failed: HTTP 401 unauthorized: Unable to authenticate you' in proc.stderr
    assert 'fix: check api_token' in proc.stderr
    assert '(inventory source %s)' % path in proc.stderr
    assert 'Traceback' not in proc.stderr and '0' * 64 not in proc.stderr
