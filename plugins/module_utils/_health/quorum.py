# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which servers of a project env are dead, and who leads (pure): docs/health.md "Judging a server".

Every minute each server's monitor probes its peers (the agent's signed ``/health``, an ICMP echo) and
keeps a *view*: per peer, how many probes in a row missed. The agents hand their views to each other, so
each monitor judges from every view it could get:

- a server is **dead** when a strict majority of its peers (every other server of the env) see at least
  ``MISSES_DEAD`` misses in a row; a view that could not be had counts as not dead (one observer, or an
  isolated minority, never condemns anyone);
- a server is **alive** when a strict majority of the peers whose view could be had saw its last probe
  answer (the judging server itself when no view of it could be had: a lone server is alive); the
  **leader** is the lowest VPC address among the alive ones (an isolated server may lead itself, but
  alone it can never judge anyone dead);
- a server inside its grace period (``GRACE_SECONDS`` after the judging server first probed it, as a new
  server's first minutes) is never judged dead.
"""

from __future__ import annotations

import ipaddress

MISSES_DEAD = 3
GRACE_SECONDS = 600


def probed(view, peer, ok, now):
    """``view`` after one probe of ``peer``."""
    before = view.get(peer) or {}
    after = {'misses': 0 if ok else int(before.get('misses', 0)) + 1, 'checked_at': now,
             'last_ok': now if ok else before.get('last_ok'), 'first_seen': before.get('first_seen') or now}
    return dict(view, **{peer: after})


def _key(address):
    try:
        return (0, int(ipaddress.ip_address(address)))
    except ValueError:
        return (1, address)


def judge(servers, views, me=None, joined=None, now=0, grace=GRACE_SECONDS, misses_dead=MISSES_DEAD):
    """``{'dead': [...], 'alive': [...], 'leader': address or None}`` of ``servers`` (their VPC addresses) from
    ``views`` ``{observer: {peer: {'misses': n}}}`` (the observers whose view could be had); dead after
    ``misses_dead`` misses in a row."""
    servers = sorted(set(servers), key=_key)
    joined = joined or {}
    dead, alive = [], []
    for server in servers:
        observers = [s for s in servers if s != server]
        # the observers that had probed it (a view without it has no opinion yet)
        seen = [views[o][server] for o in observers if o in views and views[o].get(server)]
        dead_votes = sum(1 for v in seen if int(v.get('misses', 0)) >= misses_dead)
        alive_votes = sum(1 for v in seen if int(v.get('misses', 0)) == 0)
        in_grace = now - (joined.get(server) or 0) < grace
        if dead_votes * 2 > len(observers) and not in_grace:
            dead.append(server)
        elif alive_votes * 2 > len(seen) or (not seen and server == me):
            alive.append(server)
    return {'dead': dead, 'alive': alive, 'leader': alive[0] if alive else None}
