# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's health monitors at work: every pool's origins probed as its monitor says, pool health from it.

A monitor's ``interval`` is in seconds as in the API; the simulator multiplies it by ``interval_scale`` (a start
option, ``--interval-scale``; 1 keeps Cloudflare's timing, 0.05 makes a 60 s monitor probe every 3 s), so tests
see failover within seconds. A probe is the monitor's request (HTTP or HTTPS, its method, path, port and headers,
the origin's ``Host`` header over the monitor's; HTTPS with that host name as SNI and verified against the
publicly trusted roots - the system's, or instead ``trust``, the test world's public CA (pebble's root) - or not at all
with ``allow_insecure``; a TCP
connect for ``tcp``) with its ``timeout``, tried ``retries`` more times before it counts as failed. An origin
turns unhealthy after ``consecutive_down`` failed probes in a row (at least 1) and healthy again after
``consecutive_up`` good ones; until its first probe it counts as healthy, as Cloudflare's new origins do. A pool is
healthy while at least ``minimum_origins`` of its enabled origins are.
"""
import http.client
import socket
import ssl
import threading
import time

TICK = 0.1


def expected(codes, status):
    """Whether ``status`` is one of ``codes`` (``"200"``, ``"2xx"``, ``"200 301"``)."""
    for code in str(codes or '200').split():
        if len(code) == 3 and all(c == 'x' or c == str(status)[i] for i, c in enumerate(code)):
            return True
    return False


class NamedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address with another name for SNI and the certificate check (the ``Host`` the monitor sends)."""

    def __init__(self, address, port, server_name, timeout, context):
        http.client.HTTPSConnection.__init__(self, address, port, timeout=timeout, context=context)
        self.server_name = server_name

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_name)


def probe_once(monitor, origin, trust=None):
    """``(healthy, response_code, failure_reason, rtt seconds)`` of one probe."""
    kind = monitor.get('type') or 'http'
    port = monitor.get('port') or (443 if kind == 'https' else 80)
    timeout = monitor.get('timeout') or 5
    start = time.monotonic()
    address = origin['address']
    if kind == 'tcp':
        try:
            socket.create_connection((address, port), timeout=timeout).close()
            return True, None, 'No failures', time.monotonic() - start
        except OSError as exc:
            return False, None, 'TCP connection failed: %s' % exc, time.monotonic() - start
    headers = {k: v[0] for k, v in (monitor.get('header') or {}).items() if v}
    headers.update({k: (v[0] if isinstance(v, list) else v) for k, v in (origin.get('header') or {}).items() if v})
    headers.setdefault('User-Agent', 'Mozilla/5.0 (compatible; Cloudflare-Traffic-Manager/1.0)')
    if kind == 'https':
        context = ssl.create_default_context(cafile=trust)
        if monitor.get('allow_insecure'):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        host = {k.lower(): v for k, v in headers.items()}.get('host') or address
        conn = NamedHTTPSConnection(address, port, host, timeout, context)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request(monitor.get('method') or 'GET', monitor.get('path') or '/', headers=headers)
        response = conn.getresponse()
        body = response.read(65536).decode('utf-8', 'replace')
    except (OSError, http.client.HTTPException) as exc:
        return False, None, '%s: %s' % (type(exc).__name__, exc), time.monotonic() - start
    finally:
        conn.close()
    rtt = time.monotonic() - start
    if not expected(monitor.get('expected_codes'), response.status):
        return False, response.status, 'HTTP response code %d does not match expected_codes' % response.status, rtt
    if monitor.get('expected_body') and monitor['expected_body'] not in body:
        return False, response.status, 'Response body does not contain expected_body', rtt
    return True, response.status, 'No failures', rtt


def probe(monitor, origin, trust=None):
    """One probe with the monitor's retries."""
    result = probe_once(monitor, origin, trust)
    for dummy in range(int(monitor.get('retries') or 0)):
        if result[0]:
            break
        result = probe_once(monitor, origin, trust)
    return result


class OriginHealth:
    """Consecutive results to a healthy flag."""

    def __init__(self):
        self.healthy, self.ups, self.downs, self.last = True, 0, 0, None

    def record(self, monitor, result):
        self.last = result
        if result[0]:
            self.ups, self.downs = self.ups + 1, 0
            if self.ups >= max(1, int(monitor.get('consecutive_up') or 0)):
                self.healthy = True
        else:
            self.ups, self.downs = 0, self.downs + 1
            if self.downs >= max(1, int(monitor.get('consecutive_down') or 0)):
                self.healthy = False

    def view(self):
        healthy, code, reason, rtt = self.last or (True, None, 'Not probed yet', 0.0)
        return {'healthy': self.healthy, 'response_code': code, 'failure_reason': reason,
                'rtt': '%.1fms' % (rtt * 1000)}


class Prober:
    """A thread probing every pool's origins on their monitors' schedule (scaled by ``interval_scale``)."""

    def __init__(self, state, interval_scale=1.0, trust=None):
        self.state, self.scale, self.trust = state, float(interval_scale), trust
        self.health = {}        # (pool id, origin address) -> OriginHealth
        self.due = {}           # (pool id, origin address) -> monotonic time of the next probe
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()

    def _work(self):
        now = time.monotonic()
        jobs = []
        with self.state.lock:
            balancing = self.state.balancing
            for pool in balancing.pools.values():
                monitor = balancing.monitors.get(pool.get('monitor') or '')
                if not monitor or not pool.get('enabled', True):
                    continue
                for origin in pool['origins']:
                    key = (pool['id'], origin['address'])
                    if origin['enabled'] and self.due.get(key, 0) <= now:
                        self.due[key] = now + max(0.2, monitor['interval'] * self.scale)
                        jobs.append((key, dict(monitor), dict(origin)))
        return jobs

    def _probe(self, key, monitor, origin):
        result = probe(monitor, origin, self.trust)
        with self.lock:
            self.health.setdefault(key, OriginHealth()).record(monitor, result)

    def run(self):
        while not self.stopping.wait(TICK):
            for key, monitor, origin in self._work():
                threading.Thread(target=self._probe, args=(key, monitor, origin), daemon=True).start()

    def origin_healthy(self, pool_id, address):
        with self.lock:
            found = self.health.get((pool_id, address))
            return found.healthy if found else True

    def pool_healthy(self, pool):
        enabled = [o for o in pool['origins'] if o['enabled']]
        healthy = [o for o in enabled if self.origin_healthy(pool['id'], o['address'])]
        return pool.get('enabled', True) and len(healthy) >= max(1, int(pool.get('minimum_origins') or 1))

    def pool_health(self, pool):
        """The API's ``GET .../pools/{id}/health`` result, one vantage point (the simulator's)."""
        with self.lock:
            origins = [{o['address']: (self.health[(pool['id'], o['address'])].view()
                                       if (pool['id'], o['address']) in self.health else OriginHealth().view())}
                       for o in pool['origins'] if o['enabled']]
        return {'pool_id': pool['id'], 'pop_health': {'Simulator, XX': {'healthy': self.pool_healthy(pool),
                                                                        'origins': origins}}}
