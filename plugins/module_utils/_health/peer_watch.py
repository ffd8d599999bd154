# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A peer that goes silent: this server's connections to it are cut at once (the agent's peer watch).

When a server vanishes (powered off, its network gone) nothing tells the others. A connection that an edge or
a sidecar keeps alive to one of its replicas waits for an answer that never comes (nginx's read timeout, 60 s),
so the request sent on it fails at its client long before nginx would retry it elsewhere. The agent therefore
knocks on every peer's agent port once a second (a TCP connect: an answer or a refusal means the host is
there; no reply at all means it is not) and, after ``SILENT_AFTER`` silent knocks in a row, destroys the
sockets that this server's fleet nginx containers (the edge, the sidecars) hold to that address (``ss -K`` in
each container's network namespace). nginx sees the error and retries an idempotent request on the next peer at
once (a POST already sent is answered 502: whether it ran is unknown); the balancer passes over the peer
(lua.py). While the peer stays silent every knock cuts again (connections opened meanwhile); once it answers,
nothing more is done. This is a decision about this server's own connections only: replacing a server still
needs the majority of its peers and the controller (quorum.py, replacement.py).
"""

from __future__ import annotations

import errno
import socket
import subprocess

# Silent knocks in a row before cutting (a knock waits at most KNOCK_TIMEOUT): 2 to 4 s after a server vanished.
SILENT_AFTER = 2
KNOCK_TIMEOUT = 1.0
NGINX_ROLES = ('edge', 'sidecar')
CUT_TIMEOUT = 10

ANSWERED, REFUSED, SILENT = 'answered', 'refused', 'silent'


def knock(address, port, timeout=KNOCK_TIMEOUT):
    """``answered`` (something listens), ``refused`` (the host is there, nothing listens) or ``silent``."""
    sock = socket.socket(socket.AF_INET6 if ':' in address else socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, int(port)))
        return ANSWERED
    except ConnectionRefusedError:
        return REFUSED
    except OSError as exc:
        if exc.errno == errno.ECONNRESET:
            return REFUSED
        return SILENT      # a timeout, no route, the host unreachable
    finally:
        sock.close()


class SilentPeers(object):
    """Counts silent knocks in a row per address; ``silent`` is the set past ``SILENT_AFTER``."""

    def __init__(self, silent_after=SILENT_AFTER):
        self.silent_after = silent_after
        self.misses = {}

    def observe(self, address, result):
        """Record one knock; True when ``address`` is silent now."""
        self.misses[address] = self.misses.get(address, 0) + 1 if result == SILENT else 0
        return self.misses[address] >= self.silent_after

    def forget_others(self, addresses):
        for address in set(self.misses) - set(addresses):
            del self.misses[address]

    @property
    def silent(self):
        return sorted(a for a, n in self.misses.items() if n >= self.silent_after)


def peer_addresses(configs):
    """Every peer address of the looked-after envs' ``config/health.json`` (``configs``), without this server's
    own: ``[(address, agent port)]`` in address order."""
    mine = set(c.get('address') for c in configs)
    found = {}
    for config in configs:
        for peer in config.get('servers') or []:
            address = peer.get('address')
            if address and address not in mine:
                found.setdefault(address, int(config.get('port') or 9999))
    return sorted(found.items())


def cut_command(pid, address):
    """The command that destroys the sockets of the network namespace of process ``pid`` to ``address``."""
    return ['nsenter', '--net=/proc/%d/ns/net' % int(pid), 'ss', '-K', '-H', '-n', '-t', 'dst', address]


def cut(client, address, run=subprocess.run):
    """Destroy every socket the running fleet nginx containers hold to ``address``: ``{container: count}``
    (containers with none left out) and the errors met (``[str]``)."""
    done, errors = {}, []
    for container in client.containers.list(filters={'label': 'fleet.role'}):
        if (container.labels or {}).get('fleet.role') not in NGINX_ROLES:
            continue
        pid = (container.attrs.get('State') or {}).get('Pid') or 0
        if not pid:
            continue
        try:
            proc = run(cut_command(pid, address), capture_output=True, text=True, timeout=CUT_TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            errors.append('%s: %s' % (container.name, exc))
            continue
        if proc.returncode != 0:
            errors.append('%s: %s' % (container.name, (proc.stderr or proc.stdout).strip()[:200]))
            continue
        count = sum(1 for line in proc.stdout.splitlines() if line.strip())
        if count:
            done[container.name] = count
    return done, errors
