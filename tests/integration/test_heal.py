# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dead servers and partitions on simulated DigitalOcean droplets, and what heal.yml does (issue 16, stage 2).

Four droplets of the DigitalOcean simulator (real hosts: tests/world/host.sh): three run a web service behind
their edges, one a redis service ``cache`` with ``heal: restore_latest_backup``; the health agent and monitor on
each, judging a server dead after one missed round (``fleet_health_dead_after_misses: 1``; the default 3 is
bench/heal's and the unit tests'). The tests run in order on that world:

1. a web droplet's host goes down abruptly (the API still says active, and cannot power it off: its hypervisor
   is gone too): its peers judge it dead on their cron rounds, the leader mails once, heal.yml fences it
   (firewalled off), replaces it under the same name, deploys, destroys the dead one and its fence firewall; the
   other edges fail no request; one resolve mail;
2. the redis droplet dies after a backup was taken and pulled: heal.yml replaces it and restores that backup
   (data written after it is gone, as the mail says), mails which backup and how old;
3. one web server's VPC link is cut (iptables in its namespace): its peers judge it dead, it condemns nobody,
   heal.yml sees it answer the controller and replaces nothing (a partition alert); the link back, all resolve.

Two servers lost at once (heal.yml alerts only, no majority) is decided by ``heal_plan``'s pure rules, tested in
tests/unit/plugins/module_utils/_health/test_replacement.py; it left this module for the CI's 30 minutes.

From test 2 on, monitor rounds are run by hand (the command of the monitor's cron line) instead of waiting for
cron's minute; test 1 shows the real schedule. Mails are counted exactly in each.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import do_cloud
from heal_world import REDIS, web_on_droplets
from health_world import HOST_SH, NGINX, MailSink, free_port, open_ports, wait_for
from helpers import REPO, SteadyLoad, run_playbook

sys.path.insert(0, '%s/tests/world' % REPO)
import cf_sim  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.usefixtures('world')


@pytest.fixture(scope='module')
def sink():
    mails = MailSink(free_port()).start()
    yield mails
    mails.stop()


@pytest.fixture(scope='module')
def cloud_with_images(tmp_path_factory, world, sink):  # pylint: disable=unused-argument,redefined-outer-name
    """The simulator whose new droplets have the stand-in images (as a real one pulls them) and reach the mail sink."""
    with open_ports(sink.port):
        started = do_cloud.start(str(tmp_path_factory.mktemp('do_sim_heal')), images=[NGINX, REDIS])
    yield started
    do_cloud.stop(started)


@pytest.fixture(scope='module')
def cloudflare(tmp_path_factory):
    """The Cloudflare simulator (in this process): the web servers are the origins of a load balancer's pool."""
    server, state, info = cf_sim.make_server(str(tmp_path_factory.mktemp('cf_sim_heal')), zones=['example.test'])
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
    yield dict(info, state=state)
    state.prober.stop()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope='module')
def fleet(cloud_with_images, sink, cloudflare, tmp_path_factory):  # pylint: disable=redefined-outer-name
    return web_on_droplets(cloud_with_images, sink, tmp_path_factory.mktemp('heal'), cache=True, dead_after=1,
                           cloudflare=cloudflare)


def pool_origins(cloudflare, fleet):  # pylint: disable=redefined-outer-name
    """The addresses in the load balancer's lon1 pool of the web service."""
    pools = [p for p in cloudflare['state'].snapshot()['pools'] if p['name'] == '%s-site-prod-web-lon1' % fleet.user]
    return sorted(o['address'] for o in pools[0]['origins']) if pools else []


class Mails(object):
    """The mails the sink takes from now on, by kind."""

    def __init__(self, sink):  # pylint: disable=redefined-outer-name
        self.sink, self.start = sink, len(sink.subjects())

    def new(self, kind=''):
        return [s for s in self.sink.subjects()[self.start:] if kind in s]


def lose(*droplets):
    """The droplets' machines die: no shutdown, their network gone at once; DigitalOcean still lists them active."""
    for droplet in droplets:
        lost = subprocess.run(['bash', HOST_SH, 'down', droplet['host'], '--abrupt', '--keep-data'],
                              capture_output=True, text=True, timeout=180, check=False)
        assert lost.returncode == 0, lost.stdout + lost.stderr


def judged(fleet, victims, observers, by_hand=True):  # pylint: disable=redefined-outer-name
    """Wait until every observer's verdict has every victim dead (monitor rounds run by hand, or cron's)."""
    def dead_everywhere():
        if by_hand:
            fleet.monitor_round(observers)
        return all(v['private_ip'] in fleet.verdict(o).get('dead', []) for o in observers for v in victims)
    wait_for('%s judging %s dead' % ([o['name'] for o in observers], [v['name'] for v in victims]),
             dead_everywhere, 300, step=1 if by_hand else 10)


def heal(fleet, expect):  # pylint: disable=redefined-outer-name
    proc = run_playbook('playbooks/heal.yml', *fleet.run, env=fleet.env, timeout=1500)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and expect in out, out[-8000:]
    return out


def by_service(fleet, service):  # pylint: disable=redefined-outer-name
    return [d for d in fleet.droplets() if d['name'].startswith('%s-site-prod-%s-' % (fleet.user, service))]


def test_a_dead_web_server_is_replaced_and_nothing_fails(fleet, sink, cloudflare):  # pylint: disable=redefined-outer-name
    before = fleet.droplets()
    assert len(before) == 4
    webs = by_service(fleet, 'web')
    dead, alive = webs[2], webs[:2]
    assert pool_origins(cloudflare, fleet) == sorted(d['public_ip'] for d in webs)
    mails = Mails(sink)
    with SteadyLoad(alive[0]['public_ip'], fleet.domain, rate=10) as load_a, \
            SteadyLoad(alive[1]['public_ip'], fleet.domain, rate=10) as load_b:
        lose(dead)
        judged(fleet, [dead], alive, by_hand=False)
        wait_for('the incident mail', lambda: mails.new('INCIDENT'), 90)
        do_cloud.faults(fleet.cloud, errored_actions=['power_off'])
        try:
            out = heal(fleet, 'heal: replace %s' % dead['name'])
        finally:
            do_cloud.faults(fleet.cloud, errored_actions=[])
        assert 'firewalled off (fleet-%s-site-prod-fence' % fleet.user in ' '.join(out.split()), out[-6000:]
        assert not [f for f in do_cloud.firewalls(fleet.cloud) if f['name'].endswith('-fence')]   # gone with it
        after = fleet.droplets()
        assert [d['name'] for d in after] == [d['name'] for d in before]   # the replacement took the dead one's name
        new = [d for d in after if d['id'] not in set(b['id'] for b in before)]
        assert len(new) == 1 and new[0]['name'] == dead['name'] and new[0]['status'] == 'active', after
        assert dead['id'] not in [d['id'] for d in after]                  # the dead droplet is destroyed
        # the replacement is in the load balancer's pool, the dead one out (the sims reuse no address)
        assert pool_origins(cloudflare, fleet) == sorted(d['public_ip'] for d in by_service(fleet, 'web'))
        assert dead['public_ip'] not in pool_origins(cloudflare, fleet)
        # the replacement serves through its own edge, and the others route to it
        wait_for('the replacement serving', lambda: fleet.answer(new[0]['public_ip']) == 200, 60)
        wait_for('the resolve mail', lambda: mails.new('RESOLVED'), 240, step=2)
    assert load_a.failed == 0 and load_b.failed == 0, (load_a.summary(), load_b.summary())
    incident, resolved = mails.new('INCIDENT'), mails.new('RESOLVED')
    assert len(incident) == 1 and 'server %s' % dead['name'] in incident[0] and 'is down' in incident[0], incident
    assert len(resolved) == 1 and dead['name'] in resolved[0], resolved
    assert len(mails.new()) == 2, mails.new()
    # (a run with every server alive does nothing: test_a_partition_replaces_nothing ends with one)
    history = (fleet.controller / fleet.user / 'site' / 'prod' / 'monitoring' / 'health' / 'heal_history.jsonl')
    assert '"outcome": "replaced"' in history.read_text()


def test_a_dead_database_server_comes_back_with_its_newest_backup(fleet, sink):  # pylint: disable=redefined-outer-name
    (cache,) = by_service(fleet, 'cache')
    others = [d for d in fleet.droplets() if d['id'] != cache['id']]
    for key in ('k1', 'k2', 'k3'):
        assert fleet.redis(cache, 'SET', key, 'value of %s' % key) == 'OK'
    for playbook, extra in (('backup.yml', ['-e', 'fleet_service=cache']),
                            ('pull.yml', ['-e', 'fleet_pull_dirs=backups', '-e', 'fleet_service=cache'])):
        proc = run_playbook('playbooks/%s' % playbook, *(fleet.run + extra), env=fleet.env, timeout=600)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    pulled = sorted((fleet.controller / fleet.user / 'site' / 'prod' / 'backups' / cache['public_ip']).glob('cache_backup_*.rdb'))
    assert len(pulled) == 1, pulled
    assert fleet.redis(cache, 'SET', 'later', 'written after the backup') == 'OK'
    mails = Mails(sink)
    lose(cache)
    judged(fleet, [cache], others)
    out = heal(fleet, 'heal: replace %s' % cache['name'])
    assert 'heal: restored cache from %s' % pulled[0].name in out and 'data written after it is lost' in out, out[-6000:]
    (new,) = by_service(fleet, 'cache')
    assert new['id'] != cache['id'] and new['name'] == cache['name']
    assert cache['id'] not in [d['id'] for d in fleet.droplets()]
    for key in ('k1', 'k2', 'k3'):
        assert fleet.redis(new, 'GET', key) == 'value of %s' % key
    assert fleet.redis(new, 'EXISTS', 'later') == '0'            # after the backup: lost, as the mail says
    fleet.monitor_round(fleet.droplets())
    wait_for('the server incident resolved', lambda: [s for s in mails.new('RESOLVED') if 'is down' in s], 120, step=2)
    heal(fleet, 'heal: none')                                      # its run mails the restore's resolve
    incident, resolved = mails.new('INCIDENT'), mails.new('RESOLVED')
    assert sorted(incident) == sorted(['[fleet %s/site/prod] INCIDENT: server %s (%s) is down' % (
        fleet.user, cache['name'], cache['private_ip']), '[fleet %s/site/prod] INCIDENT: heal.yml: replacing %s and '
        'restoring cache from backups' % (fleet.user, cache['name'])]), incident
    assert len(resolved) == 2 and len(mails.new()) == 4, mails.new()
    body = [m['body'] for m in sink.mails if 'restoring cache' in m['subject']][0]
    assert 'cache: restoring %s' % pulled[0] in body and 'data written after it is lost' in body, body


def cut_vpc(droplet, cut=True):
    """Drop everything in and out of the droplet's VPC interface (eth1), in its network namespace."""
    verb = '-I' if cut else '-D'
    script = ' && '.join('iptables %s %s %s eth1 -j DROP' % (verb, chain, side)
                         for chain, side in (('INPUT', '-i'), ('OUTPUT', '-o'), ('FORWARD', '-i'), ('FORWARD', '-o')))
    proc = subprocess.run(['ip', 'netns', 'exec', 'fleet-%s' % droplet['host'], 'sh', '-c', script],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr


def test_a_partition_replaces_nothing(fleet, sink):  # pylint: disable=redefined-outer-name
    before = fleet.droplets()
    webs = by_service(fleet, 'web')
    isolated, majority = webs[0], [d for d in before if d['id'] != webs[0]['id']]
    mails = Mails(sink)
    with SteadyLoad(webs[1]['public_ip'], fleet.domain, rate=10) as load:
        cut_vpc(isolated)
        try:
            judged(fleet, [isolated], majority)
            fleet.monitor_round([isolated])
            assert fleet.verdict(isolated).get('dead') == []        # one observer condemns nobody
            heal(fleet, 'heal: alert - %s judged dead by its peers but answers the controller' % isolated['name'])
            assert [d['id'] for d in fleet.droplets()] == [d['id'] for d in before]   # nothing fenced or created
        finally:
            cut_vpc(isolated, cut=False)
        wait_for('every server alive again',
                 lambda: fleet.monitor_round(before) or not any(fleet.verdict(d).get('dead') for d in before), 180, step=1)
        heal(fleet, 'heal: none')
        wait_for('the resolve mails', lambda: len(mails.new('RESOLVED')) == 2, 120, step=2)
    assert load.failed == 0, load.summary()
    incident = mails.new('INCIDENT')
    assert len(incident) == 2 and any('server %s' % isolated['name'] in s for s in incident), incident
    assert any('a network partition between servers' in s for s in incident), incident
    assert len(mails.new()) == 4, mails.new()
