# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the health_agent module writes on a server (pure): the agent's settings, its systemd unit, the
monitor's cron file and a project env's ``config/health.json``."""

from __future__ import annotations

import json

UNIT_NAME = 'fleet-agent.service'
CRON_NAME = 'fleet-health-monitor'   # never fleet_{tenant}_...: no tenant's footprint


def agent_settings(fleet_root, address, port, refuse, events, sweep_seconds, peer_watch_seconds, docker_host):
    return json.dumps({'fleet_root': fleet_root, 'address': address, 'port': port, 'refuse': sorted(set(refuse)),
                       'events': events, 'sweep_seconds': sweep_seconds, 'peer_watch_seconds': peer_watch_seconds,
                       'docker_host': docker_host},
                      sort_keys=True, indent=1) + '\n'


def unit(python, program, settings_path, digest):
    """The systemd unit; ``digest`` (of the program and settings) changes it, and so restarts the agent, when
    either changes (systemd through the role's restart, the test world's supervisor by itself)."""
    return '''# projectdeployer.fleet health agent (docs/health.md); written by the health_agent module
[Unit]
Description=projectdeployer.fleet health agent
After=network-online.target docker.service
Wants=network-online.target

[Service]
Type=simple
Environment=FLEET_AGENT_DIGEST=%s
ExecStart=%s %s agent --config %s
Restart=always
RestartSec=2
NoNewPrivileges=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
''' % (digest, python, program, settings_path)


def cron_file(schedule, python, program, fleet_root, docker_host, log_path):
    return ('# projectdeployer.fleet health monitor (docs/health.md); written by the health_agent module\n'
            'SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n'
            '%s root %s %s monitor --fleet-root %s --docker-host %s >> %s 2>&1\n'
            % (schedule, python, program, fleet_root, docker_host, log_path))


def tenant_config(server, address, port, servers, alerts, grace_seconds, heal=None, dead_after_misses=3):
    """``config/health.json`` of a project env on one server (no secret in it)."""
    alerts = dict((k, v) for k, v in sorted((alerts or {}).items()) if k != 'password' and v not in (None, ''))
    return json.dumps({'server': server, 'address': address, 'port': port, 'grace_seconds': grace_seconds,
                       'dead_after_misses': dead_after_misses,
                       'servers': sorted(({'name': s['name'], 'address': s['address']} for s in servers),
                                         key=lambda s: s['name']),
                       'alerts': alerts, 'heal': heal or {}}, sort_keys=True, indent=1) + '\n'
