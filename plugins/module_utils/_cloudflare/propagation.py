# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait until the authoritative name servers answer a TXT record (an ACME DNS-01 challenge), bounded in time.

The zone's name servers (Cloudflare lists them in the zone) are asked directly, without recursion, so that a
resolver's cache cannot answer for them: the record is "propagated" when every one of them has it. Uses
dnspython; ``query`` is injectable for the unit tests.
"""

from __future__ import annotations

import socket
import time

try:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rdatatype
    HAS_DNSPYTHON = True
    QUERY_ERRORS = (OSError, ValueError, dns.exception.DNSException)
except ImportError:     # pragma: no cover - the module reports missing_required_lib
    HAS_DNSPYTHON = False
    QUERY_ERRORS = (OSError, ValueError)

DNS_PORT = 53


def parse_server(text):
    """``(host, port)`` of ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address."""
    text = text.strip()
    if text.startswith('['):
        host, _sep, rest = text[1:].partition(']')
        return host, int(rest.lstrip(':') or DNS_PORT)
    if text.count(':') == 1:
        host, port = text.split(':')
        return host, int(port)
    return text, DNS_PORT


def addresses(host):
    """The IP addresses of a name server (itself when it is one)."""
    found = []
    for info in socket.getaddrinfo(host, DNS_PORT, proto=socket.IPPROTO_UDP):
        if info[4][0] not in found:
            found.append(info[4][0])
    return found


def txt_query(name, address, port, timeout):
    """The TXT strings the server at ``address:port`` answers for ``name`` (no recursion asked)."""
    query = dns.message.make_query(name, dns.rdatatype.TXT)
    query.flags &= ~0x0100     # RD off: the authoritative server's own answer
    response = dns.query.udp(query, address, port=port, timeout=timeout)
    values = []
    for rrset in response.answer:
        if rrset.rdtype != dns.rdatatype.TXT:
            continue
        for rdata in rrset:
            values.append(b''.join(rdata.strings).decode('utf-8', 'replace'))
    return values


def wait_for_txt(wanted, servers, timeout, interval=2.0, query_timeout=5.0, query=None, clock=time.monotonic,
                 sleep=time.sleep):
    """Wait until every server in ``servers`` (``(host, port)``) answers each ``name -> [values]`` of ``wanted``.

    Returns the seconds waited; raises TimeoutError naming what was missing where when ``timeout`` passes.
    """
    query = query or txt_query
    targets = []
    for host, port in servers:
        for address in addresses(host):
            targets.append((host, address, port))
    deadline = clock() + timeout
    start = clock()
    while True:
        missing = []
        for name, values in sorted(wanted.items()):
            for host, address, port in targets:
                try:
                    answer = query(name, address, port, query_timeout)
                except QUERY_ERRORS as exc:
                    missing.append('%s at %s (%s)' % (name, host, exc.__class__.__name__))
                    continue
                if not set(values) <= set(answer):
                    missing.append('%s at %s' % (name, host))
        if not missing:
            return round(clock() - start, 1)
        if clock() + interval > deadline:
            raise TimeoutError('%s not answered after %d s: %s' % (
                'the TXT record' if len(wanted) == 1 else 'the TXT records', timeout, '; '.join(missing)))
        sleep(interval)
