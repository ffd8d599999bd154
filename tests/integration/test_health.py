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

import contextlib
import json
import os
import random
import socket
import string
import subprocess
import threading
import time

import pytest
import yaml

from agent_requests import requests_in
from helpers import REPO, SteadyLoad, host_ips, run_playbook, ssh_host_vars, ssh_keypair, worker_index
from sim_hosts import LOG_DIR, sim_host

pytestmark = pytest.mark.usefixtures('world')

NGINX = 'fleet-world/nginx:1.22'
HOST_SH = os.path.join(REPO, 'tests', 'world', 'host.sh')
GATEWAY = '10.250.0.1'
CRASHING = "bash -c 'test -e /flags/crash && { echo crash flag set >&2; exit 3; }; exec nginx -g \"daemon off;\"'"


class MailSink(object):
    """A real SMTP server (aiosmtpd) on this machine's public bridge address; counts the mails it took."""

    def __init__(self, port):
        self.port, self.mails, self.controller = port, [], None
        self.lock = threading.Lock()

    def start(self):
        from aiosmtpd.controller import Controller

        sink = self

        class Handler(object):
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
                import email
                message = email.message_from_bytes(envelope.content)
                with sink.lock:
                    sink.mails.append({'to': envelope.rcpt_tos, 'subject': message['Subject'],
                                       'body': message.get_payload(decode=True).decode('utf-8', 'replace')})
                return '250 OK'

        self.controller = Controller(Handler(), hostname=GATEWAY, port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def subjects(self):
        with self.lock:
            return [m['subject'] for m in self.mails]


def free_port():
    with socket.socket() as sock:
        sock.bind((GATEWAY, 0))
        return sock.getsockname()[1]


def wait_for(what, check, timeout, step=0.5):
    """Poll ``check()`` until it returns a true value (returned) or ``timeout`` seconds passed (AssertionError)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(step)
    raise AssertionError('%s: not within %s s (last: %r)' % (what, timeout, last))


@contextlib.contextmanager
def open_ports(*ports):
    """Hosts brought up inside the block may reach these TCP ports of this machine (host.sh's firewall)."""
    before = os.environ.get('FLEET_HOSTS_OPEN_PORTS')
    os.environ['FLEET_HOSTS_OPEN_PORTS'] = ','.join(str(p) for p in ports)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop('FLEET_HOSTS_OPEN_PORTS', None)
        else:
            os.environ['FLEET_HOSTS_OPEN_PORTS'] = before


class Fleet(object):
    """The deployed world the tests share."""

    def __init__(self, tmp, user):
        self.tmp, self.user = tmp, user
        self.prefix = '%s_site_prod' % user
        self.domain = 'web.%s.localhost' % user
        self.hosts, self.public, self.private = {}, {}, {}
        self.args = []

    def spec(self, flaky_env=None):
        web = {'image': NGINX, 'ports': [80], 'health_path': '/', 'domain': self.domain}
        flaky = {'image': NGINX, 'ports': [80], 'health_path': '/', 'command': CRASHING,
                 'volumes': {'files/flags': '/flags:ro'}, 'env_vars': flaky_env or {'FIX': '0'}}
        return {'fleet_user': self.user, 'fleet_project': 'site', 'fleet_version': '1', 'docker_hub_user': '',
                'services': {'web': web, 'flaky': flaky}}

    def deploy(self, *extra, spec=None, env='prod'):
        path = self.tmp / ('spec-%s.yml' % ''.join(random.choice(string.ascii_lowercase) for dummy in range(6)))
        path.write_text(yaml.safe_dump(spec or self.spec()))
        proc = run_playbook('playbooks/deploy.yml', *(self.args + ['-e', '@%s' % path, '-e', 'fleet_env=%s' % env]
                                                      + list(extra)), timeout=900)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]
        return proc

    def ssh(self, host, command, timeout=60):
        return self.hosts[host].ssh(command, timeout=timeout, check=True).stdout

    def container(self, host, service, env='prod'):
        """``{id, running, started}`` of the service's serving container on ``host`` (None when there is none)."""
        out = self.ssh(host, "docker ps -a --filter label=fleet.user=%s --filter label=fleet.env=%s "
                             "--filter label=fleet.service=%s --format '{{.ID}} {{.Names}}'" % (self.user, env, service))
        names = [line.split() for line in out.splitlines() if line.strip()]
        if not names:
            return None
        cid = names[0][0]
        state = json.loads(self.ssh(host, "docker inspect -f '{{json .State}}' %s" % cid))
        return {'id': cid, 'running': state['Running'], 'started': state['StartedAt'], 'status': state['Status']}

    def serving(self, host, service):
        """The HTTP status the service's serving container answers on its host port, from its host (0: none)."""
        out = self.hosts[host].ssh(
            "c=$(docker ps --filter label=fleet.user=%s --filter label=fleet.env=prod --filter label=fleet.service=%s "
            "--format '{{.ID}}' | head -n 1); [ -n \"$c\" ] || exit 0; a=$(docker port $c 80/tcp | head -n 1); "
            "curl -s -o /dev/null -m 3 -w '%%{http_code}' http://$a/" % (self.user, service), timeout=30).stdout
        return int(out.strip() or 0)

    def heal_state(self, host):
        out = self.hosts[host].ssh('cat /local/%s/site/prod/monitoring/health/heal.json' % self.user, timeout=30).stdout
        return json.loads(out or '{}')

    def actions(self, host):
        out = self.hosts[host].ssh('cat /local/%s/site/prod/monitoring/health/actions.jsonl' % self.user,
                                   timeout=30).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def key(self):
        return (self.tmp / 'controller' / self.user / 'site' / 'prod' / 'secrets' / 'health_agent.key').read_text().strip()

    def ask(self, host, *requests):
        return requests_in(self.hosts[host].netns, self.private[host], 9999, list(requests))


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('health')
    user = 'h' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    world = Fleet(tmp, user)
    key = ssh_keypair(tmp)
    ips = host_ips(2)
    bridge = 'fhv' + user[1:]
    third = 40 + 20 * worker_index() + random.randrange(20)
    world.public = {'a': ips[0], 'b': ips[1]}
    world.private = {'a': '10.251.%d.2' % third, 'b': '10.251.%d.3' % third}
    sink = MailSink(free_port()).start()
    world.sink = sink
    stack = contextlib.ExitStack()
    try:
        with open_ports(sink.port):
            for name in ('a', 'b'):
                world.hosts[name] = stack.enter_context(sim_host(
                    'fh-%s-%s' % (user, name), world.public[name], '%s.pub' % key,
                    private=('%s:%s/24' % (bridge, world.private[name]),)))
        for host in world.hosts.values():
            host.load_images(NGINX)
        common = ssh_host_vars(key)
        inventory = tmp / 'hosts.yml'
        inventory.write_text(yaml.safe_dump({'fleet_servers': {'hosts': {
            'a': dict(common, ansible_host=world.public['a'], fleet_private_ip=world.private['a'],
                      fleet_host_services=['web', 'flaky']),
            'b': dict(common, ansible_host=world.public['b'], fleet_private_ip=world.private['b'],
                      fleet_host_services=['web'])}}}))
        world.args = ['-i', str(inventory), '-e', '@tests/world/images.yml',
                      '-e', 'fleet_controller_root=%s' % (tmp / 'controller'),
                      '-e', json.dumps({'fleet_health_overrides': {'interval': 1, 'retries': 60},
                                        'fleet_heal_limits': {'backoff_start': 2},
                                        'fleet_alert_email': 'ops@example.test', 'fleet_alert_smtp_host': GATEWAY,
                                        'fleet_alert_smtp_port': sink.port, 'fleet_alert_smtp_starttls': False,
                                        'fleet_alert_group_seconds': 3}),
                      '-e', 'fleet_drain_seconds=1']
        world.deploy()
        yield world
    finally:
        stack.close()
        sink.stop()
        subprocess.run(['bash', HOST_SH, 'bridge-down', bridge], capture_output=True, timeout=120, check=False)


def test_agent_listens_on_the_vpc_address_only_and_refuses_bad_requests(fleet):
    # nothing listens on 9999 but the VPC address; the public address refuses the connection
    listening = subprocess.run(['ip', 'netns', 'exec', fleet.hosts['a'].netns, 'ss', '-ltnH', 'sport = :9999'],
                               capture_output=True, text=True, check=True, timeout=30).stdout.split()
    assert [w for w in listening if w.endswith(':9999')] == ['%s:9999' % fleet.private['a']], listening
    assert fleet.ask('a', {'key': fleet.key(), 'tenant': '%s/site/prod' % fleet.user})[0][0] == 200
    status, answer = requests_in(fleet.hosts['b'].netns, fleet.public['a'], 9999, [{'unsigned': True}])[0]
    assert status is None and 'refused' in answer['error'], answer

    # a second env of the same user on host a is another tenant, with its own key
    fleet.deploy('-e', json.dumps({'fleet_host_services': ['web']}), spec=dict(fleet.spec(), services={'web': fleet.spec()['services']['web']}),
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
    wait_for('the incident mail', lambda: fleet.sink.subjects(), 60)
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
