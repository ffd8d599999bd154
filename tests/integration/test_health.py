# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Health monitoring and self-healing on two simulated servers (issue 16, stage 1: a server heals its own).

Two simulated hosts (tests/world/host.sh: own network namespace, dockerd, sshd, cron, and a small supervisor
that runs the fleet's systemd units) on the public bridge and a private bridge of their own (the VPC). One
web service (the nginx stand-in) runs on both behind their edges; a second service on host a crashes at start
whenever a flag file is in its mounted directory. The health agent runs on each host's VPC address; a real
SMTP server (aiosmtpd) on this machine takes the alert mails. The tests run in order and share the deploy.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import yaml

from agent_requests import requests_in
from health_world import NGINX, health_world, wait_for
from helpers import SteadyLoad, run_playbook
from sim_hosts import LOG_DIR

pytestmark = pytest.mark.usefixtures('world')


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    with health_world(tmp_path_factory.mktemp('health')) as world:
        yield world


def test_agent_listens_on_the_vpc_address_only_and_refuses_bad_requests(fleet):
    # nothing listens on 9999 but the VPC address; the public address refuses the connection (the test world's
    # stand-in for systemd starts the unit within a second of the deploy, as systemd would at the role's request)
    def listening():
        return [word for word in subprocess.run(
            ['ip', 'netns', 'exec', fleet.hosts['a'].netns, 'ss', '-ltnH', 'sport = :9999'],
            capture_output=True, text=True, check=True, timeout=30).stdout.split() if word.endswith(':9999')]
    assert wait_for('the agent listening on host a', listening, 30) == ['%s:9999' % fleet.private['a']]
    assert fleet.ask('a', {'key': fleet.key(), 'tenant': '%s/site/prod' % fleet.user})[0][0] == 200
    status, answer = requests_in(fleet.hosts['b'].netns, fleet.public['a'], 9999, [{'unsigned': True}])[0]
    assert status is None and 'refused' in answer['error'], answer

    # a second env of the same user on host a is another tenant, with its own key
    uat_web = dict(fleet.spec()['services']['web'], domain='uat.%s.localhost' % fleet.user)
    fleet.deploy('-e', json.dumps({'fleet_host_services': ['web']}), spec=dict(fleet.spec(), services={'web': uat_web}),
                 env='uat')
    good = {'key': fleet.key(), 'tenant': '%s/site/prod' % fleet.user}
    restart = dict(good, method='POST', path='/restart', epoch=1)
    fleet.ssh('a', 'docker run -d --name %s_ghost --entrypoint sleep %s 600' % (fleet.prefix, NGINX))
    ghost_before = fleet.ssh('a', "docker inspect -f '{{.State.StartedAt}}' %s_ghost" % fleet.prefix)
    uat_before = fleet.container('a', 'web', env='uat')
    answers = fleet.ask(
        'a',
        good,
        {'unsigned': True},
        dict(good, key='not-the-key'),
        dict(good, stale=True),
        dict(good, path='/view'),
        {'replay': True, 'path': '/view'},
        dict(good, tenant='%s/site/uat' % fleet.user),          # prod's key does not sign for uat
        dict(restart, body={'service': '../../etc'}),
        dict(restart, body={'service': 'ghost'}),                # an unlabelled container named like the tenant's
        dict(restart, body={'service': 'web'}, epoch=None),      # a healing request needs the leader's epoch
        dict(restart, body={'service': 'web'}, epoch=5),
        dict(restart, body={'service': 'web'}, epoch=4),         # an older leader's epoch
    )
    statuses = [a[0] for a in answers]
    assert statuses == [200, 401, 401, 401, 200, 401, 401, 400, 404, 409, 200, 409], answers
    reasons = [a[1].get('error') for a in answers[1:4]] + [answers[5][1].get('error'), answers[6][1].get('error')]
    assert reasons[0] == 'unsigned' and reasons[1] == 'bad signature' and reasons[2].startswith('stale timestamp')
    assert reasons[3] == 'replayed nonce' and reasons[4] == 'bad signature', reasons
    assert answers[10][1]['action'] == 'restart' and answers[10][1]['ok'], answers[10]
    # only prod's web was restarted: the ghost and uat's web were not touched
    assert fleet.ssh('a', "docker inspect -f '{{.State.StartedAt}}' %s_ghost" % fleet.prefix) == ghost_before
    assert fleet.container('a', 'web', env='uat')['started'] == uat_before['started']
    # the refusals are logged with the tenant they named
    refused = fleet.ssh('a', 'cat /local/%s/site/prod/monitoring/health/refused.jsonl' % fleet.user)
    logged = [json.loads(line)['reason'] for line in refused.splitlines()]
    assert 'bad signature' in logged and 'replayed nonce' in logged and any(r.startswith('stale') for r in logged)
    fleet.ssh('a', 'docker rm -f %s_ghost' % fleet.prefix)


def test_killed_or_removed_replica_serves_again_within_seconds(fleet):
    assert fleet.serving('a', 'web') == 200
    with SteadyLoad(fleet.public['b'], fleet.domain, rate=20) as load:
        before = fleet.container('a', 'web')
        killed_at = time.monotonic()
        fleet.ssh('a', 'docker kill %s' % fleet.prefix + '_web')
        wait_for('the killed web replica serving again', lambda: fleet.serving('a', 'web') == 200, 15)
        back_after = time.monotonic() - killed_at
        after = fleet.container('a', 'web')
        assert after['id'] == before['id'] and after['started'] != before['started']   # started again
        removed_at = time.monotonic()
        fleet.ssh('a', 'docker rm -f %s' % fleet.prefix + '_web')
        wait_for('the removed web replica recreated and serving', lambda: fleet.serving('a', 'web') == 200, 15)
        recreated_after = time.monotonic() - removed_at
        time.sleep(2)
    recreated = fleet.container('a', 'web')
    assert recreated['id'] != before['id']
    # the deploy's own container again: same name, labels and host port (the mesh routes to it unchanged)
    labels = json.loads(fleet.ssh('a', "docker inspect -f '{{json .Config.Labels}}' %s" % recreated['id']))
    assert labels['fleet.user'] == fleet.user and labels['fleet.service'] == 'web' and labels['fleet.slot'] == 'primary'
    assert load.failed == 0 and load.total > 50, load.summary()
    actions = [(a['service'], a['action'], a['ok']) for a in fleet.actions('a')]
    assert ('web', 'start', True) in actions and ('web', 'recreate', True) in actions, actions
    assert fleet.sink.subjects() == []        # healed by itself: no incident, no mail
    print('killed: serving again after %.1f s; removed: serving again after %.1f s' % (back_after, recreated_after))


def test_crash_at_start_stops_after_the_budget_with_one_mail_and_one_resolve(fleet):
    fleet.sink.stop()   # the mail sink is down: healing goes on, the mail comes when it is back
    fleet.ssh('a', 'mkdir -p /local/%s/site/prod/files/flags && touch /local/%s/site/prod/files/flags/crash'
              % (fleet.user, fleet.user))
    fleet.ssh('a', 'docker kill %s' % fleet.prefix + '_flaky')
    state = wait_for('flaky marked failed after its restart budget',
                     lambda: (fleet.heal_state('a').get('flaky') or {}).get('failed') and fleet.heal_state('a')['flaky'],
                     120, step=1)
    assert len(state['restarts']) >= 5, state
    time.sleep(3)
    assert fleet.container('a', 'flaky')['status'] == 'exited'   # stopped, and nobody starts it again
    fleet.sink.start()
    wait_for('the incident mail', fleet.sink.subjects, 60)
    time.sleep(4)
    subjects = fleet.sink.subjects()
    assert len(subjects) == 1 and subjects[0].startswith('[fleet %s/site/prod] INCIDENT: flaky on a' % fleet.user), subjects
    assert 'stopped restarting it' in subjects[0]
    # a good deploy: the flag gone and a new configuration; the incident resolves with one mail
    fleet.ssh('a', 'rm -f /local/%s/site/prod/files/flags/crash' % fleet.user)
    fleet.deploy('-e', 'fleet_service=flaky', spec=fleet.spec(flaky_env={'FIX': '1'}))
    wait_for('the resolve mail', lambda: len(fleet.sink.subjects()) == 2, 60)
    time.sleep(4)
    subjects = fleet.sink.subjects()
    assert len(subjects) == 2 and subjects[1].startswith('[fleet %s/site/prod] RESOLVED: flaky on a' % fleet.user), subjects
    assert fleet.serving('a', 'flaky') == 200


def test_monitor_alone_heals_within_75_seconds(fleet):
    # the agent without events and rounds: only the every-minute monitor (cron, in the host) heals
    units_log = os.path.join(LOG_DIR, 'host-%s-units.log' % fleet.hosts['a'].name)
    restarts_before = open(units_log).read().count('unit changed, restarting')
    fleet.deploy('-e', 'fleet_agent_events=false', '-e', 'fleet_agent_sweep_seconds=0',
                 spec=fleet.spec(flaky_env={'FIX': '1'}))
    wait_for('the agent restarted with its new settings',
             lambda: open(units_log).read().count('unit changed, restarting') > restarts_before, 15)
    before = fleet.container('a', 'web')
    removed_at = time.monotonic()
    fleet.ssh('a', 'docker rm -f %s' % fleet.prefix + '_web')
    time.sleep(5)
    assert fleet.container('a', 'web') is None   # the agent did not act on the removal
    wait_for('the monitor recreated web', lambda: fleet.serving('a', 'web') == 200, 75, step=1)
    print('monitor alone: serving again after %.1f s' % (time.monotonic() - removed_at))
    assert fleet.container('a', 'web')['id'] != before['id']
    status = json.loads(fleet.ssh('a', 'cat /local/%s/site/prod/monitoring/health/status.json' % fleet.user))
    assert status['verdict']['dead'] == [] and sorted(status['verdict']['alive']) == sorted(fleet.private.values())
    assert status['verdict']['leader'] == min(fleet.private.values(), key=lambda a: [int(x) for x in a.split('.')])
    # check_health.yml and health_status.yml: one block per server, all healthy
    spec_path = fleet.tmp / 'spec-status.yml'
    spec_path.write_text(yaml.safe_dump(fleet.spec(flaky_env={'FIX': '1'})))
    for playbook in ('playbooks/check_health.yml', 'playbooks/health_status.yml'):
        proc = run_playbook(playbook, *(fleet.args + ['-e', '@%s' % spec_path, '-e', 'fleet_env=prod']), timeout=300)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-6000:]
        assert 'a: agent ' in out and 'b: agent ' in out, out[-6000:]
    assert 'FAILING' not in out and 'NO ANSWER' not in out
