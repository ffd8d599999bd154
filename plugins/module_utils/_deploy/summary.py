# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lines a deploy ends with: per service its version, slot, servers, URL and what changed."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table

# what toggle_deploy did, as a person says it
DONE = {'started': 'new version started', 'resumed': 'new version (an interrupted run had started it)',
        'recreated': 'recreated on its data', 'created': 'new container for its schedule', 'none': 'unchanged'}
HEADERS = ('service', 'version', 'slot', 'servers', 'url', 'change')


def service_url(service, edge_port):
    """``http://domain`` (with the edge's port when it is not 80), or ``-``."""
    if not service.get('domain') or not service.get('container_port'):
        return '-'
    return 'http://%s%s' % (service['domain'], '' if int(edge_port or 80) == 80 else ':%s' % edge_port)


def summary_lines(tenant, planned, servers, edge_port=80):
    """The table, after a title naming ``tenant``.

    ``planned``: the plan's services in startup order (``service``, ``domain``, ``container_port``).
    ``servers``: per server ``{'host', 'services'}`` (what runs, as deploy_info says) with ``done`` (the deploy's
    toggle results, ``item`` naming the service) and ``changes`` (deploy_changes' reasons). A service deployed on
    no server shows as not deployed here (a one-service deploy leaves the others out of the table)."""
    rows = []
    for svc in planned:
        name = svc['service']
        on = [s for s in servers if name in (s.get('services') or {}) or name in (s.get('changes') or {})]
        if not on:
            continue
        versions, slots, changes = set(), set(), []
        for server in on:
            running = (server.get('services') or {}).get(name) or {}
            containers = running.get('containers') or []
            if running.get('active_version'):
                versions.add(str(running['active_version']))
                slots.add(running.get('active_slot') or '-')
            elif containers:  # a scheduled service: a created container that cron starts
                versions.add(str(containers[0].get('version') or '-'))
                slots.add('scheduled')
            else:
                versions.add('-')
                slots.add('-')
            done = [r for r in server.get('done') or [] if r.get('item') == name]
            action = done[-1].get('action') if done else 'none'
            if action != 'none' or name in (server.get('changes') or {}):
                changes.append(DONE.get(action, action))
        change = ', '.join(sorted(set(changes))) if changes else 'unchanged'
        rows.append((name, ','.join(sorted(versions)), ','.join(sorted(slots)),
                     ','.join(s['host'] for s in on), service_url(svc, edge_port), change))
    if not rows:
        return []
    return ['%s deployed:' % tenant] + ['  ' + line for line in text_table(HEADERS, rows)]
