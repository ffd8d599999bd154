# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A dead server replaced by heal.yml (issue 16, stage 2), on simulated DigitalOcean droplets.

Three droplets of the DigitalOcean simulator (real hosts: tests/world/host.sh) run one web service behind their
edges, with the health agent and monitor on each. One droplet's host goes down abruptly (the API still says
active, as when a hypervisor dies): its two peers judge it dead within minutes, the leader mails once, heal.yml on
the controller fences it, creates its replacement under the same name, deploys there and over the others, and
destroys the dead droplet; the other servers' edges fail no request meanwhile, and the leader mails the resolve.
"""

from __future__ import annotations

import subprocess

import pytest

import do_cloud
from heal_world import web_on_droplets
from health_world import HOST_SH, NGINX, MailSink, free_port, open_ports, wait_for
from helpers import SteadyLoad, run_playbook

pytestmark = pytest.mark.usefixtures('world')


@pytest.fixture(scope='module')
def sink():
    mails = MailSink(free_port()).start()
    yield mails
    mails.stop()


@pytest.fixture(scope='module')
def cloud_with_images(tmp_path_factory, world, sink):  # pylint: disable=unused-argument,redefined-outer-name
    """The simulator whose new droplets have the nginx stand-in (as a real one pulls it) and reach the mail sink."""
    with open_ports(sink.port):
        started = do_cloud.start(str(tmp_path_factory.mktemp('do_sim_heal')), images=[NGINX])
    yield started
    do_cloud.stop(started)


def test_a_dead_server_is_replaced_and_nothing_fails(cloud_with_images, sink, tmp_path):  # pylint: disable=redefined-outer-name
    web = web_on_droplets(cloud_with_images, sink, tmp_path)
    user, domain, run, env, controller = web.user, web.domain, web.run, web.env, web.controller
    droplets, verdict = web.droplets, web.verdict
    before = droplets()
    assert len(before) == 3
    dead, (alive_a, alive_b) = before[2], before[:2]

    with SteadyLoad(alive_a['public_ip'], domain, rate=10) as load_a, \
            SteadyLoad(alive_b['public_ip'], domain, rate=10) as load_b:
        # the droplet's machine dies: no shutdown, its network gone at once; DigitalOcean still lists it active
        lost = subprocess.run(['bash', HOST_SH, 'down', dead['host'], '--abrupt', '--keep-data'],
                              capture_output=True, text=True, timeout=180, check=False)
        assert lost.returncode == 0, lost.stdout + lost.stderr
        wait_for('the majority judging %s dead' % dead['name'],
                 lambda: all(dead['private_ip'] in verdict(d).get('dead', []) for d in (alive_a, alive_b)),
                 300, step=10)
        wait_for('the incident mail', lambda: [s for s in sink.subjects() if 'INCIDENT' in s], 60)
        proc = run_playbook('playbooks/heal.yml', *run, env=env, timeout=1500)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-8000:]
        assert 'heal: replace %s' % dead['name'] in out, out[-6000:]
        after = droplets()
        names = [d['name'] for d in after]
        assert names == [d['name'] for d in before], names            # the replacement took the dead one's name
        new = [d for d in after if d['id'] not in set(b['id'] for b in before)]
        assert len(new) == 1 and new[0]['name'] == dead['name'] and new[0]['status'] == 'active', after
        assert dead['id'] not in [d['id'] for d in after]               # the dead droplet is destroyed
        # the replacement serves through its own edge, and the others route to it
        wait_for('the replacement serving', lambda: web.answer(new[0]['public_ip']) == 200, 60)
        wait_for('the resolve mail', lambda: [s for s in sink.subjects() if 'RESOLVED' in s], 240, step=2)
    assert load_a.failed == 0 and load_b.failed == 0, (load_a.summary(), load_b.summary())
    subjects = sink.subjects()
    incident = [s for s in subjects if 'INCIDENT' in s]
    resolved = [s for s in subjects if 'RESOLVED' in s]
    assert len(incident) == 1 and 'server %s' % dead['name'] in incident[0] and 'is down' in incident[0], subjects
    assert len(resolved) == 1 and dead['name'] in resolved[0], subjects
    # a second run: every server alive, nothing to do
    proc = run_playbook('playbooks/heal.yml', *run, env=env, timeout=900)
    assert proc.returncode == 0 and 'heal: none' in proc.stdout, (proc.stdout + proc.stderr)[-4000:]
    history = (controller / user / 'site' / 'prod' / 'monitoring' / 'health' / 'heal_history.jsonl').read_text()
    assert '"outcome": "replaced"' in history
