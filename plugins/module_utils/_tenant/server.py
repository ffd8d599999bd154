# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tenant's footprint on the server the module runs on: gathered from the Docker engine, the cron
directory, the shared port state and the tenant directory; removed item by item (``footprint.py``
decides what goes). Used by the ``tenant_remove`` module, and by ``deploy_changes`` to see beforehand
whether a deploy's prune has anything to remove (``prune_plan``)."""

from __future__ import annotations

import contextlib
import os
import shutil

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.port_state import locked_state
from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import footprint
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    APIError, FleetDockerError, NotFound)

STOP_TIMEOUT = 10


class TenantError(FleetDockerError):
    """A removal that cannot go on, in one line naming the object and the fix."""


def _labels(user, project, env):
    return ['fleet.user=%s' % user, 'fleet.project=%s' % project, 'fleet.env=%s' % env]


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _read_ports(port_file, prefix):
    """The tenant's entries of the shared port state (nothing is created when the file is missing)."""
    if not port_file or not os.path.isfile(port_file):
        return {'host': {}, 'internal': {}}
    with locked_state(port_file, write=False) as state:
        return {'host': dict(state.get('host') or {}), 'internal': dict((state.get('internal') or {}).get(prefix) or {})}


def gather(client, ids, fleet_root, cron_dir, port_file, whole=False):
    """Everything of tenant ``ids`` (user, project, env) on this server, as ``footprint`` wants it.

    ``whole``: also containers and networks found by name only (remove.yml takes everything that is
    called like the tenant, labelled or not).
    """
    user, project, env = ids
    prefix = naming.prefix(user, project, env)
    containers = {}
    for container in client.containers.list(all=True, filters={'label': _labels(user, project, env)}):
        containers[container.name] = {'name': container.name, 'service': container.labels.get('fleet.service'),
                                      'role': container.labels.get('fleet.role'), 'object': container}
    if whole:
        for container in client.containers.list(all=True, filters={'name': prefix + '_'}):
            if container.name.startswith(prefix + '_') and container.name not in containers:
                containers[container.name] = {'name': container.name, 'service': container.labels.get('fleet.service'),
                                              'role': container.labels.get('fleet.role'), 'object': container}
    networks = {}
    if whole:
        for net in client.networks.list(filters={'label': _labels(user, project, env)}):
            networks[net.name] = net
        for net in client.networks.list(names=[naming.network_name(user, project, env)]):
            if net.name == naming.network_name(user, project, env):
                networks[net.name] = net
    volumes = {}
    for volume in client.volumes.list():
        labels = volume.attrs.get('Labels') or {}
        mine = (labels.get('fleet.user'), labels.get('fleet.project'), labels.get('fleet.env')) == (user, project, env)
        if volume.name.startswith(prefix + '_') or mine:
            volumes[volume.name] = volume
    project_dir = naming.project_dir(fleet_root, user, project, env)
    files = {}
    for directory in sorted(set(d for d, _k, _kept in footprint.SERVICE_FILES)):
        files[directory] = _listdir(os.path.join(project_dir, directory))
    return {
        'ids': (user, project, env),
        'prefix': prefix,
        'project_dir': project_dir if os.path.isdir(project_dir) else None,
        'containers': list(containers.values()),
        'networks': sorted(networks),
        'network_objects': networks,
        'volumes': sorted(volumes),
        'volume_objects': volumes,
        'cron_files': [name for name in _listdir(cron_dir) if name.startswith('fleet_%s_' % prefix)],
        'ports': _read_ports(port_file, prefix),
        'files': files,
        'dirs': _listdir(project_dir),
    }


def port_state_path(fleet_root, port_state=None):
    """The server's shared port state: ``port_state``, else ``{fleet_root}/.fleet/ports.json``."""
    return port_state or os.path.join(fleet_root, '.fleet', 'ports.json')


def prune_plan(client, ids, fleet_root, cron_dir, port_file, services, volumes=(), purge=False):
    """What a prune of tenant ``ids`` to ``services`` (and their named ``volumes``) does on this server:
    ``(found, gone, items, lines)`` - ``gather``'s result, the services that left, ``footprint.plan_prune``'s
    items (each with its ``action``, remove or keep) and each item's line for people (``footprint.describe``),
    by ``id(item)``."""
    found = gather(client, ids, fleet_root, cron_dir, port_file)
    gone, items = footprint.plan_prune(naming.prefix(*ids), found, services, volumes, purge=purge)
    project_dir = found['project_dir'] or naming.project_dir(fleet_root, *ids)
    lines = dict((id(entry), footprint.describe(entry, project_dir, cron_dir)) for entry in items)
    return found, gone, items, lines


def _gone(exc):
    """Whether the engine said the object is not there (any more)."""
    return getattr(exc, 'status_code', None) == 404 or isinstance(exc, NotFound)


def _remove_container(container):
    try:
        container.stop(timeout=STOP_TIMEOUT)
    except APIError:
        pass  # gone, created (never started) or dying: removed by force below
    with contextlib.suppress(NotFound):
        container.remove(force=True, v=True)


def _remove_network(net):
    try:
        net.reload()
        net.remove()
    except APIError as exc:
        if _gone(exc):
            return
        attached = sorted((net.attrs.get('Containers') or {}).values(), key=lambda c: c.get('Name', ''))
        names = ', '.join(c.get('Name', '?') for c in attached) or 'none listed'
        raise TenantError('network %s cannot be removed (%s); containers still attached: %s; fix: disconnect them '
                          '(docker network disconnect %s NAME) and run again'
                          % (net.name, exc.explanation or exc, names, net.name))


def _remove_volume(volume):
    try:
        volume.remove(force=True)
    except APIError as exc:
        if _gone(exc):
            return
        raise TenantError('volume %s cannot be removed (%s); fix: remove the container that uses it and run again'
                          % (volume.name, exc.explanation or exc))


def _remove_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _release_ports(port_file, prefix, keys):
    """Drop ``keys`` from the shared port state (host ports and the tenant's internal table)."""
    if not keys or not port_file or not os.path.isfile(port_file):
        return
    with locked_state(port_file) as state:
        for key in keys:
            state['host'].pop(key, None)
        internal = state['internal'].get(prefix)
        if internal is not None:
            for key in keys:
                internal.pop(key, None)
            if not internal:
                del state['internal'][prefix]


def _prune_parents(project_dir, fleet_root):
    """Remove the now empty ``{project}`` and ``{user}`` directories above a purged tenant directory."""
    root = os.path.normpath(fleet_root)
    parent = os.path.dirname(os.path.normpath(project_dir))
    while parent.startswith(root + os.sep) and parent != root:
        try:
            os.rmdir(parent)
        except OSError:
            return
        parent = os.path.dirname(parent)


def apply(found, items, fleet_root, cron_dir, port_file):
    """Carry out the ``remove`` items of a plan, in the plan's order."""
    containers = dict((c['name'], c['object']) for c in found['containers'] if c.get('object') is not None)
    project_dir = naming.project_dir(fleet_root, *found['ids'])
    ports = []
    for entry in items:
        if entry['action'] != 'remove':
            continue
        kind, name = entry['kind'], entry['name']
        if kind == 'cron':
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(cron_dir, name))
        elif kind == 'container' and name in containers:
            _remove_container(containers[name])
        elif kind == 'network' and name in found['network_objects']:
            _remove_network(found['network_objects'][name])
        elif kind == 'volume' and name in found['volume_objects']:
            _remove_volume(found['volume_objects'][name])
        elif kind == 'path':
            _remove_path(project_dir if name == '.' else os.path.join(project_dir, name))
            if name == '.':
                _prune_parents(project_dir, fleet_root)
        elif kind == 'port':
            ports.append(name)
    _release_ports(port_file, found['prefix'], ports)
