# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTPS front of the simulator: TLS, bearer tokens, faults, routing, JSON answers.

Every answer carries ``ratelimit-limit`` (5000), ``ratelimit-remaining`` (counted down per
hour), ``ratelimit-reset`` (Unix time) and ``x-request-id``, like the real API. Errors have the
real bodies: ``{"id": "unauthorized" | "not_found" | "unprocessable_entity" |
"too_many_requests" | "bad_request" | "forbidden" | "conflict" | "server_error", "message": ...}``.

Control endpoints (same bearer token; not part of the DigitalOcean API):
  GET  /_sim/health                 -> {"status": "ok", ...}            (no token needed)
  GET  /_sim/state                  -> droplets, hosts, VPCs, bridges, VPC peerings (with their
                                       bridges and error), routed bridge pairs, router id,
                                       faults, pending host ops
  GET  /_sim/faults                 -> the faults in force
  POST /_sim/faults  {...}          -> merge: rate_limit_next, retry_after, never_active,
                                       delay_seconds, fail_next_create, errored_actions
  POST /_sim/wait_idle {"timeout": S} -> waits for queued host operations: {"idle": bool}
  POST /_sim/reset                  -> destroys every droplet (hosts down, waited for), removes
                                       the peerings' routing and forgets VPCs, VPC peerings,
                                       firewalls, keys, tags, actions and faults
"""
import http.server
import json
import logging
import re
import ssl
import threading
import time
import urllib.parse
import uuid

from . import catalog
from .model import ApiError, bad_request, not_found, paged, too_many_requests, unauthorized

LOG = logging.getLogger('do_sim.http')

RATE_LIMIT = 5000

ROUTES = []


def route(method, pattern):
    def deco(fn):
        ROUTES.append((method, re.compile('^' + pattern + '$'), fn))
        return fn
    return deco


class Request:
    def __init__(self, method, path, query, raw, base_url):
        self.method = method
        self.path = path
        self.query = query
        self.raw = raw
        self.base_url = base_url

    def json(self, required=True):
        if not self.raw.strip():
            if required:
                raise bad_request()
            return {}
        try:
            return json.loads(self.raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise bad_request() from None


# ---------------------------------------------------------------------------------------------
# the API

@route('GET', '/v2/account')
def _account(st, req):
    return 200, st.account()


@route('GET', '/v2/regions')
def _regions(st, req):
    return 200, paged('regions', catalog.regions_json(), req.query, req.base_url, req.path)


@route('GET', '/v2/sizes')
def _sizes(st, req):
    return 200, paged('sizes', catalog.sizes_json(), req.query, req.base_url, req.path)


@route('GET', '/v2/images')
def _images(st, req):
    if req.query.get('private') == 'true' or req.query.get('tag_name'):
        items = []
    else:
        items = catalog.images_json(req.query.get('type'))
    return 200, paged('images', items, req.query, req.base_url, req.path)


@route('GET', '/v2/images/(?P<ref>[^/]+)')
def _image(st, req, ref):
    try:
        return 200, {'image': catalog.image_json(urllib.parse.unquote(ref))}
    except KeyError:
        raise not_found() from None


@route('POST', '/v2/droplets')
def _droplets_create(st, req):
    return 202, st.create_droplets(req.json(), req.base_url)


@route('GET', '/v2/droplets')
def _droplets_list(st, req):
    return 200, st.list_droplets(req.query, req.base_url, req.path)


@route('DELETE', '/v2/droplets')
def _droplets_destroy_by_tag(st, req):
    st.destroy_droplets_by_tag(req.query.get('tag_name'))
    return 204, None


@route('GET', r'/v2/droplets/(?P<did>\d+)')
def _droplet_get(st, req, did):
    return 200, st.get_droplet(did)


@route('DELETE', r'/v2/droplets/(?P<did>\d+)')
def _droplet_destroy(st, req, did):
    st.destroy_droplet(did)
    return 204, None


@route('POST', r'/v2/droplets/(?P<did>\d+)/actions')
def _droplet_action(st, req, did):
    return 201, st.droplet_action(did, req.json())


@route('GET', r'/v2/droplets/(?P<did>\d+)/actions')
def _droplet_actions(st, req, did):
    return 200, st.list_actions(req.query, req.base_url, req.path, droplet_id=did)


@route('GET', r'/v2/droplets/(?P<did>\d+)/actions/(?P<aid>\d+)')
def _droplet_action_get(st, req, did, aid):
    return 200, st.get_droplet_action(did, aid)


@route('GET', '/v2/actions')
def _actions(st, req):
    return 200, st.list_actions(req.query, req.base_url, req.path)


@route('GET', r'/v2/actions/(?P<aid>\d+)')
def _action(st, req, aid):
    return 200, st.get_action(aid)


@route('GET', '/v2/vpcs')
def _vpcs(st, req):
    return 200, st.list_vpcs(req.query, req.base_url, req.path)


@route('POST', '/v2/vpcs')
def _vpc_create(st, req):
    return 201, st.create_vpc(req.json())


@route('GET', '/v2/vpcs/(?P<vid>[^/]+)')
def _vpc_get(st, req, vid):
    return 200, st.get_vpc(vid)


@route('PATCH', '/v2/vpcs/(?P<vid>[^/]+)')
def _vpc_patch(st, req, vid):
    return 200, st.update_vpc(vid, req.json(), full=False)


@route('PUT', '/v2/vpcs/(?P<vid>[^/]+)')
def _vpc_put(st, req, vid):
    return 200, st.update_vpc(vid, req.json(), full=True)


@route('DELETE', '/v2/vpcs/(?P<vid>[^/]+)')
def _vpc_delete(st, req, vid):
    st.delete_vpc(vid)
    return 204, None


@route('GET', '/v2/vpcs/(?P<vid>[^/]+)/members')
def _vpc_members(st, req, vid):
    return 200, st.vpc_members(vid, req.query, req.base_url, req.path)


@route('GET', '/v2/vpcs/(?P<vid>[^/]+)/peerings')
def _vpc_peerings(st, req, vid):
    return 200, st.list_peerings(req.query, req.base_url, req.path, vpc_id=vid)


@route('POST', '/v2/vpcs/(?P<vid>[^/]+)/peerings')
def _vpc_peering_create(st, req, vid):
    return 202, st.create_vpc_peering(vid, req.json())


@route('PATCH', '/v2/vpcs/(?P<vid>[^/]+)/peerings/(?P<pid>[^/]+)')
def _vpc_peering_patch(st, req, vid, pid):
    return 200, st.update_peering(pid, req.json(), vpc_id=vid)


@route('GET', '/v2/vpc_peerings')
def _peerings(st, req):
    return 200, st.list_peerings(req.query, req.base_url, req.path)


@route('POST', '/v2/vpc_peerings')
def _peering_create(st, req):
    return 202, st.create_peering(req.json())


@route('GET', '/v2/vpc_peerings/(?P<pid>[^/]+)')
def _peering_get(st, req, pid):
    return 200, st.get_peering(pid)


@route('PATCH', '/v2/vpc_peerings/(?P<pid>[^/]+)')
def _peering_patch(st, req, pid):
    return 200, st.update_peering(pid, req.json())


@route('DELETE', '/v2/vpc_peerings/(?P<pid>[^/]+)')
def _peering_delete(st, req, pid):
    return 202, st.delete_peering(pid)


@route('GET', '/v2/firewalls')
def _firewalls(st, req):
    return 200, st.list_firewalls(req.query, req.base_url, req.path)


@route('POST', '/v2/firewalls')
def _firewall_create(st, req):
    return 202, st.create_firewall(req.json())


@route('GET', '/v2/firewalls/(?P<fid>[^/]+)')
def _firewall_get(st, req, fid):
    return 200, st.get_firewall(fid)


@route('PUT', '/v2/firewalls/(?P<fid>[^/]+)')
def _firewall_put(st, req, fid):
    return 200, st.update_firewall(fid, req.json())


@route('DELETE', '/v2/firewalls/(?P<fid>[^/]+)')
def _firewall_delete(st, req, fid):
    st.delete_firewall(fid)
    return 204, None


@route('POST', '/v2/firewalls/(?P<fid>[^/]+)/droplets')
def _firewall_add_droplets(st, req, fid):
    st.firewall_droplets(fid, req.json(), add=True)
    return 204, None


@route('DELETE', '/v2/firewalls/(?P<fid>[^/]+)/droplets')
def _firewall_remove_droplets(st, req, fid):
    st.firewall_droplets(fid, req.json(), add=False)
    return 204, None


@route('POST', '/v2/firewalls/(?P<fid>[^/]+)/tags')
def _firewall_add_tags(st, req, fid):
    st.firewall_tags(fid, req.json(), add=True)
    return 204, None


@route('DELETE', '/v2/firewalls/(?P<fid>[^/]+)/tags')
def _firewall_remove_tags(st, req, fid):
    st.firewall_tags(fid, req.json(), add=False)
    return 204, None


@route('POST', '/v2/firewalls/(?P<fid>[^/]+)/rules')
def _firewall_add_rules(st, req, fid):
    st.firewall_rules(fid, req.json(), add=True)
    return 204, None


@route('DELETE', '/v2/firewalls/(?P<fid>[^/]+)/rules')
def _firewall_remove_rules(st, req, fid):
    st.firewall_rules(fid, req.json(), add=False)
    return 204, None


@route('GET', '/v2/account/keys')
def _keys(st, req):
    return 200, st.list_keys(req.query, req.base_url, req.path)


@route('POST', '/v2/account/keys')
def _key_create(st, req):
    return 201, st.create_key(req.json())


@route('GET', '/v2/account/keys/(?P<ref>[^/]+)')
def _key_get(st, req, ref):
    return 200, st.get_key(urllib.parse.unquote(ref))


@route('PUT', '/v2/account/keys/(?P<ref>[^/]+)')
def _key_put(st, req, ref):
    return 200, st.update_key(urllib.parse.unquote(ref), req.json())


@route('DELETE', '/v2/account/keys/(?P<ref>[^/]+)')
def _key_delete(st, req, ref):
    st.delete_key(urllib.parse.unquote(ref))
    return 204, None


@route('GET', '/v2/tags')
def _tags(st, req):
    return 200, st.list_tags(req.query, req.base_url, req.path)


@route('POST', '/v2/tags')
def _tag_create(st, req):
    return 201, st.create_tag(req.json(), req.base_url)


@route('GET', '/v2/tags/(?P<name>[^/]+)')
def _tag_get(st, req, name):
    return 200, st.get_tag(urllib.parse.unquote(name), req.base_url)


@route('DELETE', '/v2/tags/(?P<name>[^/]+)')
def _tag_delete(st, req, name):
    st.delete_tag(urllib.parse.unquote(name))
    return 204, None


@route('POST', '/v2/tags/(?P<name>[^/]+)/resources')
def _tag_assign(st, req, name):
    st.tag_resources(urllib.parse.unquote(name), req.json(), add=True)
    return 204, None


@route('DELETE', '/v2/tags/(?P<name>[^/]+)/resources')
def _tag_unassign(st, req, name):
    st.tag_resources(urllib.parse.unquote(name), req.json(), add=False)
    return 204, None


# ---------------------------------------------------------------------------------------------
# control

@route('GET', '/_sim/state')
def _sim_state(st, req):
    return 200, st.sim_state()


@route('GET', '/_sim/faults')
def _sim_faults(st, req):
    with st.lock:
        return 200, st.faults.as_dict()


@route('POST', '/_sim/faults')
def _sim_faults_set(st, req):
    body = req.json()
    with st.lock:
        st.faults.update(body)
        LOG.info('faults now %s', st.faults.as_dict())
        return 200, st.faults.as_dict()


@route('POST', '/_sim/wait_idle')
def _sim_wait_idle(st, req):
    body = req.json(required=False)
    timeout = body.get('timeout', 120) if isinstance(body, dict) else 120
    idle = st.backend.wait_idle(min(float(timeout), 600))
    return 200, {'idle': idle, 'pending_host_operations': st.backend.pending()}


@route('POST', '/_sim/reset')
def _sim_reset(st, req):
    idle = st.teardown(timeout=300, everything=True)
    return 200, {'idle': idle, 'pending_host_operations': st.backend.pending()}


# ---------------------------------------------------------------------------------------------
# HTTP plumbing

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'do_sim'
    sys_version = ''
    timeout = 300   # an idle keep-alive connection is closed after this

    def version_string(self):
        return 'do_sim'

    def setup(self):
        self.request.settimeout(30)
        self.request.do_handshake()   # in this thread, never in the accept loop
        self.request.settimeout(self.timeout)
        super().setup()

    def log_message(self, fmt, *args):  # noqa: A003 - our own access log instead
        pass

    def _dispatch(self, method):
        start = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip('/') or '/'
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if length > 0 else b''
        base_url = 'https://' + (self.headers.get('Host') or '%s:%s' % self.server.server_address[:2])
        headers = {}
        try:
            status, body = self._handle(Request(method, path, query, raw, base_url))
        except ApiError as exc:
            status, body, headers = exc.status, exc.body(), exc.headers
        except Exception:  # noqa: BLE001 - a bug of the simulator: a 500 like the real API's
            LOG.exception('%s %s failed', method, self.path)
            status, body = 500, {'id': 'server_error', 'message': 'Unexpected server-side error'}
        self._send(status, body, headers)
        LOG.info('%s %s -> %s (%.0f ms)', method, self.path, status, (time.monotonic() - start) * 1000)

    def _handle(self, req):
        srv = self.server
        st = srv.state
        if req.path == '/_sim/health' and req.method == 'GET':
            return 200, {'status': 'ok', 'backend': getattr(st.backend, 'kind', '?')}
        auth = self.headers.get('Authorization') or ''
        scheme, _sep, token = auth.partition(' ')
        if scheme.lower() != 'bearer' or token.strip() not in srv.tokens:
            raise unauthorized()
        if req.path.startswith('/v2/'):
            with st.lock:
                delay = st.faults.delay_seconds
            if delay:
                time.sleep(delay)
            with st.lock:
                limited = st.faults.take('rate_limit_next')
                retry_after = st.faults.retry_after
            if limited:
                err = too_many_requests()
                err.headers = {'Retry-After': str(retry_after), 'ratelimit-remaining': '0',
                               'ratelimit-reset': str(int(time.time()) + max(1, retry_after))}
                raise err
        elif not req.path.startswith('/_sim/'):
            raise not_found()
        for method, rx, fn in ROUTES:
            m = rx.match(req.path)
            if m and method == req.method:
                return fn(st, req, **m.groupdict())
        raise not_found()

    def _send(self, status, body, extra_headers):
        data = b'' if body is None else json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json; charset=utf-8')
        remaining, reset = self.server.count_request()
        self.send_header('ratelimit-limit', str(RATE_LIMIT))
        self.send_header('ratelimit-remaining', extra_headers.get('ratelimit-remaining', str(remaining)))
        self.send_header('ratelimit-reset', extra_headers.get('ratelimit-reset', str(reset)))
        self.send_header('x-request-id', str(uuid.uuid4()))
        for k, v in extra_headers.items():
            if k not in ('ratelimit-remaining', 'ratelimit-reset'):
                self.send_header(k, v)
        if status != 204:
            self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if status != 204 and data:
            self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        self._dispatch('GET')

    def do_POST(self):  # noqa: N802
        self._dispatch('POST')

    def do_PUT(self):  # noqa: N802
        self._dispatch('PUT')

    def do_PATCH(self):  # noqa: N802
        self._dispatch('PATCH')

    def do_DELETE(self):  # noqa: N802
        self._dispatch('DELETE')


class SimServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, state, tokens, cert_path, key_path):
        super().__init__(address, Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert_path, key_path)
        self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.state = state
        self.tokens = set(tokens)
        self._rl_lock = threading.Lock()
        self._rl_window = int(time.time()) // 3600 * 3600
        self._rl_count = 0

    def count_request(self):
        """(remaining, reset) of the hourly quota after this request."""
        with self._rl_lock:
            now = int(time.time())
            if now >= self._rl_window + 3600:
                self._rl_window = now // 3600 * 3600
                self._rl_count = 0
            self._rl_count += 1
            return max(0, RATE_LIMIT - self._rl_count), self._rl_window + 3600

    def handle_error(self, request, client_address):
        LOG.debug('connection from %s ended with an error', client_address, exc_info=True)
