# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The readable status table of status.yml."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table


def uptime(seconds):
    if not seconds:
        return '-'
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return '%dd%02dh' % (days, hours)
    if hours:
        return '%dh%02dm' % (hours, minutes)
    return '%dm%02ds' % (minutes, secs)


def status_rows(host, services, planned=None):
    """One row per container (and one per planned service that has none) on ``host``."""
    rows = []
    for name in sorted(set(services) | set(planned or [])):
        info = services.get(name)
        if not info or not info.get('containers'):
            rows.append((host, name, '-', '-', 'not deployed', '-', '-'))
            continue
        for c in info['containers']:
            serving = '*' if c['name'] == info.get('active_container') else ' '
            ports = ', '.join('%s>%s' % (k, v) for k, v in sorted(c['host_ports'].items())) or '-'
            rows.append((host, name, '%s%s' % (serving, c['slot']), c['version'] or '-',
                         c['health'] if c['status'] == 'running' else '%s (exit %s)' % (c['status'], c['exit_code']),
                         ports, uptime(c['uptime_seconds'])))
    return rows


def render(rows):
    headers = ('server', 'service', 'slot', 'version', 'health', 'ports (container>host)', 'uptime')
    return text_table(headers, rows) + ['* marks the slot that serves']
