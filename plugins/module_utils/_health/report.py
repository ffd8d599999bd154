# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What check_health.yml and health_status.yml show of one server (pure): its services, its peers, the
env's open incidents and the last heal actions, as text tables."""

from __future__ import annotations

import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table


def ago(then, now):
    if then is None:
        return 'never'
    seconds = int(now - then)
    if seconds < 120:
        return '%d s ago' % seconds
    if seconds < 7200:
        return '%d min ago' % (seconds // 60)
    return '%d h ago' % (seconds // 3600)


def service_unhealthy(row):
    return row['status'] != 'running' or row['healthy'] is False or row.get('failed')


def lines(server, services, peers, open_incidents, actions, monitor_at, agent, now=None):
    """The server's block of lines."""
    now = time.time() if now is None else now
    out = ['%s: agent %s; monitor %s' % (server, agent, ago(monitor_at, now))]
    rows = [(r['service'], r['container'], 'FAILED (stopped restarting)' if r.get('failed') else r['status'],
             'ok' if r['healthy'] else ('-' if r['healthy'] is None else 'FAILING'), r['detail'] or '-',
             r.get('restarts', 0)) for r in services]
    out.extend('  ' + line for line in text_table(
        ['SERVICE', 'CONTAINER', 'STATE', 'CHECK', 'DETAIL', 'RESTARTS (10 min)'], rows)) if rows else \
        out.append('  no service of this env is recorded here')
    if peers:
        out.append('')
        out.extend('  ' + line for line in text_table(
            ['PEER', 'ADDRESS', 'AGENT', 'PING', 'DOCKER', 'MISSES IN A ROW'],
            [(p['name'], p['address'], 'answers' if p['answered'] else 'NO ANSWER (%s)' % (p.get('error') or '-'),
              {True: 'ok', False: 'no', None: '-'}[p.get('ping')],
              {True: 'ok', False: 'DOWN', None: '-'}[p.get('docker')], p.get('misses', 0)) for p in peers]))
    if open_incidents:
        out.append('')
        out.append('  Open incidents:')
        out.extend('  - %s (since %s)' % (i['summary'], ago(i['opened_at'], now)) for i in open_incidents)
    if actions:
        out.append('')
        out.append('  Last heal actions:')
        for a in actions:
            failed = '' if a.get('ok', True) else ' (FAILED: %s)' % a.get('error')
            when = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(a['time']))
            out.append('  - %s %s %s: %s%s' % (when, a['service'], a['action'], a['reason'], failed))
    return out
