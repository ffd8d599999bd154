# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The routes of a server alone in the play, in its start's run (toggle_deploy's ``mesh``).

Nothing but this server's own sidecar and edge route to its services, so once its new slots passed their checks
and are recorded, the routes follow from what serves here: the sidecar and the edge are switched and the old slots
handed to their retire in the same module run, as the routing run of the deploy role (nginx_mesh with promote and
retire) would do in a run of its own."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.apply import checked
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.routes import mesh_routes

# toggle_deploy's mesh (the routes come from services, address and zone; the rest is nginx_mesh's)
MESH_OPTION = dict(type='dict', options=dict(
    services=dict(type='list', elements='dict', required=True),
    address=dict(type='str', required=True),
    zone=dict(type='str'),
    image=dict(type='str', required=True),
    config_dir=dict(type='path', required=True),
    network=dict(type='str', required=True),
    edge=dict(type='dict'),
    drain_seconds=dict(type='float', default=2),
))


def routing_params(task, mesh, running, retire):
    """nginx_mesh's parameters, checked, for toggle_deploy's task options ``task`` (user, project, env, state_dir,
    docker_host), its ``mesh``, what serves here now ``running`` (running_services) and the services whose old
    slot is to be retired (``mesh`` checked against MESH_OPTION); ValueError when it is wrong."""
    zone = mesh.get('zone')
    try:
        routes = mesh_routes(mesh['services'], [{'address': mesh['address'], 'services': running, 'zone': zone}], zone)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError('mesh: services: %s' % exc)
    given = dict(kind='sidecar', user=task['user'], project=task['project'], env=task['env'],
                 routes=routes['sidecar'], image=mesh['image'], config_dir=mesh['config_dir'],
                 network=mesh['network'], docker_host=task['docker_host'])
    if routes['edge']:
        given['edge'] = dict(mesh.get('edge') or {}, routes=routes['edge'])
    if retire:
        given['retire'] = dict(services=list(retire), state_dir=task['state_dir'], drain_seconds=mesh['drain_seconds'])
    try:
        return checked(given)
    except ValueError as exc:
        raise ValueError('mesh: %s' % exc)
