# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reserving a service's ports in the persisted state (port_hash, project_host)."""

from __future__ import annotations

import contextlib
import socket

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import check_ids, tenant_argument_spec
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.ports import (
    HOST_BASE, INTERNAL_BASE, PortTable, secondary_port, service_ports)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.port_state import empty_state, locked_state

# port_hash's options (the module and, on the controller, its action run the same code)
PORT_HASH_OPTIONS = dict(
    tenant_argument_spec('optional'),
    services=dict(type='list', elements='dict', options=dict(
        service=dict(type='str', required=True),
        container_port=dict(type='int'),
    )),
    container_port=dict(type='int'),
    state_file=dict(type='path'),
    avoid_bound=dict(type='str'),
)
PORT_HASH_CONSTRAINTS = dict(
    required_one_of=[('service', 'services')],
    mutually_exclusive=[('service', 'services'), ('container_port', 'services')],
)


def bound(address):
    """busy(port) for a host port table: the port or its secondary slot cannot be bound on ``address`` now."""
    def busy(port):
        for candidate in (port, secondary_port(port)):
            with contextlib.closing(socket.socket(socket.AF_INET6 if ':' in address else socket.AF_INET)) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((address, candidate))
                except OSError:
                    return True
        return False
    return busy


def reserve(state, user, project, env, service, container_port=None, avoid_bound=None):
    """Allocate one service's ports in ``state`` (mutated); return service_ports' fields (``new`` included)."""
    tenant = '%s_%s_%s' % (user, project, env)
    host_table = PortTable(HOST_BASE, state['host'], bound(avoid_bound) if avoid_bound else None)
    internal_table = PortTable(INTERNAL_BASE, state['internal'].get(tenant, {}))
    ports = service_ports(host_table, internal_table, user, project, env, service, container_port)
    state['host'] = host_table.assignments
    state['internal'][tenant] = internal_table.assignments
    return ports


@contextlib.contextmanager
def _unsaved(state):
    yield state


def port_hash(params, check_mode=False):
    """port_hash's result for its (validated) ``params``: one service's ports, or with ``services`` each one's
    under ``ports``; ``changed`` when a new reservation was recorded."""
    wanted = params['services'] or [{'service': params['service'], 'container_port': params['container_port']}]
    for item in wanted:
        check_ids(user=params['user'], project=params['project'], env=params['env'], service=item['service'])
        port = item['container_port']
        if port is not None and not 1 <= port <= 65535:
            raise ValueError('%s: container_port %d is not a TCP port: use 1-65535' % (item['service'], port))
    saved = locked_state(params['state_file'], write=not check_mode) if params['state_file'] else _unsaved(empty_state())
    with saved as state:
        ports = {}
        for item in wanted:
            ports[item['service']] = reserve(state, params['user'], params['project'], params['env'], item['service'],
                                             item['container_port'], params['avoid_bound'])
    changed = bool([entry for entry in ports.values() if entry.pop('new')]) and bool(params['state_file'])
    if params['services']:
        return dict(changed=changed, ports=ports)
    return dict(ports[params['service']], changed=changed)
