# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's three-tier ports, with collisions resolved for good.

* container port: fixed by the image (5432, 6379, the app's ``port``).
* host port: ``sha256("{user}_{project}_{env}_{service}_{container_port}") % 1000 + 8000``;
  the other toggle slot listens on ``host port + 10000``.
* internal port: ``sha256("{user}_{project}_{env}_{service}_internal") % 1000 + 5000``;
  the sidecar listens there and apps connect to ``nginx:INTERNAL_PORT``.

The hash is ``hashlib.sha256`` (stable across runs and machines), never Python's
randomised ``hash()``.  With 1000 slots collisions are certain at scale, so ports
are *allocated*: a :class:`PortTable` holds every assignment already made (the state
the caller persists), a new key gets its hashed slot when free, else the next free
slot by linear probing ``(h + i) % 1000``.  An assigned key never moves: existing
assignments are read first and only new keys are probed.

Scopes: host ports are unique per server (one table per server, over all tenants);
internal ports are unique per tenant project environment (the sidecar is per
tenant and the port must be the same on every server, so that table is kept with
the project's state on the controller).
"""

from __future__ import annotations

import hashlib

SLOTS = 1000
HOST_BASE = 8000
SECONDARY_OFFSET = 10000
INTERNAL_BASE = 5000


class PortExhaustedError(Exception):
    """Every one of the 1000 slots of a table is taken."""


def stable_hash(text):
    """``int(sha256(text).hexdigest(), 16) % 1000``."""
    return int(hashlib.sha256(text.encode('utf-8')).hexdigest(), 16) % SLOTS


def host_key(user, project, env, service, container_port):
    return '%s_%s_%s_%s_%s' % (user, project, env, service, container_port)


def internal_key(user, project, env, service):
    return '%s_%s_%s_%s_internal' % (user, project, env, service)


def hashed_host_port(user, project, env, service, container_port):
    """The seed's ``get_host_port`` (before collision resolution): 8000-8999."""
    return HOST_BASE + stable_hash(host_key(user, project, env, service, container_port))


def hashed_internal_port(user, project, env, service):
    """The seed's internal port (before collision resolution): 5000-5999."""
    return INTERNAL_BASE + stable_hash(internal_key(user, project, env, service))


def secondary_port(host_port):
    """The other toggle slot: 18000-18999."""
    return host_port + SECONDARY_OFFSET


class PortTable(object):
    """Assignments ``key -> port`` in one range of 1000 ports.

    ``assignments`` is the persisted state (a plain dict, JSON-friendly); it is
    copied, never mutated behind the caller's back.
    """

    def __init__(self, base, assignments=None, busy=None):
        self.base = base
        # busy(port): whether a port nobody here assigned is in use anyway (another program, or another fleet
        # root's tenant on the same engine); a new key skips such ports, an assigned one never moves
        self.busy = busy or (lambda port: False)
        self.assignments = dict(assignments or {})
        self._taken = {}
        for key, port in self.assignments.items():
            if not base <= port < base + SLOTS:
                raise ValueError('port %s of %s is outside %d-%d' % (port, key, base, base + SLOTS - 1))
            if port in self._taken:
                raise ValueError('state assigns port %d to both %s and %s' % (port, self._taken[port], key))
            self._taken[port] = key

    def get(self, key):
        return self.assignments.get(key)

    def probe(self, key):
        """The port ``key`` would get now, without recording it."""
        if key in self.assignments:
            return self.assignments[key]
        start = stable_hash(key)
        for i in range(SLOTS):
            port = self.base + (start + i) % SLOTS
            if port not in self._taken and not self.busy(port):
                return port
        raise PortExhaustedError('all %d ports %d-%d are assigned' % (SLOTS, self.base, self.base + SLOTS - 1))

    def assign(self, key):
        """Return ``(port, new)``: the key's port, recording it when it is new."""
        if key in self.assignments:
            return self.assignments[key], False
        port = self.probe(key)
        self.assignments[key] = port
        self._taken[port] = key
        return port, True

    def release(self, key):
        port = self.assignments.pop(key, None)
        if port is not None:
            self._taken.pop(port, None)
        return port


def service_ports(host_table, internal_table, user, project, env, service, container_port=None):
    """Assign (or look up) every port of one service; returns a JSON-friendly dict.

    ``host_table`` may be None for a service without a container port (workers,
    scheduled jobs): those have an internal port only for naming consistency and
    no host ports.
    """
    ikey = internal_key(user, project, env, service)
    internal, new_internal = internal_table.assign(ikey)
    result = {
        'internal_port': internal,
        'internal_port_hashed': hashed_internal_port(user, project, env, service),
        'host_port': None,
        'secondary_port': None,
        'host_port_hashed': None,
        'new': new_internal,
    }
    if container_port is not None and host_table is not None:
        hkey = host_key(user, project, env, service, container_port)
        host, new_host = host_table.assign(hkey)
        result.update(host_port=host, secondary_port=secondary_port(host),
                      host_port_hashed=hashed_host_port(user, project, env, service, container_port),
                      new=new_internal or new_host)
    result['collision'] = (result['internal_port'] != result['internal_port_hashed']
                           or result['host_port'] != result['host_port_hashed'])
    return result
