# SPDX-License-Identifier: GPL-3.0-or-later
"""The DigitalOcean modules (ssh_key, vpc, firewall, droplet) through ansible-playbook and the real pydo
client against the DigitalOcean simulator (tests/world/do_sim.sh, HTTPS with a test CA).

A private simulator per module run: its own state directory and port, ``--fake-hosts`` (droplets
are API objects only, no root needed), stopped at the end. Sequence per the style guide: check
mode, real run, idempotency run; then scale down, faults (429, 500 on create), errors, teardown.
"""
import json
import os
import socket
import subprocess
import urllib.request
import ssl

import pytest

from helpers import REPO, run_playbook

SIM_SH = os.path.join(REPO, 'tests', 'world', 'do_sim.sh')


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def do_sim(tmp_path_factory):
    state = str(tmp_path_factory.mktemp('do_sim'))
    env = dict(os.environ, FLEET_DO_SIM_LOG=os.path.join(state, 'sim.log'))
    port = str(_free_port())
    start = subprocess.run(['bash', SIM_SH, 'start', '--port', port, '--state-dir', state, '--fake-hosts'],
                           env=env, capture_output=True, text=True, timeout=120, check=False)
    if start.returncode != 0:
        pytest.fail('the DigitalOcean simulator did not start: %s %s' % (start.stdout[-2000:], start.stderr[-2000:]))
    facts = dict(line.split('=', 1) for line in start.stdout.splitlines() if '=' in line and line[:1].isupper())
    yield dict(url=facts['DO_SIM_URL'], ca=facts['DO_SIM_CA'], token=facts['DO_SIM_TOKEN'], dir=state)
    subprocess.run(['bash', SIM_SH, 'stop', '--state-dir', state], env=env, capture_output=True, timeout=400,
                   check=False)


def sim_post(sim, path, body):
    ctx = ssl.create_default_context(cafile=sim['ca'])
    req = urllib.request.Request(sim['url'] + path, data=json.dumps(body).encode(), method='POST',
                                 headers={'Content-Type': 'application/json',
                                          'Authorization': 'Bearer %s' % sim['token']})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        return json.loads(resp.read() or b'{}')


def sim_get(sim, path):
    ctx = ssl.create_default_context(cafile=sim['ca'])
    req = urllib.request.Request(sim['url'] + path, headers={'Authorization': 'Bearer %s' % sim['token']})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
        return json.loads(resp.read())


PLAY = '''
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/projectdeployer.fleet.fleet:
      api_token: "{{ sim_token }}"
      api_endpoint: "{{ sim_url }}"
      ca_bundle: "{{ sim_ca }}"
  tasks:
    - name: key
      projectdeployer.fleet.ssh_key: {user: u1, controller_root: "{{ root }}", state: "{{ key_state | default('present') }}"}
      register: key
    - name: vpc
      projectdeployer.fleet.vpc: {region: lon1, name: "{{ vpc_name }}"}
      register: vpc
      when: key_state is not defined
    - name: firewall
      projectdeployer.fleet.firewall:
        user: u1
        project: myapp
        env: prod
        controller_addresses: "{{ controllers | default(['127.0.0.1/32']) }}"
        vpc_ranges: ["{{ vpc.ip_range | default('10.200.0.0/20', true) }}"]
        state: "{{ fw_state | default('present') }}"
      when: key_state is not defined
    - name: droplets
      projectdeployer.fleet.droplet:
        user: u1
        project: myapp
        env: prod
        service: "{{ service | default('api') or omit }}"
        zone: lon1
        count: "{{ count | default(3) | int }}"
        remove_surplus: "{{ remove_surplus | default(false) | bool }}"
        ssh_keys: "{{ [key.fingerprint] if key.fingerprint else [] }}"
        vpc_uuid: "{{ vpc.id | default(omit, true) }}"
        wait_timeout: "{{ wait_timeout | default(120) | int }}"
        state: "{{ droplet_state | default('present') }}"
      when: key_state is not defined
'''


@pytest.fixture(scope='module')
def play(tmp_path_factory, do_sim):
    base = tmp_path_factory.mktemp('do_play')
    path = base / 'play.yml'
    path.write_text(PLAY)
    root = base / 'controller'

    def run(*extra, check=False, diff=False, token=None):
        args = ['-e', 'sim_url=%s' % do_sim['url'], '-e', 'sim_ca=%s' % do_sim['ca'],
                '-e', 'sim_token=%s' % (token or do_sim['token']), '-e', 'root=%s' % root,
                '-e', 'vpc_name=fleet-it-lon1']
        for item in extra:
            args += ['-e', item]
        if check:
            args.append('--check')
        if diff:
            args.append('--diff')
        proc = run_playbook(str(path), *args, json_output=True, timeout=600)
        data = json.loads(proc.stdout) if proc.stdout.strip().startswith('{') else None
        if data is None:
            raise AssertionError('ansible-playbook gave no JSON: %s %s' % (proc.stdout[-3000:], proc.stderr[-3000:]))
        tasks = dict((t['task']['name'], t['hosts'].get('localhost', {})) for p in data['plays'] for t in p['tasks'])
        return proc, tasks, data['stats']['localhost']
    return run


def test_check_then_create_then_idempotent(play, do_sim):
    proc, tasks, stats = play(check=True, diff=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert tasks['key']['changed'] and tasks['key']['fingerprint'] is None
    assert tasks['droplets']['changed'] and len(tasks['droplets']['plan']['create']) == 3
    # check mode created nothing
    assert sim_get(do_sim, '/v2/droplets')['droplets'] == []
    assert sim_get(do_sim, '/v2/account/keys')['ssh_keys'] == []

    proc, tasks, stats = play()
    assert proc.returncode == 0, proc.stdout[-3000:]
    droplets = tasks['droplets']['droplets']
    assert [d['name'] for d in droplets] == ['u1-myapp-prod-api-lon1-%d' % i for i in (1, 2, 3)]
    assert all(d['status'] == 'active' and d['public_ip'] and d['private_ip'] for d in droplets)
    assert all(d['vpc_uuid'] == tasks['vpc']['id'] for d in droplets)
    assert tasks['key']['id'] and os.path.exists(tasks['key']['private_key_path'])
    fw = sim_get(do_sim, '/v2/firewalls')['firewalls']
    assert [f['name'] for f in fw] == ['fleet-u1-myapp-prod'] and fw[0]['tags'] == ['fleet-env:u1_myapp_prod']

    proc, tasks, stats = play()
    assert proc.returncode == 0 and stats['changed'] == 0, json.dumps(tasks)[:3000]

    proc, tasks, stats = play(check=True)
    assert proc.returncode == 0 and stats['changed'] == 0


def test_firewall_update_in_place(play, do_sim):
    before = sim_get(do_sim, '/v2/firewalls')['firewalls'][0]['id']
    proc, tasks, stats = play('{"controllers": ["198.51.100.0/24"]}', diff=True)
    assert proc.returncode == 0 and tasks['firewall']['changed']
    fw = sim_get(do_sim, '/v2/firewalls')['firewalls']
    assert [f['id'] for f in fw] == [before]
    ssh = [r for r in fw[0]['inbound_rules'] if r.get('ports') == '22']
    assert ssh[0]['sources']['addresses'] == ['198.51.100.0/24']
    proc, tasks, stats = play('{"controllers": ["198.51.100.0/24"]}')
    assert stats['changed'] == 0


def test_surplus_tagged_then_removed(play, do_sim):
    proc, tasks, stats = play('count=1')
    assert proc.returncode == 0 and tasks['droplets']['changed']
    assert [d['name'] for d in tasks['droplets']['surplus']] == ['u1-myapp-prod-api-lon1-3', 'u1-myapp-prod-api-lon1-2']
    tagged = [d['name'] for d in sim_get(do_sim, '/v2/droplets?tag_name=fleet-surplus')['droplets']]
    assert sorted(tagged) == ['u1-myapp-prod-api-lon1-2', 'u1-myapp-prod-api-lon1-3']
    proc, tasks, stats = play('count=1')
    assert proc.returncode == 0 and not tasks['droplets']['changed']
    proc, tasks, stats = play('count=1', 'remove_surplus=true')
    assert proc.returncode == 0
    assert tasks['droplets']['plan']['destroy'] == ['u1-myapp-prod-api-lon1-3', 'u1-myapp-prod-api-lon1-2']
    names = [d['name'] for d in sim_get(do_sim, '/v2/droplets?tag_name=fleet-service:u1_myapp_prod_api')['droplets']]
    assert names == ['u1-myapp-prod-api-lon1-1']


def test_rate_limit_is_waited_out(play, do_sim):
    sim_post(do_sim, '/_sim/faults', {'rate_limit_next': 2, 'retry_after': 1})
    proc, tasks, stats = play('count=2')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert len(tasks['droplets']['droplets']) == 2


def test_server_error_on_create_is_one_clear_line_and_a_rerun_recovers(play, do_sim):
    sim_post(do_sim, '/_sim/faults', {'fail_next_create': 1})
    proc, tasks, stats = play('service=worker', 'count=1')
    assert proc.returncode != 0
    msg = tasks['droplets']['msg']
    assert msg.startswith('DigitalOcean API: create droplets u1-myapp-prod-worker-lon1-1 failed: HTTP 500')
    assert 'fix: DigitalOcean failed on its side' in msg and '\n' not in msg
    proc, tasks, stats = play('service=worker', 'count=1')
    assert proc.returncode == 0 and len(tasks['droplets']['droplets']) == 1


def test_bad_token_says_check_api_token(play):
    proc, tasks, stats = play(token='wrong-token')
    assert proc.returncode != 0
    assert 'HTTP 401' in tasks['key']['msg'] and 'fix: check api_token' in tasks['key']['msg']
    assert 'wrong-token' not in proc.stdout


def test_teardown(play, do_sim):
    proc, tasks, stats = play('droplet_state=absent', 'fw_state=absent', 'service=')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert sim_get(do_sim, '/v2/droplets?tag_name=fleet-env:u1_myapp_prod')['droplets'] == []
    assert sim_get(do_sim, '/v2/firewalls')['firewalls'] == []
    proc, tasks, stats = play('key_state=absent')
    assert proc.returncode == 0 and tasks['key']['changed']
    assert sim_get(do_sim, '/v2/account/keys')['ssh_keys'] == []
