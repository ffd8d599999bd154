# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tenant's host firewall on one server, read and written through iptables-save/-restore under a lock
(host_firewall, project_host as part of a server's preparation, and deploy_changes, which only compares)."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager

from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules as _rules
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import FleetDockerError, NotFound

NEW_BRIDGE = 'br-(new)'  # check mode: a network this run would create has no interface yet


@contextmanager
def _locked():
    """One run at a time per server: tenants deployed at once read and write the same chains."""
    fd = os.open(_rules.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def bridge_of(client, name, check_mode=False):
    """The host interface of a Docker bridge network (``br-<id>``, ``docker0``, or the name set on it)."""
    try:
        network = client.networks.get(name)
    except NotFound:
        if check_mode:
            return NEW_BRIDGE
        raise FleetDockerError("networks: there is no Docker network '%s' on this server; fix: deploy the tenant "
                               "first (the deploy role creates its network and the edge's)" % name)
    attrs = network.attrs
    if attrs.get('Driver') != 'bridge':
        raise FleetDockerError("networks: '%s' is a %s network, not a bridge; fix: name the tenant's bridge network"
                               % (name, attrs.get('Driver')))
    options = attrs.get('Options') or {}
    return options.get('com.docker.network.bridge.name') or 'br-' + network.id[:12]


def converge(iptables, save, restore, tenant, ports, bridges, peers, present=True, check_mode=False):
    """Make the tenant's rules what they should be; ``iptables(argv, data=None)`` runs a command and returns its
    output. Returns ``(changed, wanted rules, rules before)``."""
    wanted = _rules.tenant_rules(tenant, ports, bridges, peers) if present else {}
    with _locked():
        chains = _rules.parse_save(iptables([save, '-t', 'filter']))
        wanted = _rules.fit_to_table(wanted, chains)
        before = _rules.current_rules(chains, tenant)
        batch = _rules.restore_batch(chains, tenant, wanted)
        if batch and not check_mode:
            iptables([restore, '--noflush'], data=batch)
    return bool(batch), wanted, before


def converge_tenant(iptables, client, ids, ports, networks, peers, check_mode=False):
    """The rules of the tenant ``ids`` (user, project, env): its host ``ports`` reached from the Docker ``networks``
    and the ``peers`` (``{address, ports}``); ``iptables`` is an ``_firewall.iptables.Iptables``. Whether they
    changed (in check mode: whether they would)."""
    bridges = [bridge_of(client, name, check_mode) for name in networks]
    peers = [dict(address=peer['address'], ports=[int(x) for x in peer.get('ports') or []]) for peer in peers]
    return converge(iptables, iptables.save, iptables.restore, _rules.tenant_name(*ids), ports, bridges, peers,
                    True, check_mode)[0]
