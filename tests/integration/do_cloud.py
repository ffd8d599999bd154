# SPDX-License-Identifier: GPL-3.0-or-later
"""Start and stop the DigitalOcean simulator with real hosts (the ``cloud`` fixture in conftest.py), read its state."""
import json
import os
import ssl
import subprocess
import time
import urllib.request

import pytest

from helpers import REPO, free_port, sim_public_range

SIM_SH = os.path.join(REPO, 'tests', 'world', 'do_sim.sh')


def start(state, images=()):
    """Start the simulator with real hosts in ``state`` (each new droplet gets ``images`` of this machine's engine
    before it is active); returns url, ca, token, dir (fails the test if it cannot)."""
    env = dict(os.environ, FLEET_DO_SIM_LOG=os.path.join(state, 'sim.log'))
    extra = ['--droplet-images', ','.join(images)] if images else []
    started = subprocess.run(['bash', SIM_SH, 'start', '--port', str(free_port()), '--state-dir', state,
                              '--', '--public-range', sim_public_range()] + extra,
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    if started.returncode != 0:
        pytest.fail('the DigitalOcean simulator did not start: %s %s' % (started.stdout[-2000:], started.stderr[-2000:]))
    facts = dict(line.split('=', 1) for line in started.stdout.splitlines() if '=' in line and line[:1].isupper())
    return dict(url=facts['DO_SIM_URL'], ca=facts['DO_SIM_CA'], token=facts['DO_SIM_TOKEN'], dir=state)


def stop(cloud):
    """Stop it: every droplet's host goes down."""
    env = dict(os.environ, FLEET_DO_SIM_LOG=os.path.join(cloud['dir'], 'sim.log'))
    subprocess.run(['bash', SIM_SH, 'stop', '--state-dir', cloud['dir']], env=env, capture_output=True, timeout=400,
                   check=False)


def _control(cloud, method, path, body=None, timeout=30):
    ctx = ssl.create_default_context(cafile=cloud['ca'])
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(cloud['url'] + path, data=data, method=method,
                                 headers={'Authorization': 'Bearer %s' % cloud['token'],
                                          'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
        return json.loads(resp.read())


def droplet_action(cloud, droplet_id, action):
    """Ask for a droplet action through the API (``power_off``, ``power_on``, ...); the action as it answers."""
    return _control(cloud, 'POST', '/v2/droplets/%d/actions' % droplet_id, {'type': action})['action']


def wait_actions(cloud, droplet_id, timeout=300):
    """Wait (bounded) until none of the droplet's actions is in progress: DigitalOcean refuses a new one meanwhile
    (422 "Droplet already has a pending event")."""
    deadline = time.monotonic() + timeout
    while True:
        found = _control(cloud, 'GET', '/v2/droplets/%d/actions?per_page=200' % droplet_id)['actions']
        pending = [a for a in found if a['status'] == 'in-progress']
        if not pending:
            return
        assert time.monotonic() < deadline, 'droplet %d: %s still in progress after %s s' % (
            droplet_id, [a['type'] for a in pending], timeout)
        time.sleep(0.5)


def faults(cloud, **body):
    """Set the simulator's faults (POST /_sim/faults merges): ``faults(cloud, errored_actions=['power_off'])``."""
    return _control(cloud, 'POST', '/_sim/faults', body)


def firewalls(cloud):
    """The firewalls as the API lists them."""
    return _control(cloud, 'GET', '/v2/firewalls?per_page=200')['firewalls']


def sim_state(cloud):
    return _control(cloud, 'GET', '/_sim/state')


def wait_idle(cloud, timeout=300):
    """Wait (bounded) until the simulator's queued host operations are over: a destroyed droplet is gone
    from the API at once, its host goes down in the background (as a real droplet's disk is wiped later)."""
    answer = _control(cloud, 'POST', '/_sim/wait_idle', {'timeout': timeout}, timeout=timeout + 30)
    assert answer['idle'], 'host operations still queued after %s s: %s' % (timeout, answer)
