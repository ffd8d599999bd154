# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What runs on a server for one tenant: each service's containers and the slot that serves (deploy_info's answer,
which deploy_changes gives too)."""

from __future__ import annotations

from datetime import datetime, timezone

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active


def _parse_time(text):
    if not text or text.startswith('0001-'):
        return None
    text = text.rstrip('Z').split('.')[0]
    return datetime.strptime(text, '%Y-%m-%dT%H:%M:%S').replace(tzinfo=timezone.utc)


def describe(container, now):
    attrs = container.attrs
    state = attrs.get('State', {})
    started = _parse_time(state.get('StartedAt'))
    ports = {}
    for key, bindings in (attrs.get('NetworkSettings', {}).get('Ports') or {}).items():
        if bindings:
            ports[key.split('/')[0]] = int(bindings[0]['HostPort'])
    labels = container.labels
    return {
        'name': container.name,
        'slot': labels.get('fleet.slot'),
        'status': state.get('Status'),
        'version': labels.get('fleet.version'),
        'config_hash': labels.get('fleet.config_hash'),
        'deployed_at': labels.get('fleet.deployed_at'),
        'uptime_seconds': int((now - started).total_seconds()) if started and state.get('Running') else 0,
        'restart_count': attrs.get('RestartCount', 0),
        'exit_code': state.get('ExitCode'),
        'health': (state.get('Health') or {}).get('Status') or ('running' if state.get('Running') else state.get('Status')),
        'image': (attrs.get('Config') or {}).get('Image'),
        'host_ports': ports,
    }


def summarize(containers, recorded):
    """Pick the serving slot of one service from its containers and the recorded promotion."""
    running = dict((c['slot'], c) for c in containers if c['status'] == 'running')
    slot = recorded.get('slot') if recorded.get('slot') in running else None
    if slot is None and running:
        slot = sorted(running, key=lambda s: running[s]['deployed_at'] or '')[0] if len(running) > 1 else list(running)[0]
    active = running.get(slot) if slot else None
    return {
        'active_slot': slot,
        'active_container': active['name'] if active else None,
        'active_port': (list(active['host_ports'].values()) or [None])[0] if active else None,
        'active_version': active['version'] if active else None,
        'containers': sorted(containers, key=lambda c: c['name']),
    }


def running_services(client, user, project, env, state_dir, service=None):
    """``{service: summarize(...)}`` for the tenant's slot containers on ``client``'s engine."""
    filters = {'label': ['fleet.user=%s' % user, 'fleet.project=%s' % project, 'fleet.env=%s' % env]}
    if service:
        filters['label'].append('fleet.service=%s' % service)
    now = datetime.now(timezone.utc)
    by_service = {}
    for container in client.containers.list(all=True, filters=filters):
        name = container.labels.get('fleet.service')
        if name and container.labels.get('fleet.slot'):
            by_service.setdefault(name, []).append(describe(container, now))
    return dict((name, summarize(items, read_active(state_dir, name))) for name, items in by_service.items())
