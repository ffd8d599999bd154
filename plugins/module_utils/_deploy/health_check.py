# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Health checks of a freshly started container, and the bounded wait around them.

Checks never need a secret: HTTP services are asked for their health path on the
host port, PostgreSQL answers ``pg_isready`` inside its container, Redis answers
``PING`` on its port (``+PONG``, or ``-NOAUTH`` when a password is set: both prove
the server is up and serving), workers must be running and not restarting.
"""

from __future__ import annotations

import socket
import time

try:
    from http.client import HTTPConnection, HTTPException
except ImportError:  # pragma: no cover
    from httplib import HTTPConnection, HTTPException  # type: ignore

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import DockerException, exec_text

# The seed's FleetManager pipeline: 6 tries, 10 s apart.
DEFAULTS = {'retries': 6, 'interval': 10, 'start_period': 0, 'timeout': 5, 'stable_seconds': 5}


def body_excerpt(body, lines=3, width=200):
    """The first non-empty lines of a response body, joined with `` | `` (for a one-line error)."""
    text = body.decode('utf-8', 'replace') if isinstance(body, bytes) else (body or '')
    kept = [line.strip()[:width] for line in text.splitlines() if line.strip()][:lines]
    return ' | '.join(kept)


def check_http(host, port, path='/', timeout=5, host_header=None):
    """GET ``path`` on ``host:port``; 2xx and 3xx pass.

    ``host_header`` is the service's domain when it has one: frameworks that check the Host header
    (Django's ALLOWED_HOSTS, Rails' host authorization) then accept the check as they accept their
    users. Without it the header is ``host:port``, what any HTTP client sends. A 4xx/5xx answer's
    first body lines go into the message.
    """
    conn = HTTPConnection(host, port, timeout=timeout)
    headers = {'User-Agent': 'fleet-health'}
    if host_header:
        headers['Host'] = host_header
    try:
        conn.request('GET', path or '/', headers=headers)
        response = conn.getresponse()
        status = response.status
        body = response.read(4096) if status >= 400 else b''
    except (OSError, HTTPException) as exc:
        return False, 'GET http://%s:%s%s failed: %s' % (host, port, path, exc)
    finally:
        conn.close()
    if 200 <= status < 400:
        return True, 'GET %s answered %d' % (path, status)
    sent = ' (Host: %s)' % host_header if host_header else ''
    excerpt = body_excerpt(body)
    said = ': %s' % excerpt if excerpt else ''
    return False, 'GET http://%s:%s%s%s answered %d%s' % (host, port, path, sent, status, said)


def check_redis(host, port, timeout=5):
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b'PING\r\n')
            reply = sock.recv(64)
    except OSError as exc:
        return False, 'redis PING to %s:%s failed: %s' % (host, port, exc)
    if reply.startswith(b'+PONG') or reply.startswith(b'-NOAUTH'):
        return True, 'redis answered PING'
    if reply.startswith(b'-LOADING'):
        return False, 'redis is still loading its dataset'
    return False, 'redis answered %r' % reply[:40]


def check_postgres(container, timeout=5):
    try:
        code, out = exec_text(container, ['pg_isready', '-q', '-h', '127.0.0.1', '-t', str(int(timeout))])
    except DockerException as exc:
        # the container stopped or began restarting since its state was read (409 Conflict)
        return False, 'pg_isready could not run: %s' % exc
    if code == 0:
        return True, 'pg_isready: accepting connections'
    return False, 'pg_isready exited %s %s' % (code, out.strip())


def check_tcp(host, port, timeout=5):
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return False, 'TCP connect to %s:%s failed: %s' % (host, port, exc)
    return True, 'TCP port %s open' % port


def container_state(container):
    """``(ok, detail)`` about the container process itself: running and not restarting."""
    container.reload()
    state = container.attrs.get('State', {})
    if state.get('Restarting'):
        return False, 'container in bad state: Restarting (exit code %s)' % state.get('ExitCode')
    if not state.get('Running'):
        detail = 'container in bad state: %s (exit code %s)' % (state.get('Status'), state.get('ExitCode'))
        if state.get('OOMKilled'):
            detail += ', killed for running out of memory'
        if state.get('Error'):
            detail += ': %s' % state['Error']
        return False, detail
    return True, 'running'


# between two tries the probe is repeated this often (a try that fails because the app is still starting is
# followed by a success as soon as it listens, not a whole interval later)
QUICK_STEP = 0.25


def wait_healthy(container, probe, retries, interval, start_period=0, clock=time):
    """Run ``probe()`` up to ``retries`` times, ``interval`` s apart, after ``start_period`` s.

    Between two tries the probe is repeated every ``QUICK_STEP`` s: a success ends the wait at once, a failure
    waits for the next try. So an app is taken as healthy as soon as it answers, and one that never does
    fails after the same tries and time as with one probe per interval. The container itself is checked
    each time: a crashed or restarting container ends the wait early. Returns ``(ok, [details of every try])``.
    """
    details = []
    if start_period:
        clock.sleep(start_period)
    for attempt in range(1, max(1, retries) + 1):
        alive, why = container_state(container)
        if not alive:
            details.append('try %d: %s' % (attempt, why))
            return False, details
        ok, why = probe()
        details.append('try %d: %s' % (attempt, why))
        if ok:
            return True, details
        if attempt == retries:
            break
        next_try = clock.monotonic() + interval
        while clock.monotonic() + QUICK_STEP < next_try:
            clock.sleep(QUICK_STEP)
            alive, why = container_state(container)
            if not alive:
                details.append('try %d: %s' % (attempt + 1, why))
                return False, details
            ok, quick_why = probe()
            if ok:
                details.append('try %d: %s' % (attempt + 1, quick_why))
                return True, details
        clock.sleep(max(0.0, next_try - clock.monotonic()))
    return False, details


def stable_probe(container, seconds, clock=time):
    """A worker is healthy when it is still running, with no restart, ``seconds`` later."""
    container.reload()
    restarts = container.attrs.get('RestartCount', 0)

    def probe():
        clock.sleep(seconds)
        container.reload()
        now = container.attrs.get('RestartCount', 0)
        running = container.attrs.get('State', {}).get('Running')
        if running and now == restarts:
            return True, 'running for %s s without a restart' % seconds
        return False, 'restarted %d times in %s s' % (now - restarts, seconds)
    return probe
