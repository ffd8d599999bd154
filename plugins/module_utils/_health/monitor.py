# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The health monitor: cron runs it every minute on every server (docs/health.md "The monitor").

For every project env the server looks after: a heal round (the safety net under the agent's events),
then its peers: each peer's agent is asked ``/health`` (signed) and pinged; the answers give their views,
and ``quorum.judge`` says who is dead and who leads. The leader alone opens (any server resolves) the env's
server incidents: a server judged dead, a server whose monitor stopped reporting (a dead man's switch:
``SILENT_SECONDS``), a server whose Docker engine does not answer. The round is written to
``monitoring/health/status.json``; due mails are sent.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import struct
import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import DockerException, get_client
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import (
    alerts, healer, incidents, quorum, signing, store, tenant as tenants)

PEER_TIMEOUT = 5
SILENT_SECONDS = 180


def ask(address, port, tenant, key, path='/health', method='GET', body=b'', epoch=None, timeout=PEER_TIMEOUT):
    """``(status, answer)`` of a signed request to an agent; status None when it did not answer."""
    headers = signing.sign(key, tenant, method, path, body)
    if epoch is not None:
        headers[signing.EPOCH] = str(epoch)
    headers['Content-Type'] = 'application/json'
    conn = http.client.HTTPConnection(address, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return None, {'error': str(exc) or exc.__class__.__name__}
    finally:
        conn.close()
    try:
        return response.status, json.loads(data.decode('utf-8') or '{}')
    except ValueError:
        return response.status, {}


def _checksum(data):
    data += b'\0' * (len(data) % 2)
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    return ~(total + (total >> 16)) & 0xffff


def ping(address, timeout=1.0):
    """An ICMP echo (raw socket: the monitor runs as root); None when it cannot be sent here."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except OSError:
        return None
    ident = os.getpid() & 0xffff
    header = struct.pack('!BBHHH', 8, 0, 0, ident, 1)
    payload = b'fleet'
    packet = struct.pack('!BBHHH', 8, 0, _checksum(header + payload), ident, 1) + payload
    try:
        sock.settimeout(timeout)
        sock.sendto(packet, (address, 0))
        deadline = time.time() + timeout
        while time.time() < deadline:
            data, source = sock.recvfrom(1024)
            if source[0] == address and len(data) >= 28 and data[20] == 0 and struct.unpack('!H', data[24:26])[0] == ident:
                return True
    except OSError:
        return False
    finally:
        sock.close()
    return False


def check_peers(tenant, config, key, now):
    """``(view, answers)``: this server's view after probing every peer once, and the peers' answers."""
    view = store.load(tenant.project_dir, 'peers.json')
    answers = {}
    me = config.get('address')
    for peer in config.get('servers') or []:
        address = peer.get('address')
        if not address or address == me:
            continue
        status, answer = ask(address, config.get('port') or 9999, tenant.name, key)
        pinged = ping(address)
        ok = status == 200
        answers[address] = dict(answer if ok else {}, answered=ok, status=status, ping=pinged, name=peer.get('name'),
                                error=None if ok else (answer.get('error') or 'HTTP %s' % status))
        view = quorum.probed(view, address, ok, now)
    known = set(p.get('address') for p in config.get('servers') or [])
    return dict((a, v) for a, v in view.items() if a in known), answers


def server_incidents(found, config, verdict, answers, now, leader):
    """Open (the leader only: one mail per incident for the env) and resolve (any server that has one open, so a
    change of leader never strands an incident) the env's server incidents."""
    names = dict((p.get('address'), p.get('name') or p.get('address')) for p in config.get('servers') or [])
    for address, name in sorted(names.items()):
        key = 'server:%s' % name
        if address in verdict['dead'] and leader:
            incidents.open_incident(found, key, 'server %s (%s) is down' % (name, address),
                                    'A majority of its peers missed it %d minutes in a row.\n'
                                    'Fix: playbooks/heal.yml replaces it (or see docs/health.md).'
                                    % int(config.get('dead_after_misses') or quorum.MISSES_DEAD), now)
        elif address in verdict['alive']:
            incidents.resolve_incident(found, key, 'it answers its peers again', now)
        answer = answers.get(address) or {}
        silent_key = 'monitor:%s' % name
        if answer.get('answered'):
            last = answer.get('monitor_at')
            if last is not None and now - last > SILENT_SECONDS and leader:
                incidents.open_incident(found, silent_key, 'the health monitor of %s stopped reporting' % name,
                                        'Its last round was %d minutes ago.\nFix: check cron on %s.'
                                        % ((now - last) // 60, name), now)
            elif last is not None:
                incidents.resolve_incident(found, silent_key, 'its monitor reports again', now)
            docker_key = 'docker:%s' % name
            if answer.get('docker') is False and leader:
                incidents.open_incident(found, docker_key, 'the Docker engine of %s does not answer' % name,
                                        'Fix: systemctl restart docker on %s.' % name, now)
            elif answer.get('docker'):
                incidents.resolve_incident(found, docker_key, 'Docker answers again', now)


def monitor_tenant(client, tenant, now):
    config = tenant.config
    keys = tenant.keys()
    heal_done = healer.heal_round(client, tenant, server=config.get('server') or '', now=now) if client else None
    view, answers = check_peers(tenant, config, keys[0], now) if keys else ({}, {})
    views = {config.get('address'): view}
    for address, answer in answers.items():
        if answer.get('answered') and isinstance(answer.get('view'), dict):
            views[address] = answer['view']
    servers = [p.get('address') for p in config.get('servers') or [] if p.get('address')] or [config.get('address')]
    joined = dict((a, v.get('first_seen')) for a, v in view.items())
    verdict = quorum.judge(servers, views, me=config.get('address'), joined=joined, now=now,
                           grace=float(config.get('grace_seconds', quorum.GRACE_SECONDS)),
                           misses_dead=int(config.get('dead_after_misses') or quorum.MISSES_DEAD))
    with store.locked(tenant.project_dir):
        store.save(tenant.project_dir, 'peers.json', view)
        found = store.load(tenant.project_dir, 'incidents.json')
        server_incidents(found, config, verdict, answers, now, leader=verdict['leader'] == config.get('address'))
        store.save(tenant.project_dir, 'incidents.json', found)
        store.save(tenant.project_dir, 'status.json', {
            'time': now, 'server': config.get('server'), 'address': config.get('address'), 'verdict': verdict,
            'peers': dict((a, {'answered': v.get('answered'), 'ping': v.get('ping'), 'error': v.get('error'),
                               'name': v.get('name'), 'misses': (view.get(a) or {}).get('misses', 0),
                               'services': v.get('services') or []}) for a, v in answers.items()),
            'healed': heal_done or [], 'docker': client is not None})
    return alerts.flush(tenant, now=now)


def run(fleet_root, docker_host=None, now=None):
    """One monitor round over every env of this server; one line per env, for cron's log."""
    now = time.time() if now is None else now
    try:
        client = get_client(docker_host, timeout=30)
    except Exception:  # pylint: disable=broad-except  # the engine down is a finding, not a crash
        client = None
    lines = []
    for tenant in tenants.tenants(fleet_root):
        try:
            sent, error = monitor_tenant(client, tenant, now)
            status = store.load(tenant.project_dir, 'status.json')
            lines.append('%s: leader %s, dead %s%s%s' % (
                tenant.name, status['verdict']['leader'], ','.join(status['verdict']['dead']) or 'none',
                '; mailed "%s"' % sent if sent else '', '; %s' % error if error else ''))
        except (DockerException, OSError, ValueError) as exc:
            lines.append('%s: monitor round failed: %s' % (tenant.name, exc))
    write_atomic(os.path.join(fleet_root, '.fleet', 'agent', 'monitor_at'), '%f\n' % now, mode=0o644, dir_mode=0o700)
    return lines
