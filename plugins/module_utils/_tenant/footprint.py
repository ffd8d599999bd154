# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tenant's footprint on one server, and what removing it (or some of its services) takes. Pure.

What a tenant ``{user}_{project}_{env}`` (the *prefix*) puts on a server, and how each thing names
the service it belongs to (ids never contain ``_``, so every name below parses one way only):

* containers with the labels ``fleet.user``/``fleet.project``/``fleet.env`` (and ``fleet.service``
  for a service's toggle slots, job and helper containers; the sidecar has ``fleet.role=sidecar``);
* the network ``{prefix}_net``; volumes ``{prefix}_data_{service}``, ``{prefix}_logs_{service}`` and
  the spec's named volumes ``{prefix}_{name}``;
* cron files ``fleet_{prefix}_{service}`` (a scheduled service) and ``fleet_{prefix}_{service}_backup``;
* entries in the server's shared ``.fleet/ports.json``: host ports ``{prefix}_{service}_{port}`` and
  the internal ports ``internal[{prefix}]``;
* files under ``{fleet_root}/{user}/{project}/{env}/`` (``config/deploy/{service}.json``, ``config/health/{service}.json``,
  ``secrets/{service}_*``, ``secrets/{service}.env``, ``secrets/run/{service}/``, ``logs/{service}/``,
  ``logs/backup/{service}.log``, ``backups/{service}_backup_*``, ``monitoring/backups/{service}.json``,
  ``data/{service}/``).

:func:`plan_prune` says what goes when services left the spec (a deploy), :func:`plan_absent` what
goes when the whole tenant leaves the server (remove.yml). Both return a list of :func:`item` dicts,
each with ``action`` ``remove`` or ``keep``; the server side (``server.py``) gathers the listings and
carries the plan out.
"""

from __future__ import annotations

import posixpath

from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming

# The tenant directories that stay when a tenant is removed without purge: the data, its backups, and
# the passwords the kept database volumes were initialised with (without them a later deploy of the
# same env could not open the kept data; on the embedded default this is the controller's own copy).
KEPT_DIRS = ('backups', 'data', 'secrets')

# The order things go in: cron first (nothing starts a job any more), the containers, then what they
# used (network, volumes), then the files and the shared state.
KIND_ORDER = ('cron', 'container', 'network', 'volume', 'path', 'port')

# The collection's own files of a service in secrets/ (``{service}{suffix}``); anything else there is the
# user's own (push.yml copies the controller's secrets/), and a deploy's prune never touches it.
SECRET_SUFFIXES = ('_password', '_password.next', '_pgpass', '_redis.conf', '_login', '.env')

# Per service, relative to the tenant directory: (directory, how a name there belongs to the service,
# kept with the data unless purged).
#   'exact' - the name is the service;  'json'/'log'/'lock' - ``{service}.json`` (and ``{service}.retiring.json``) /
#   ``.log`` / ``.{service}.lock``
#   'env' - ``{service}.env``;  'secret' - ``{service}`` + one of SECRET_SUFFIXES but .env (the passwords)
#   'backup' - ``{service}_backup_...`` and the hidden temporary files of one (``.{service}_backup_...``)
SERVICE_FILES = (
    ('config/deploy', 'json', False),
    ('config/health', 'json', False),
    ('secrets/run', 'exact', False),
    ('secrets', 'env', False),
    ('secrets', 'secret', True),
    ('logs', 'exact', False),
    ('logs/backup', 'log', False),
    ('logs/backup', 'lock', False),
    ('backups', 'backup', True),
    ('monitoring/backups', 'json', True),
    ('data', 'exact', True),
)


def _service_id(text):
    """``text`` when it is a valid service id (reserved names included: they are never a tenant's service)."""
    if text and naming.SERVICE_RE.match(text):
        return text
    return None


def cron_service(prefix, filename):
    """``(service, 'schedule'|'backup')`` for a cron file of the tenant, else None."""
    head = 'fleet_%s_' % prefix
    if not filename.startswith(head):
        return None
    rest = filename[len(head):]
    kind = 'schedule'
    if rest.endswith('_backup'):
        rest, kind = rest[:-len('_backup')], 'backup'
    service = _service_id(rest)
    return (service, kind) if service else None


def volume_service(prefix, name):
    """For a volume of the tenant: ``(service, 'data'|'logs')``, or ``(None, short name)`` for a named
    volume of the spec; None for a volume that is not the tenant's."""
    head = prefix + '_'
    if not name.startswith(head):
        return None
    rest = name[len(head):]
    for kind in ('data', 'logs'):
        if rest.startswith(kind + '_') and _service_id(rest[len(kind) + 1:]):
            return rest[len(kind) + 1:], kind
    return (None, rest) if rest else None


def host_port_service(prefix, key):
    """The service of a host port key ``{prefix}_{service}_{container_port}``, else None."""
    head = prefix + '_'
    if not key.startswith(head):
        return None
    service, _sep, port = key[len(head):].rpartition('_')
    return _service_id(service) if port.isdigit() else None


def internal_port_service(prefix, key):
    """The service of an internal port key ``{prefix}_{service}_internal``, else None."""
    head, tail = prefix + '_', '_internal'
    if not (key.startswith(head) and key.endswith(tail)):
        return None
    return _service_id(key[len(head):-len(tail)])


def file_service(kind, name, services=None):
    """The service a file or directory ``name`` of a SERVICE_FILES directory belongs to, else None.

    ``services`` (optional) limits 'exact' matches to known services: ``data/`` and ``logs/`` also
    hold directories that are not a service's (``logs/backup``, a spec's ``data/uploads``).
    """
    if kind == 'exact':
        service = _service_id(name)
        return service if service and (services is None or service in services) else None
    if kind == 'json' and name.endswith('.json'):
        # ``{service}.retiring.json``: an old slot's retire in progress (``_deploy/retire``)
        return _service_id(name[:-len('.json')]) or (
            _service_id(name[:-len('.retiring.json')]) if name.endswith('.retiring.json') else None)
    if kind == 'log' and name.endswith('.log'):
        return _service_id(name[:-len('.log')])
    if kind == 'lock' and name.startswith('.') and name.endswith('.lock'):
        return _service_id(name[1:-len('.lock')])
    if kind == 'env' and name.endswith('.env'):
        return _service_id(name[:-len('.env')])
    if kind == 'secret':
        for suffix in SECRET_SUFFIXES[:-1]:
            if name.endswith(suffix) and _service_id(name[:-len(suffix)]):
                return name[:-len(suffix)]
        return None
    if kind == 'backup':
        bare = name[1:] if name.startswith('.') else name
        service, sep, rest = bare.partition('_')
        return _service_id(service) if sep and rest.startswith('backup_') else None
    return None


def item(kind, name, action, service=None, detail=None):
    """One thing of the footprint: ``kind`` (container, network, volume, cron, port, path), its name
    (a path relative to the tenant directory for ``path``), ``remove`` or ``keep``."""
    return {'kind': kind, 'name': name, 'action': action, 'service': service, 'detail': detail}


def _keep_or_purge(purge):
    return 'remove' if purge else 'keep'


def _ports(prefix, ports, wanted):
    """Port items of the tenant whose service ``wanted(service)`` says; ``ports`` is the state file's
    ``{'host': {key: port}, 'internal': {key: port}}`` (internal: the tenant's own table)."""
    found = []
    for key, port in sorted((ports.get('host') or {}).items()):
        service = host_port_service(prefix, key)
        if service and wanted(service):
            found.append((key, port, service, 'host'))
    for key, port in sorted((ports.get('internal') or {}).items()):
        service = internal_port_service(prefix, key)
        if service and wanted(service):
            found.append((key, port, service, 'internal'))
    return found


def known_services(prefix, found):
    """Every service of the tenant this server shows a trace of: container labels, cron files, volumes,
    port entries and the files the collection alone writes (never a name in secrets/, where push.yml
    puts the user's own files)."""
    services = set()
    for container in found.get('containers') or []:
        if container.get('service'):
            services.add(container['service'])
    for name in found.get('cron_files') or []:
        parsed = cron_service(prefix, name)
        if parsed:
            services.add(parsed[0])
    for name in found.get('volumes') or []:
        parsed = volume_service(prefix, name)
        if parsed and parsed[0]:
            services.add(parsed[0])
    services.update(entry[2] for entry in _ports(prefix, found.get('ports') or {}, lambda s: True))
    files = found.get('files') or {}
    for directory, kind, _kept in SERVICE_FILES:
        if kind == 'exact' or directory == 'secrets':
            # data/ and logs/ hold other directories too, and secrets/ the user's own files (push.yml): a
            # service there is known from elsewhere (its volume, its port, its backups) or not at all
            continue
        for name in files.get(directory) or []:
            service = file_service(kind, name)
            if service:
                services.add(service)
    return services


def plan_prune(prefix, found, services, volumes=(), purge=False):
    """What goes when the services not in ``services`` (the spec's) left the spec.

    ``found``: ``containers`` (dicts with ``name``, ``service``), ``cron_files``, ``volumes`` (names, all
    of the tenant's), ``ports`` (see :func:`_ports`) and ``files`` (directory relative to the tenant
    directory -> names).
    ``volumes``: the spec's named volumes (short names), which stay.

    Containers, cron files and the service's run files go; its data volume, data directory, backups,
    passwords and port reservations stay unless ``purge`` (a re-added service gets its data back, its
    passwords to open it and the same ports). A named volume no service of the spec mounts any more
    is kept or purged the same way.
    """
    keep = set(services)
    gone = sorted(known_services(prefix, found) - keep)
    removed = set(gone)
    items = []
    for name in sorted(found.get('cron_files') or []):
        parsed = cron_service(prefix, name)
        if parsed and parsed[0] in removed:
            items.append(item('cron', name, 'remove', parsed[0], parsed[1]))
    for container in sorted(found.get('containers') or [], key=lambda c: c['name']):
        if container.get('service') in removed:
            items.append(item('container', container['name'], 'remove', container['service']))
    wanted_volumes = set(prefix + '_' + v for v in volumes)
    for name in sorted(found.get('volumes') or []):
        parsed = volume_service(prefix, name)
        if not parsed:
            continue
        if parsed[0] in removed:
            items.append(item('volume', name, _keep_or_purge(purge), parsed[0], parsed[1]))
        elif parsed[0] is None and name not in wanted_volumes:
            items.append(item('volume', name, _keep_or_purge(purge), None, 'no service of the spec mounts it'))
    files = found.get('files') or {}
    for directory, kind, kept in SERVICE_FILES:
        for name in sorted(files.get(directory) or []):
            service = file_service(kind, name, removed)
            if service in removed:
                items.append(item('path', posixpath.join(directory, name), _keep_or_purge(purge) if kept else 'remove',
                                  service))
    for key, port, service, scope in _ports(prefix, found.get('ports') or {}, removed.__contains__):
        items.append(item('port', key, _keep_or_purge(purge), service, '%s port %s' % (scope, port)))
    return gone, _ordered(items)


def plan_absent(prefix, found, purge=False, network=None):
    """What goes when the whole tenant leaves the server (remove.yml).

    Every container, the network, every cron file and every port entry of the tenant go; the tenant
    directory loses everything but KEPT_DIRS; the volumes and KEPT_DIRS stay unless ``purge``, which
    removes the tenant directory whole (``found['dirs']``: the names in it; ``found['project_dir']``
    says whether it exists).
    """
    items = []
    for name in sorted(found.get('cron_files') or []):
        parsed = cron_service(prefix, name)
        items.append(item('cron', name, 'remove', parsed[0] if parsed else None, parsed[1] if parsed else None))
    for container in sorted(found.get('containers') or [], key=lambda c: c['name']):
        items.append(item('container', container['name'], 'remove', container.get('service'),
                          container.get('role')))
    for name in sorted(found.get('networks') or []):
        items.append(item('network', name, 'remove'))
    for name in sorted(found.get('volumes') or []):
        parsed = volume_service(prefix, name)
        items.append(item('volume', name, _keep_or_purge(purge), parsed[0] if parsed else None,
                          parsed[1] if parsed else None))
    if purge and found.get('project_dir'):
        items.append(item('path', '.', 'remove', detail='the tenant directory'))
    else:
        for name in sorted(found.get('dirs') or []):
            items.append(item('path', name, 'keep' if name in KEPT_DIRS else 'remove'))
    for key, port, service, scope in _ports(prefix, found.get('ports') or {}, lambda s: True):
        items.append(item('port', key, 'remove', service, '%s port %s' % (scope, port)))
    return _ordered(items)


def _ordered(items):
    return sorted(items, key=lambda i: (KIND_ORDER.index(i['kind']), i['name']))


def describe(entry, project_dir=None, cron_dir=None):
    """One readable line for an item: ``container u1_myapp_prod_web (service web)``."""
    name = entry['name']
    if entry['kind'] == 'path' and project_dir:
        name = project_dir if name == '.' else posixpath.join(project_dir, name)
    elif entry['kind'] == 'cron' and cron_dir:
        name = posixpath.join(cron_dir, name)
    notes = []
    if entry.get('service'):
        notes.append('service %s' % entry['service'])
    if entry.get('detail'):
        notes.append(str(entry['detail']))
    label = {'port': 'port reservation'}.get(entry['kind'], entry['kind'])
    return '%s %s%s' % (label, name, ' (%s)' % ', '.join(notes) if notes else '')


def split_lines(items, lines):
    """``(removed, kept)``: the lines (``lines[id(item)]``) of the items that go and of those that stay."""
    return ([lines[id(e)] for e in items if e['action'] == 'remove'],
            [lines[id(e)] for e in items if e['action'] == 'keep'])


def summary(removed, kept, purge, check_mode=False, what=None):
    """The one-line ``msg`` of a run: how many things went (or would go) and what stayed."""
    verb = 'would remove' if check_mode else 'removed'
    done = ('%s %d thing%s' % (verb, len(removed), '' if len(removed) == 1 else 's')) if removed else 'nothing to remove'
    text = '%s%s' % ('%s: ' % what if what else '', done)
    if kept:
        text += ', kept %d%s' % (len(kept), '' if purge else ' (-e fleet_purge=true removes them)')
    return text
