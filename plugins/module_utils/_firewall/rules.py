# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host firewall that keeps a tenant's host ports its own (pure: rules as text, no iptables call).

Docker publishes a host port two ways, and a connection to it takes one of two paths:

- from a container on the same server (any Docker bridge), Docker's nat chain returns early for
  bridge traffic, so the connection is delivered locally to ``docker-proxy`` and passes the filter
  table's **INPUT** chain with the host port as its destination port;
- from another server (the VPC), the connection is DNAT-ed to the container and passes **FORWARD**
  (Docker's ``DOCKER-USER`` chain) with the tenant's bridge as its out-interface.

So the collection owns two dispatch chains, jumped to first from ``INPUT`` and ``DOCKER-USER``:

- ``FLEET-PORTS-IN``: a connection to one of the tenant's host ports goes to the tenant's chain;
- ``FLEET-PORTS-FWD``: a connection DNAT-ed onto the tenant's bridge, or one leaving this server for
  the tenant's host ports on another server of the env, goes to the tenant's chain;

and one chain per tenant, ``FLEET-T-<hash>``, that decides by source: the host itself, the tenant's
own bridge and the edge's bridge are let through (RETURN, so the operator's own rules still apply);
any other Docker bridge is dropped; then the env's other servers are let through and the rest is
dropped. Every rule carries the comment ``fleet {user}_{project}_{env}``, so a tenant's rules are
found, changed and removed by name and rules the collection did not create are never touched.

Rules are kept as the exact text ``iptables -S`` prints, so comparing them with the live table is a
string comparison, and a change is one ``iptables-restore --noflush`` transaction (atomic: a
tenant's ports are never briefly open or closed while its rules are rewritten).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

INPUT_CHAIN = 'FLEET-PORTS-IN'
FORWARD_CHAIN = 'FLEET-PORTS-FWD'
DISPATCH = ((INPUT_CHAIN, 'INPUT'), (FORWARD_CHAIN, 'DOCKER-USER'))
TENANT_PREFIX = 'FLEET-T-'
LOCK_FILE = '/run/fleet-host-firewall.lock'  # one change at a time per server (tenants deployed at once)
MULTIPORT_MAX = 15  # the multiport match takes at most 15 ports
_INTERFACE = re.compile(r'^[A-Za-z0-9_.+()-]{1,15}$')  # () only in check mode's 'br-(new)'


class FirewallError(ValueError):
    """A bad argument (an address, a port or an interface name), with the fix."""


def tenant_name(user, project, env):
    return '%s_%s_%s' % (user, project, env)


def tenant_chain(tenant):
    """``FLEET-T-`` and 12 hex digits of the tenant's name (chain names stop at 28 characters)."""
    return TENANT_PREFIX + hashlib.sha256(tenant.encode()).hexdigest()[:12]


def comment(tenant):
    return '-m comment --comment "fleet %s"' % tenant


def address(value):
    """An IPv4 address or network as ``iptables -S`` prints it (``10.0.0.5/32``)."""
    try:
        return str(ipaddress.IPv4Network(str(value), strict=False))
    except ValueError:
        raise FirewallError("peers: '%s' is not an IPv4 address or network; fix: give the server's "
                            "private (VPC) address, e.g. 10.110.0.5" % value)


def _ports(values, what):
    ports = set()
    for value in values or ():
        try:
            port = int(value)
        except (TypeError, ValueError):
            port = 0
        if not 1 <= port <= 65535:
            raise FirewallError("%s: '%s' is not a TCP port; fix: give numbers from 1 to 65535" % (what, value))
        ports.add(port)
    return sorted(ports)


def _chunks(ports):
    return [ports[i:i + MULTIPORT_MAX] for i in range(0, len(ports), MULTIPORT_MAX)]


def _interface(name):
    if not _INTERFACE.match(name or ''):
        raise FirewallError("'%s' is not a network interface name" % name)
    return name


def tenant_rules(tenant, ports, bridges, peers=()):
    """Every rule of one tenant on one server: ``{chain: [rule, ...]}`` without the ``-A CHAIN`` head.

    ``ports`` are the tenant's host ports on this server (both toggle slots); ``bridges`` the
    interfaces let through, the tenant's own bridge first (the edge's next, when the tenant has
    domains); ``peers`` the env's other servers, ``{'address', 'ports'}`` with their host ports.
    A tenant with no host port needs no rule: the result is then empty.
    """
    ports = _ports(ports, 'ports')
    bridges = [_interface(b) for b in bridges]
    if not bridges:
        raise FirewallError('networks: the tenant network is needed; fix: name the tenant network first')
    peers = [(address(p['address']), _ports(p.get('ports'), 'peers[].ports')) for p in peers or ()]
    if not ports and not any(peer_ports for dummy, peer_ports in peers):
        return {}
    tag = comment(tenant)
    chain = tenant_chain(tenant)
    jump = '%s -j %s' % (tag, chain)
    rules = {INPUT_CHAIN: [], FORWARD_CHAIN: [], chain: []}
    for chunk in _chunks(ports):
        rules[INPUT_CHAIN].append('-p tcp -m multiport --dports %s %s' % (','.join(map(str, chunk)), jump))
    if ports:
        rules[FORWARD_CHAIN].append('-o %s -m conntrack --ctstate DNAT --ctdir ORIGINAL %s' % (bridges[0], jump))
    for peer, peer_ports in sorted(set((a, tuple(p)) for a, p in peers)):
        for chunk in _chunks(list(peer_ports)):
            rules[FORWARD_CHAIN].append('-d %s -p tcp -m multiport --dports %s %s'
                                        % (peer, ','.join(map(str, chunk)), jump))
    own = rules[chain]
    own.append('-i lo %s -j RETURN' % tag)
    own.extend('-i %s %s -j RETURN' % (bridge, tag) for bridge in bridges)
    own.append('-i docker0 %s -j DROP' % tag)
    own.append('-i br+ %s -j DROP' % tag)
    own.extend('-s %s %s -j RETURN' % (peer, tag) for peer in sorted(set(a for a, dummy in peers)))
    own.append('%s -j DROP' % tag)
    return rules


def parse_save(text):
    """``iptables-save -t filter`` (or ``iptables -S``) as ``{chain: [rule, ...]}``, every chain listed."""
    chains = {}
    for line in (text or '').splitlines():
        if line.startswith(':'):
            chains.setdefault(line[1:].split(' ', 1)[0], [])
        elif line.startswith('-N '):
            chains.setdefault(line[3:].strip(), [])
        elif line.startswith('-A '):
            name, dummy, rule = line[3:].partition(' ')
            chains.setdefault(name, []).append(rule)
    return chains


def current_rules(chains, tenant):
    """The tenant's rules in a parsed table, in the shape ``tenant_rules`` returns."""
    tag = comment(tenant)
    chain = tenant_chain(tenant)
    found = {}
    for name in (INPUT_CHAIN, FORWARD_CHAIN):
        mine = [r for r in chains.get(name, []) if tag in r]
        if mine:
            found[name] = mine
    if chain in chains:
        found[chain] = list(chains[chain])
    return found


def _normal(rules):
    return {name: (sorted(rs) if name in (INPUT_CHAIN, FORWARD_CHAIN) else list(rs))
            for name, rs in rules.items() if rs or name.startswith(TENANT_PREFIX)}


def same(current, wanted):
    return _normal(current) == _normal(wanted)


def _jump_present(chains, dispatch, parent):
    return ('-j %s' % dispatch) in chains.get(parent, [])


def fit_to_table(wanted, chains):
    """``wanted`` without the FORWARD rules when Docker made no ``DOCKER-USER`` chain.

    Docker started with ``--iptables=false`` DNATs nothing: every connection to a host port then
    reaches ``docker-proxy`` through INPUT, which the INPUT rules cover.
    """
    if 'DOCKER-USER' in chains or FORWARD_CHAIN not in wanted:
        return wanted
    return dict((name, rules) for name, rules in wanted.items() if name != FORWARD_CHAIN)


def restore_batch(chains, tenant, wanted):
    """The ``iptables-restore --noflush`` text that turns the table's rules of ``tenant`` into ``wanted``.

    ``chains`` is the parsed live table, ``wanted`` fitted to it (``fit_to_table``). Dispatch chains
    and their jumps are created when missing and removed with their last rule. Returns '' when
    nothing changes.
    """
    current = current_rules(chains, tenant)
    if same(current, wanted):
        return ''
    chain = tenant_chain(tenant)
    lines = ['*filter']
    for name in (INPUT_CHAIN, FORWARD_CHAIN):
        for rule in current.get(name, []):
            lines.append('-D %s %s' % (name, rule))
    if chain in current:
        lines.append('-F %s' % chain)
    if wanted:
        if chain not in current:
            lines.append('-N %s' % chain)
        lines.extend('-A %s %s' % (chain, rule) for rule in wanted[chain])
    for name, parent in DISPATCH:
        others = [r for r in chains.get(name, []) if r not in current.get(name, [])]
        mine = wanted.get(name, [])
        if mine or others:
            if name not in chains:
                lines.append('-N %s' % name)
            if not _jump_present(chains, name, parent) and parent in chains:
                lines.append('-I %s 1 -j %s' % (parent, name))
            lines.extend('-A %s %s' % (name, rule) for rule in mine)
        elif name in chains:
            if _jump_present(chains, name, parent):
                lines.append('-D %s -j %s' % (parent, name))
            lines.append('-X %s' % name)
    if not wanted and chain in current:
        lines.append('-X %s' % chain)
    lines.append('COMMIT')
    return '\n'.join(lines) + '\n'


def show(rules):
    """Rules as the ``iptables -S`` lines an operator reads (for diff and the module's result)."""
    out = []
    for name in sorted(rules, key=lambda n: (n.startswith(TENANT_PREFIX), n)):
        out.extend('-A %s %s' % (name, rule) for rule in rules[name])
    return out
