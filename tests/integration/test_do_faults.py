# SPDX-License-Identifier: GPL-3.0-or-later
"""provision.yml and deploy.yml when DigitalOcean misbehaves, on the simulator whose droplets are
real hosts; every test ends with the next run converging.

- A burst of 429s (with ``Retry-After`` and ``ratelimit-reset``, as DigitalOcean sends them) on a
  droplet create: longer than the retry budget, the run fails with one line naming the 429 and the
  fix; within it, the run succeeds (the next run converging); either way every droplet exists exactly
  once. (A run after a converged one changes nothing: test_provision's; left out here for the CI's time.)
- A droplet that never becomes active: the run fails naming it and the timeout, the other
  service's droplet is fine, and the next run replaces the stuck droplet.
- A droplet destroyed in the middle of a deploy: that server is reported unreachable, the other
  one keeps serving through its edge; provision.yml recreates the droplet and deploy.yml
  converges.

The simulator's faults (POST /_sim/faults) apply to the next requests, whatever they are; to aim a
fault at one request, a thread follows the simulator's access log and arms the fault when the
request before it is seen (``LogTrigger``).
"""
import json
import os
import random
import re
import ssl
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from do_cloud import sim_state
from helpers import REPO, ansible_env, run_playbook

pytestmark = pytest.mark.usefixtures('world')

FLASK = os.path.join(REPO, 'tests', 'fixtures', 'apps', 'flask_api')
HOST_SH = os.path.join(REPO, 'tests', 'world', 'host.sh')
ENV = {'ANSIBLE_HOST_KEY_CHECKING': 'False'}
NO_FAULTS = {'rate_limit_next': 0, 'retry_after': 1, 'never_active': [], 'delay_seconds': 0, 'fail_next_create': 0}


# ---------------------------------------------------------------------------------------------- helpers

def api(cloud, method, path, body=None):
    """One request to the simulator (API or control endpoint); (status, JSON body or None)."""
    ctx = ssl.create_default_context(cafile=cloud['ca'])
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(cloud['url'] + path, data=data, method=method,
                                 headers={'Authorization': 'Bearer %s' % cloud['token'],
                                          'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        return exc.code, None


def set_faults(cloud, **faults):
    status, body = api(cloud, 'POST', '/_sim/faults', faults)
    assert status == 200, (status, body)
    return body


def failures(output):
    """``[(host, result)]`` of every ``fatal:``/``failed:`` block of a run (the yaml result format)."""
    lines = output.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = re.match(r'^(?:fatal|failed): \[([^\]]+)\].*=>\s*(.*)$', line)
        if not m:
            continue
        block = [m.group(2)] if m.group(2).strip() and '=' not in m.group(2) else []
        for following in lines[i + 1:]:
            if not following.startswith('    '):
                break
            block.append(following[4:])
        result = yaml.safe_load('\n'.join(block)) if block else {}
        found.append((m.group(1), result if isinstance(result, dict) else {'msg': result}))
    return found


def access_log(cloud, since=0):
    """The simulator's access log lines (``POST /v2/droplets -> 202 (3 ms)``), from line ``since``."""
    with open(os.path.join(cloud['dir'], 'sim.log'), encoding='utf-8', errors='replace') as handle:
        return [line.split('do_sim.http: ', 1)[1].strip() for line in handle if 'do_sim.http: ' in line][since:]


def count(log, prefix):
    return len([line for line in log if line.startswith(prefix)])


class LogTrigger(threading.Thread):
    """Follows the simulator's access log; on the first line (after now) matching each pattern in
    turn, sets that step's faults. ``fired`` lists the patterns that fired."""

    def __init__(self, cloud, steps, timeout=600):
        super().__init__(daemon=True)
        self.cloud = cloud
        self.steps = list(steps)
        self.fired = []
        self.deadline = time.monotonic() + timeout
        self.stopping = threading.Event()
        self.path = os.path.join(cloud['dir'], 'sim.log')
        self.offset = os.path.getsize(self.path)

    def run(self):
        pending = ''
        with open(self.path, encoding='utf-8', errors='replace') as handle:
            handle.seek(self.offset)
            while self.steps and not self.stopping.is_set() and time.monotonic() < self.deadline:
                chunk = handle.read()
                if not chunk:
                    time.sleep(0.02)
                    continue
                pending += chunk
                *lines, pending = pending.split('\n')
                for line in lines:
                    if self.steps and re.search(self.steps[0][0], line):
                        pattern, faults = self.steps.pop(0)
                        set_faults(self.cloud, **faults)
                        self.fired.append(pattern)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.join(10)


class Project:
    """One project environment of a random user on the simulator: its spec and playbook arguments."""

    def __init__(self, cloud, tmp_path, project, services):
        self.cloud = cloud
        self.user = random.choice(string.ascii_lowercase) + ''.join(
            random.choice(string.ascii_lowercase) for dummy in range(6))
        self.project = project
        self.env = 'prod'
        self.tmp = tmp_path
        self.controller = tmp_path / 'ctl'
        self.spec_path = tmp_path / 'spec.yml'
        self.write_spec(services(self.user) if callable(services) else services)
        self.common = ['-e', '@%s' % self.spec_path, '-e', 'fleet_env=%s' % self.env,
                       '-e', 'fleet_controller_root=%s' % self.controller,
                       '-e', 'fleet_do_endpoint=%s' % cloud['url'], '-e', 'fleet_do_ca_bundle=%s' % cloud['ca'],
                       '-e', json.dumps({'fleet_do_token': cloud['token'],
                                         'fleet_controller_addresses': ['10.250.0.1/32']})]

    def write_spec(self, services):
        self.spec_path.write_text(yaml.safe_dump({'fleet_user': self.user, 'fleet_project': self.project,
                                                  'docker_hub_user': '', 'fleet_version': '1', 'services': services}))

    @property
    def prefix(self):
        return '%s-%s-%s-' % (self.user, self.project, self.env)

    def name(self, service, zone, index=1):
        return '%s%s-%s-%d' % (self.prefix, service, zone, index)

    def tag(self, service):
        return 'fleet-service%%3A%s_%s_%s_%s' % (self.user, self.project, self.env, service)

    def provision(self, *extra, timeout=900):
        # the simulated droplets share this machine's files, where interpreter discovery finds a pyenv shim
        return run_playbook('playbooks/provision.yml', *self.common, '-e', 'fleet_droplet_python=/usr/bin/python3',
                            *extra, env=ENV, timeout=timeout)

    def droplets(self):
        """This project's droplets in the simulator, by name (a name twice is a duplicate)."""
        return [d for d in sim_state(self.cloud)['droplets'] if d['name'].startswith(self.prefix)]

    def destroy(self):
        """destroy.yml; whatever it leaves is destroyed through the API (by the env's tag)."""
        gone = run_playbook('playbooks/destroy.yml', *self.common,
                            '-e', 'fleet_confirm=%s/%s/%s' % (self.user, self.project, self.env), timeout=600)
        if self.droplets():
            api(self.cloud, 'DELETE', '/v2/droplets?tag_name=fleet-env%%3A%s_%s_%s' % (
                self.user, self.project, self.env))
        api(self.cloud, 'POST', '/_sim/wait_idle', {'timeout': 120})
        return gone


@pytest.fixture
def projects(cloud, tmp_path):
    """Makes Projects; every one is destroyed at the end, and the faults are cleared before and after."""
    set_faults(cloud, **NO_FAULTS)
    made = []

    def make(project, services):
        where = tmp_path / str(len(made))
        where.mkdir()
        made.append(Project(cloud, where, project, services))
        return made[-1]
    yield make
    set_faults(cloud, **NO_FAULTS)
    for project in made:
        project.destroy()
    for project in made:
        assert not project.droplets(), 'droplets left: %s' % [d['name'] for d in project.droplets()]


def assert_one_clear_line(out, *needles):
    """The run failed with exactly one failure whose message is one line holding every needle."""
    assert 'Traceback' not in out, out[-6000:]
    found = failures(out)
    assert len(found) == 1, (found, out[-6000:])
    msg = found[0][1].get('msg')
    assert isinstance(msg, str) and '\n' not in msg, found
    for needle in needles:
        assert needle in msg, (needle, msg)
    return msg


# ---------------------------------------------------------------------------------------------- tests

def test_rate_limit_burst_on_droplet_create(projects, cloud):
    """429s on a droplet create: past the retry budget the run fails with one line, within it the
    run succeeds; the droplets exist exactly once, and the next run changes nothing."""
    fleet = projects('burst', {
        'postgres': {'type': 'postgres', 'version': '15', 'server_zone': 'lon1'},
        'api': {'type': 'python', 'build_context': FLASK, 'command': 'python -u app.py', 'port': 8000,
                'server_zone': 'lon1'}})
    names = sorted([fleet.name('api', 'lon1'), fleet.name('postgres', 'lon1')])

    # provision.yml makes the droplets service by service in name order: api, then postgres.
    # Past the budget: 2 tries (fleet_do_retry_max_attempts) against 5 429s on the second create.
    # The simulator answers every request 1.5 s late from the VPC lookup on, so that the fault is
    # armed (when the second service's droplet list is seen) before its create is answered.
    started, mark = time.monotonic(), len(access_log(cloud))
    with LogTrigger(cloud, [(r'GET /v2/vpcs', {'delay_seconds': 1.5}),
                            (r'GET /v2/droplets\?.*tag_name=%s ' % fleet.tag('postgres'),
                             {'rate_limit_next': 5, 'retry_after': 1, 'delay_seconds': 0})]) as trigger:
        proc = fleet.provision('-e', 'fleet_do_retry_max_attempts=2')
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-6000:]
    assert len(trigger.fired) == 2, (trigger.fired, out[-6000:])
    msg = assert_one_clear_line(out, 'create droplets %s failed: HTTP 429' % fleet.name('postgres', 'lon1'),
                                '[after 2 attempts', 'fix:', 'rate limit', 'fleet_do_retry_max_attempts')
    print('past the budget: %.0f s: %s' % (time.monotonic() - started, msg))
    assert cloud['token'] not in out
    assert [d['name'] for d in fleet.droplets()] == [fleet.name('api', 'lon1')]
    log = access_log(cloud, mark)
    assert count(log, 'POST /v2/droplets -> 429') == 2 and count(log, 'POST /v2/droplets -> 202') == 1, log
    set_faults(cloud, rate_limit_next=0)

    # Within the budget (5 tries): 3 429s on the first request of the run and 3 on the missing create.
    started, mark = time.monotonic(), len(access_log(cloud))
    set_faults(cloud, rate_limit_next=3, retry_after=1)
    with LogTrigger(cloud, [(r'GET /v2/vpcs', {'delay_seconds': 1.5}),
                            (r'GET /v2/droplets\?.*tag_name=%s ' % fleet.tag('postgres'),
                             {'rate_limit_next': 3, 'delay_seconds': 0})]) as trigger:
        proc = fleet.provision()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert len(trigger.fired) == 2, trigger.fired
    print('within the budget: %.0f s' % (time.monotonic() - started))
    log = access_log(cloud, mark)
    assert count(log, 'GET /v2/account/keys') == 4, log             # the first request: 3 429s, then 200
    assert count(log, 'GET /v2/account/keys?per_page=200&page=1 -> 429') == 3, log
    assert count(log, 'POST /v2/droplets -> 429') == 3 and count(log, 'POST /v2/droplets -> 202') == 1, log
    droplets = fleet.droplets()
    assert sorted(d['name'] for d in droplets) == names          # exactly once each
    assert all(d['status'] == 'active' for d in droplets), droplets


def test_droplet_that_never_becomes_active(projects, cloud):
    """A droplet stays new: the run fails naming it and the timeout, the other service's droplet is
    fine, and the next run (fault gone) replaces the stuck droplet and converges."""
    fleet = projects('stuck', {
        'postgres': {'type': 'postgres', 'version': '15', 'server_zone': 'lon1'},
        'api': {'type': 'python', 'build_context': FLASK, 'command': 'python -u app.py', 'port': 8000,
                'server_zone': 'lon1'}})
    stuck, other = fleet.name('api', 'lon1'), fleet.name('postgres', 'lon1')
    wait = ('-e', 'fleet_droplet_wait=30')

    started = time.monotonic()
    set_faults(cloud, never_active=[stuck])
    proc = fleet.provision(*wait)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-6000:]
    msg = assert_one_clear_line(out, 'did not finish within 30 s: %s (new, no address yet)' % stuck, 'fix: run again',
                                'fleet_droplet_wait')
    print('stuck: %.0f s: %s' % (time.monotonic() - started, msg))
    before = dict((d['name'], d) for d in fleet.droplets())
    assert sorted(before) == sorted([stuck, other])
    assert before[stuck]['status'] == 'new' and before[other]['status'] == 'active'

    # the fault is gone, the droplet is not: the next run replaces it (it never booted) and keeps the other
    started = time.monotonic()
    set_faults(cloud, never_active=[])
    proc = fleet.provision(*wait)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert re.search(r'droplet %s \(%d\) is still new \d+ s after its creation' % (stuck, before[stuck]['id']),
                     ' '.join(out.split())), out[-6000:]
    after = dict((d['name'], d) for d in fleet.droplets())
    assert len(fleet.droplets()) == 2 and sorted(after) == sorted([stuck, other])
    assert after[other]['id'] == before[other]['id'] and after[stuck]['id'] != before[stuck]['id']
    assert all(d['status'] == 'active' for d in after.values()), after
    print('replaced: %.0f s' % (time.monotonic() - started))


def run_watching(playbook, args, on_line, timeout):
    """ansible-playbook with its output read as it comes: ``on_line(line)`` for each line; the
    CompletedProcess-like (returncode, stdout) at the end (killed after ``timeout`` seconds)."""
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), playbook] + list(args)
    proc = subprocess.Popen(cmd, cwd=REPO, env=ansible_env(**ENV), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, stdin=subprocess.DEVNULL)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            on_line(line)
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, ''.join(lines), '')


def edge_get(droplet, domain):
    req = urllib.request.Request('http://%s/' % droplet['public_ip'], headers={'Host': domain})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


class EdgeProbe(threading.Thread):
    """GETs through a droplet's edge every half second until stopped; counts what did not answer 200."""

    def __init__(self, droplet, domain):
        super().__init__(daemon=True)
        self.droplet, self.domain = droplet, domain
        self.ok, self.failed = 0, []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(0.5):
            try:
                status, body = edge_get(self.droplet, self.domain)
                assert status == 200 and body['service'] == 'flask_api', (status, body)
                self.ok += 1
            except Exception as exc:  # noqa: BLE001 - counted, reported by the test
                self.failed.append('%s: %s' % (time.strftime('%H:%M:%S'), exc))


def test_droplet_destroyed_during_a_deploy(projects, cloud):
    """Two API droplets; one is destroyed while a deploy runs: that server is reported unreachable,
    the other keeps serving through its edge; provision.yml recreates the droplet and deploy.yml
    converges."""
    def services(user, greeting='one'):
        return {'api': {'type': 'python', 'build_context': FLASK, 'command': 'python -u app.py', 'port': 8000,
                        'health_path': '/health', 'domain': 'api.%s.localhost' % user, 'server_zone': 'lon1',
                        'servers_count': 2, 'env_vars': {'GREETING': greeting}}}
    fleet = projects('gone', services)
    domain = 'api.%s.localhost' % fleet.user
    first, second = fleet.name('api', 'lon1', 1), fleet.name('api', 'lon1', 2)
    times = {}

    def provisioned():
        started = time.monotonic()
        proc = fleet.provision()
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
        droplets = dict((d['name'], d) for d in fleet.droplets())
        assert sorted(droplets) == [first, second] and all(d['status'] == 'active' for d in droplets.values())
        for droplet in droplets.values():      # what a real droplet pulls from Docker Hub
            load = subprocess.run(['bash', HOST_SH, 'load-images', droplet['host'], 'fleet-world/nginx:1.22'],
                                  capture_output=True, text=True, timeout=900, check=False)
            assert load.returncode == 0, load.stdout[-2000:] + load.stderr[-2000:]
        times.setdefault('provision', []).append(round(time.monotonic() - started))
        return droplets

    droplets = provisioned()
    config = fleet.tmp / 'cloud.droplets.yml'
    config.write_text(yaml.safe_dump({'plugin': 'projectdeployer.fleet.droplets', 'api_endpoint': cloud['url'],
                                      'ca_bundle': cloud['ca'], 'api_token': cloud['token'], 'user': fleet.user}))
    deploy = ['-i', str(config), '-e', 'fleet_hosts=fleet_%s_%s_prod' % (fleet.user, fleet.project),
              '-e', '@tests/world/images.yml', '-e', 'ansible_user=root',
              '-e', 'ansible_ssh_private_key_file=%s' % (fleet.controller / fleet.user / '.ssh' / 'fleet_ed25519'),
              # the simulated droplets share this machine's files: the venv's Python has the Docker SDK
              '-e', 'ansible_python_interpreter=%s' % sys.executable,
              '-e', 'fleet_build_root=%s' % (fleet.tmp / 'build'),
              '-e', json.dumps({'fleet_health_overrides': {'interval': 1, 'retries': 60}}),
              '-e', 'fleet_drain_seconds=1'] + fleet.common
    image = '%s_%s_prod_api:1' % (fleet.user, fleet.project)
    try:
        started = time.monotonic()
        proc = run_playbook('playbooks/deploy.yml', *deploy, env=ENV, timeout=1800)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
        times['deploy'] = round(time.monotonic() - started)
        for droplet in droplets.values():
            assert edge_get(droplet, domain) == (200, {'service': 'flask_api', 'ok': True}), droplet['name']

        # A new setting: the API is toggled on both servers; the second droplet is destroyed as the
        # new versions start. The first one's edge is asked every half second meanwhile.
        fleet.write_spec(services(fleet.user, 'two'))
        probe = EdgeProbe(droplets[first], domain)
        deleted = []

        def on_line(line):
            if not deleted and line.startswith('TASK [projectdeployer.fleet.deploy : Start and check the services'):
                status, _body = api(cloud, 'DELETE', '/v2/droplets/%d' % droplets[second]['id'])
                deleted.append(status)
                probe.start()
        started = time.monotonic()
        try:
            proc = run_watching('playbooks/deploy.yml', deploy, on_line, timeout=1800)
        finally:
            probe.stopping.set()
            if probe.is_alive():
                probe.join(15)
        times['deploy, a droplet destroyed'] = round(time.monotonic() - started)
        out = proc.stdout
        assert deleted == [204], (deleted, out[-6000:])
        assert proc.returncode != 0, out[-6000:]
        assert 'Traceback' not in out, out[-8000:]
        # only the destroyed server failed: unreachable over SSH (the droplet vanished at once; the
        # message is ssh's own, through ansible-core), or, caught between its tasks, a one-line error
        found = failures(out)
        assert found and set(host for host, _result in found) == {second}, (found, out[-6000:])
        for _host, result in found:
            if result.get('unreachable'):  # a loop task puts ssh's message in its items' results
                # ansible-core's two ssh messages: failing to connect, or to send the module (pipelining)
                assert any(m in str(result).lower() for m in ('via ssh', 'reached over ssh')), found
                continue
            for line in result['msg'] if isinstance(result.get('msg'), list) else [result.get('msg')]:
                assert isinstance(line, str) and line and '\n' not in line, found
        assert re.search(r'fatal: \[%s\]: (UNREACHABLE|FAILED)!' % re.escape(second), out), out[-6000:]
        print('the destroyed server: %s' % ' | '.join(sorted(set(str(r.get('msg')) for _h, r in found))))
        recap = out.split('PLAY RECAP')[-1]
        assert re.search(r'%s\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0' % re.escape(first), recap), recap
        assert re.search(r'%s\s+: .*(unreachable=1|failed=1)' % re.escape(second), recap), recap
        # the first server served all along, and serves
        assert probe.ok > 0 and not probe.failed, (probe.ok, probe.failed)
        for dummy in range(4):
            assert edge_get(droplets[first], domain) == (200, {'service': 'flask_api', 'ok': True})

        # provision.yml recreates the droplet and deploy.yml converges (a deploy's idempotence is test_deploy's and
        # test_deploy_droplets')
        kept = droplets[first]['id']
        droplets = provisioned()
        assert droplets[first]['id'] == kept
        started = time.monotonic()
        proc = run_playbook('playbooks/deploy.yml', *deploy, env=ENV, timeout=1800)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
        times['deploy after the recreate'] = round(time.monotonic() - started)
        for droplet in droplets.values():
            assert edge_get(droplet, domain) == (200, {'service': 'flask_api', 'ok': True}), droplet['name']
        print('times (s): %s' % times)
    finally:
        subprocess.run(['docker', 'rmi', '-f', image], capture_output=True, check=False)
