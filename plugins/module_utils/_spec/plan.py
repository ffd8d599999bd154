# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan of a validated project spec: what a deploy would create, in a readable table."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import (
    HOST_BASE, INTERNAL_BASE, PortTable, service_ports)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import split_git_repo
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.sizes import size_for
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.zones import service_zones
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.text_table import text_table

# The official images; the test world points these at its Debian stand-ins.
DEFAULT_IMAGES = {
    'postgres': 'postgres:{version}',
    'redis': 'redis:{version}',
    'opensearch': 'opensearchproject/opensearch:{version}',
    'nginx': 'nginx:1.27',
    'python': 'python:{version}-slim',
    'node': 'node:{version}-slim',
}
DATABASE_TYPES = ('postgres', 'redis', 'opensearch')


def service_image(spec, service, images=None):
    """The image a service runs: a database image, the user's ``image``, or the one we build."""
    images = dict(DEFAULT_IMAGES, **(images or {}))
    if service['type'] in DATABASE_TYPES:
        return images[service['type']].format(version=service['version'])
    if service.get('image'):
        return service['image']
    version = service.get('version') or spec['version']
    return naming.image_name(spec['docker_hub_user'], spec['user'], spec['project'], spec['env'],
                             service['name'], version)


def planned_image(spec, service, images=None):
    """The image as the plan shows it: a git build without a version of its own is tagged with the commit its
    ref points at, which only the checkout knows (``...:<commit of main>``)."""
    image = service_image(spec, service, images)
    if (service['type'] not in DATABASE_TYPES and not service.get('image') and service.get('git_repo')
            and (service.get('version') or spec['version']) == 'latest'):
        image = '%s:<commit of %s>' % (image.rsplit(':', 1)[0], git_ref(service['git_repo']) or 'HEAD')
    return image


def git_ref(git_repo):
    """The ref of ``URL@ref`` (None without one, or when the value is not valid: the schema says why)."""
    try:
        return split_git_repo(git_repo)[1]
    except ValueError:
        return None


def build_plan(spec, images=None):
    """Return ``{'services': [...rows in startup order...], 'monthly_cost': float, 'servers': int}``.

    Ports are allocated within the project from fresh tables, exactly as a first
    deploy on empty servers would; on a shared server another tenant's earlier
    assignment can move a host port, which the deploy then reports.
    """
    user, project, env = spec['user'], spec['project'], spec['env']
    host_table = PortTable(HOST_BASE)
    internal_table = PortTable(INTERNAL_BASE)
    rows = []
    total_cost = 0.0
    total_servers = 0
    for order, group in enumerate(spec['startup_groups'], 1):
        for name in group:
            svc = spec['services'][name]
            ports = service_ports(host_table, internal_table, user, project, env, name, svc['container_port'])
            size = size_for(svc['server_cpu'], svc['server_memory'])
            zones = service_zones(svc['role'], svc['server_zone'], spec.get('zones'))
            cost = size['price_monthly'] * svc['servers_count'] * len(zones)
            total_cost += cost
            total_servers += svc['servers_count'] * len(zones)
            rows.append({
                'group': order,
                'service': name,
                'type': svc['type'],
                'role': svc['role'],
                'container': naming.container_name(user, project, env, name),
                'image': planned_image(spec, svc, images),
                'container_port': svc['container_port'],
                'host_port': ports['host_port'],
                'secondary_port': ports['secondary_port'],
                'internal_port': ports['internal_port'],
                'collision': ports['collision'],
                'servers_count': svc['servers_count'],
                'zone': zones[0],
                'zones': zones,
                'size': size['slug'],
                'monthly_cost': cost,
                'domain': svc.get('domain'),
                'ssl_mode': (svc.get('ssl_mode') or 'none') if svc.get('domain') else None,
                'hsts': bool(svc.get('hsts')),
                'schedule': svc.get('schedule'),
                'depends_on': list(svc.get('depends_on') or []),
            })
    return {'services': rows, 'monthly_cost': round(total_cost, 2), 'servers': total_servers}


def render_plan(spec, plan):
    """The plan as lines of text a person reads (no secret ever appears in a plan)."""
    lines = ['Project %s/%s, env %s: %d services, %d servers, about $%.2f/month'
             % (spec['user'], spec['project'], spec['env'], len(plan['services']), plan['servers'],
                plan['monthly_cost']),
             'Network %s, sidecar %s (alias nginx), directory %s'
             % (naming.network_name(spec['user'], spec['project'], spec['env']),
                naming.sidecar_name(spec['user'], spec['project'], spec['env']),
                naming.project_dir(spec.get('fleet_root'), spec['user'], spec['project'], spec['env'])),
             '']
    headers = ('group', 'service', 'role', 'container', 'image', 'ports: container>host/secondary internal',
               'servers', 'cost/mo', 'domain / schedule')
    rows = []
    for r in plan['services']:
        if r['container_port']:
            ports = '%s>%s/%s %s' % (r['container_port'], r['host_port'], r['secondary_port'], r['internal_port'])
        else:
            ports = '- %s' % r['internal_port']
        if r['collision']:
            ports += ' (moved off a hash collision)'
        rows.append((r['group'], r['service'], r['role'], r['container'], r['image'], ports,
                     '%d x %s %s' % (r['servers_count'], r['size'], ', '.join(r['zones'])),
                     '$%.2f' % r['monthly_cost'], r['domain'] or r['schedule'] or '-'))
    lines.extend(text_table(headers, rows))
    return lines
