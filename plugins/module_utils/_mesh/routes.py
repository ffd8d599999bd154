# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mesh and edge routes from the plan and from what serves on each server."""

from __future__ import annotations

TCP_TYPES = ('postgres', 'redis', 'opensearch')
# the ssl_mode values whose certificate the edge serves (cloudflare: Cloudflare terminates TLS)
TLS_MODES = ('letsencrypt', 'self-signed')


def protocol(row):
    """Databases are proxied as TCP streams, everything else with a port as HTTP."""
    return 'tcp' if row.get('type') in TCP_TYPES else 'http'


def upstreams(service, servers, zone=None):
    """``address:active_port`` of every server where ``service`` has a serving container; with ``zone``, those of
    that zone only when the service serves there (a multi-zone deployment keeps its traffic in the zone it entered:
    the load balancer chose that zone for the client), else every one."""
    if zone:
        local = upstreams(service, [s for s in servers if s.get('zone') == zone])
        if local:
            return local
    found = []
    for server in servers:
        info = (server.get('services') or {}).get(service) or {}
        if info.get('active_port'):
            found.append('%s:%d' % (server['address'], int(info['active_port'])))
    return sorted(set(found))


def mesh_routes(rows, servers, zone=None):
    """``{'sidecar': [...], 'edge': [...]}`` for the tenant whose plan rows are given.

    ``rows`` are the plan rows of ``project_spec`` (service, type, container_port,
    internal_port, domain); ``servers`` is a list of ``{'address': private address,
    'services': deploy_info services, 'zone': its zone or None}``, one per server running the project;
    ``zone`` is the zone of the server the routes are for (HTTP routes prefer that zone's peers).
    """
    sidecar, edge = [], []
    for row in sorted(rows, key=lambda r: r['service']):
        if not row.get('container_port'):
            continue
        ups = upstreams(row['service'], servers, zone if protocol(row) == 'http' else None)
        sidecar.append({'service': row['service'], 'protocol': protocol(row), 'listen': row['internal_port'],
                        'upstreams': ups})
        if row.get('domain'):
            edge.append({'service': row['service'], 'protocol': 'http', 'domain': row['domain'], 'upstreams': ups,
                         'tls': row.get('ssl_mode') in TLS_MODES, 'hsts': bool(row.get('hsts'))})
    return {'sidecar': sidecar, 'edge': edge}


def promoted_view(view, started):
    """``view`` (deploy_info's or a start's answer: ``{'services': {service: {...}}, ...}``) with each of
    ``started`` (toggle_deploy's results of a start: ``item``, ``active_slot``, ``active_port``,
    ``active_container``) serving from its new slot, as it will once the routing run has promoted it."""
    services = dict((view or {}).get('services') or {})
    for result in started:
        services[result['item']] = dict(services.get(result['item']) or {}, **dict(
            (key, result.get(key)) for key in ('active_slot', 'active_port', 'active_container')))
    return dict(view or {}, services=services)
