# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mesh_routes filter: sidecar and edge routes from a plan and the servers' state."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.routes import mesh_routes as _mesh_routes
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.routes import promoted_view as _promoted_view


def mesh_routes(rows, servers, zone=None):
    try:
        return _mesh_routes(rows, servers, zone)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('mesh_routes: %s' % exc)


def server_view(host_vars):
    """``{'address', 'services', 'zone'}`` of one server from its hostvars (after deploy_info ran there)."""
    try:
        return {'address': host_vars['deploy_address'], 'services': host_vars['deploy_running']['services'],
                'zone': host_vars.get('fleet_zone')}
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError('server_view: the host has no %s yet; run deploy_info first' % exc)


def promoted_view(view, started):
    """``view`` with the ``started`` services serving from their new slots (before the routing run records them)."""
    try:
        return _promoted_view(view, started)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('promoted_view: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'mesh_routes': mesh_routes, 'server_view': server_view, 'promoted_view': promoted_view}
