# SPDX-License-Identifier: GPL-3.0-or-later
"""The front: plays Cloudflare's edge for load-balanced hostnames, so that steering and failover are counted.

An HTTP(S) listener (``--front-port``; HTTPS with the simulator's CA when started with TLS) takes a request for
a load balancer's hostname (``Host``) and a test header naming the client's Cloudflare region,
``X-Sim-Client-Region: WEU`` (absent: ``WNAM``). It picks the pool as Cloudflare does:

- ``steering_policy`` ``geo`` (and, approximated the same way, ``proximity`` and ``dynamic_latency``): the
  region's ``region_pools`` in order, then ``default_pools`` in order; ``off`` or empty: ``default_pools`` in
  order; ``random``: a random healthy one of ``default_pools``;
- the first healthy pool of that order (health from the prober); none healthy: ``fallback_pool``, healthy or not;

then an origin of the pool (random among its healthy enabled origins, by weight), and proxies the request to it
(``origin_scheme`` https without verification, as Cloudflare's "Full" SSL mode, or http; the origin's port
``origin_port``), with ``Host`` kept, ``CF-Connecting-IP`` and ``X-Forwarded-For`` set. A connection that fails is
retried once on another healthy origin of the pool (Cloudflare's zero-downtime failover), else 522. A hostname
with no load balancer: 530 (Cloudflare's "origin DNS error" family). Every request is counted by pool and origin
(``GET /_sim/state`` -> ``front``).
"""
import http.client
import http.server
import random
import ssl
import sys
import threading

from .prober import NamedHTTPSConnection

REGION_HEADER = 'X-Sim-Client-Region'
DEFAULT_REGION = 'WNAM'
HOP_BY_HOP = ('connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade')


def pool_order(lb, region):
    """The pools to try for a client of ``region``, in order (without the fallback)."""
    policy = lb.get('steering_policy') or 'off'
    order = []
    if policy in ('geo', 'proximity', 'dynamic_latency'):
        order.extend((lb.get('region_pools') or {}).get(region) or [])
    order.extend(lb.get('default_pools') or [])
    seen = []
    for pool_id in order:
        if pool_id not in seen:
            seen.append(pool_id)
    if policy == 'random':
        random.shuffle(seen)
    return seen


def choose_pool(lb, region, healthy):
    """The pool id for a client of ``region``; ``healthy(pool_id)`` says whether a pool is."""
    for pool_id in pool_order(lb, region):
        if healthy(pool_id):
            return pool_id
    return lb.get('fallback_pool')


def choose_origin(origins, healthy, avoid=()):
    candidates = [o for o in origins if o['enabled'] and o['address'] not in avoid and healthy(o['address'])]
    if not candidates:
        return None
    return random.choices(candidates, weights=[max(o.get('weight') or 1, 0.0001) for o in candidates])[0]


class Front:
    def __init__(self, state, origin_scheme='https', origin_port=None):
        self.state, self.scheme = state, origin_scheme
        self.port = origin_port or (443 if origin_scheme == 'https' else 80)
        self.counts = {}
        self.lock = threading.Lock()

    def count(self, pool_id, address):
        with self.lock:
            key = '%s %s' % (pool_id, address)
            self.counts[key] = self.counts.get(key, 0) + 1

    def route(self, host, region):
        """``(pool, [origins to try])`` for a request to ``host`` (None when no load balancer has that name)."""
        prober = self.state.prober
        with self.state.lock:
            balancing = self.state.balancing
            lb = next((b for b in balancing.balancers.values() if b['name'] == host and b.get('enabled', True)), None)
            if lb is None:
                return None, []
            pools = {pid: dict(p, origins=list(p['origins'])) for pid, p in balancing.pools.items()}
        pool_id = choose_pool(lb, region, lambda pid: pid in pools and prober.pool_healthy(pools[pid]))
        pool = pools.get(pool_id)
        if pool is None:
            return None, []
        first = choose_origin(pool['origins'], lambda a: prober.origin_healthy(pool['id'], a))
        if first is None:
            first = choose_origin(pool['origins'], lambda a: True)
        second = choose_origin(pool['origins'], lambda a: prober.origin_healthy(pool['id'], a),
                               avoid=(first['address'],) if first else ())
        return pool, [o for o in (first, second) if o]

    def forward(self, origin, method, path, headers, body):
        if self.scheme == 'https':
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            # SNI is the hostname, as Cloudflare sends it to an origin
            conn = NamedHTTPSConnection(origin['address'], self.port, headers.get('Host') or origin['address'], 30,
                                        context)
        else:
            conn = http.client.HTTPConnection(origin['address'], self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()


class FrontHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'cloudflare'
    sys_version = ''

    def log_message(self, fmt, *args):  # noqa: A003
        pass

    def _answer(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != 'content-length':
                self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _proxy(self):
        front = self.server.front
        host = (self.headers.get('Host') or '').split(':')[0].lower()
        region = self.headers.get(REGION_HEADER) or DEFAULT_REGION
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        pool, origins = front.route(host, region)
        if pool is None:
            return self._answer(530, [('Content-Type', 'text/plain')], b'error code: 1016\n')
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k != REGION_HEADER}
        headers['CF-Connecting-IP'] = self.client_address[0]
        headers['X-Forwarded-For'] = self.client_address[0]
        for origin in origins:
            try:
                status, answer_headers, answer = front.forward(origin, self.command, self.path, headers, body)
            except (OSError, http.client.HTTPException):
                continue
            front.count(pool['id'], origin['address'])
            return self._answer(status, answer_headers, answer)
        return self._answer(522, [('Content-Type', 'text/plain')], b'error code: 522\n')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _proxy


class FrontServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # an edge takes every connection: the socketserver default (5) let a burst of clients wait out their connect
    # timeout in the listen queue while this (Python, one process) front was busy
    request_queue_size = 256

    def handle_error(self, request, client_address):
        """A client that gave up before its answer (the socket closed under the write) is not an error."""
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def __init__(self, address, front, cert_path=None, key_path=None):
        super().__init__(address, FrontHandler)
        if cert_path:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert_path, key_path)
            self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.front = front
