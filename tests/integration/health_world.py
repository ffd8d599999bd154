# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health tests' world (tests/integration/test_health.py, bench/health): two simulated servers with a private
bridge (their VPC), the health agent on each, a real SMTP server (aiosmtpd) on this machine for the alerts.

``health_world(tmp)`` (a context manager) brings it up, deploys ``web`` (the nginx stand-in, a domain, on
both servers) and ``flaky`` (on server a, crashing at start while ``files/flags/crash`` exists) and yields a
``Fleet``; everything goes at the end, also on failure.
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

import yaml

from agent_requests import requests_in
from helpers import REPO, host_ips, run_playbook, ssh_host_vars, ssh_keypair, worker_index
from sim_hosts import sim_host

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
                import email.policy
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink.lock:
                    # the default policy unfolds the long subject lines the sender folded
                    sink.mails.append({'to': envelope.rcpt_tos, 'subject': str(message['Subject']),
                                       'body': message.get_body().get_content()})
                return '250 OK'

        # a loaded machine (the CI's first minute) can take longer than aiosmtpd's 5 s to start a thread
        self.controller = Controller(Handler(), hostname=GATEWAY, port=self.port, ready_timeout=60)
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
    """A free port of this machine's address on the hosts' public bridge (made first: no host may be up yet)."""
    subprocess.run(['bash', HOST_SH, 'public-bridge'], capture_output=True, timeout=120, check=True)
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


@contextlib.contextmanager
def health_world(tmp, user=None, heal_limits=None):
    user = user or 'h' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
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
                                        'fleet_heal_limits': heal_limits or {'backoff_start': 2},
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
