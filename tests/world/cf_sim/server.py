# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTPS front of the Cloudflare simulator: TLS, bearer tokens, routing, the v4 envelope.

API (``/client/v4``, ``Authorization: Bearer TOKEN``; answers ``{success, errors, messages, result,
result_info}``):
  GET    /zones                                  ?name= &status= &account.id= &page= &per_page=
  GET    /zones/{zone_id}
  GET    /zones/{zone_id}/dns_records            ?type= &name[.exact|.contains|.startswith|.endswith]= &content[...]=
                                                 &comment[...|.present|.absent]= &proxied= &match= &order= &direction=
                                                 &page= &per_page=
  POST   /zones/{zone_id}/dns_records
  GET    /zones/{zone_id}/dns_records/{id}
  PUT    /zones/{zone_id}/dns_records/{id}       (the whole record)
  PATCH  /zones/{zone_id}/dns_records/{id}       (what the body names)
  DELETE /zones/{zone_id}/dns_records/{id}       -> {"id": ...}
  GET|POST /accounts/{account_id}/load_balancers/monitors|pools, GET|PUT|PATCH|DELETE .../{id}
  GET      /accounts/{account_id}/load_balancers/pools/{id}/health
  GET|POST /zones/{zone_id}/load_balancers,                    GET|PUT|PATCH|DELETE .../{id}

Control (same token; not Cloudflare's):
  GET    /_sim/health                            -> {"status": "ok"} (no token needed)
  GET    /_sim/state                             -> account, zones, records, and how many API writes were made
"""
import http.server
import json
import logging
import re
import ssl
import time
import urllib.parse
import uuid

from .model import CfError, envelope, invalid_token, not_found

LOG = logging.getLogger('cf_sim.http')
API = '/client/v4'
WRITES = ('POST', 'PUT', 'PATCH', 'DELETE')
ROUTES = []


def route(method, pattern):
    def deco(fn):
        ROUTES.append((method, re.compile('^' + pattern + '$'), fn))
        return fn
    return deco


ZONE = r'/zones/(?P<zone_id>[0-9a-f]{32})'
RECORD = ZONE + r'/dns_records/(?P<record_id>[0-9a-f]{32})'
ACCOUNT_LB = r'/accounts/(?P<account_id>[0-9a-f]{32})/load_balancers'
ID = r'/(?P<obj_id>[0-9a-f]{32})'


@route('GET', '/zones')
def _zones(st, query, body):
    return st.list_zones(query)


@route('GET', ZONE)
def _zone(st, query, body, zone_id):
    return st.zone(zone_id), None


@route('GET', ZONE + '/dns_records')
def _records(st, query, body, zone_id):
    return st.list_records(zone_id, query)


@route('POST', ZONE + '/dns_records')
def _record_create(st, query, body, zone_id):
    return st.create_record(zone_id, body), None


@route('GET', RECORD)
def _record(st, query, body, zone_id, record_id):
    return st.get_record(zone_id, record_id), None


@route('PUT', RECORD)
def _record_put(st, query, body, zone_id, record_id):
    return st.change_record(zone_id, record_id, body, partial=False), None


@route('PATCH', RECORD)
def _record_patch(st, query, body, zone_id, record_id):
    return st.change_record(zone_id, record_id, body, partial=True), None


@route('DELETE', RECORD)
def _record_delete(st, query, body, zone_id, record_id):
    return st.delete_record(zone_id, record_id), None


def _balancing_routes():
    """Monitors and pools (account level) and load balancers (zone level): list, create, get, PUT, PATCH, delete."""
    for kind, noun in (('monitors', 'monitor'), ('pools', 'pool')):
        base = ACCOUNT_LB + '/' + kind
        route('GET', base)(lambda st, q, b, account_id, k=kind: (st.list_lb(k, account_id=account_id, query=q), None))
        route('POST', base)(lambda st, q, b, account_id, n=noun: (
            st.lb_call('create_' + n, b, account_id=account_id), None))
        route('GET', base + ID)(lambda st, q, b, account_id, obj_id, k=kind: (
            st.get_lb(k, obj_id, account_id=account_id), None))
        for method, partial in (('PUT', False), ('PATCH', True)):
            route(method, base + ID)(lambda st, q, b, account_id, obj_id, n=noun, p=partial: (
                st.lb_call('change_' + n, obj_id, b, p, account_id=account_id), None))
        route('DELETE', base + ID)(lambda st, q, b, account_id, obj_id, n=noun: (
            st.lb_call('delete_' + n, obj_id, account_id=account_id), None))
    route('GET', ACCOUNT_LB + '/pools' + ID + '/health')(lambda st, q, b, account_id, obj_id: (
        st.pool_health(account_id, obj_id), None))
    base = ZONE + '/load_balancers'
    route('GET', base)(lambda st, q, b, zone_id: (st.list_lb('balancers', zone_id=zone_id), None))
    route('POST', base)(lambda st, q, b, zone_id: (
        st.balancing.view_balancer(st.lb_call('create_balancer', b, zone_id=zone_id)), None))
    route('GET', base + ID)(lambda st, q, b, zone_id, obj_id: (st.get_lb('balancers', obj_id, zone_id=zone_id), None))
    for method, partial in (('PUT', False), ('PATCH', True)):
        route(method, base + ID)(lambda st, q, b, zone_id, obj_id, p=partial: (
            st.balancing.view_balancer(st.lb_call('change_balancer', obj_id, b, p, zone_id=zone_id)), None))
    route('DELETE', base + ID)(lambda st, q, b, zone_id, obj_id: (
        st.lb_call('delete_balancer', obj_id, zone_id=zone_id), None))


_balancing_routes()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'cf_sim'
    sys_version = ''
    timeout = 300

    def version_string(self):
        return 'cf_sim'

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
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length > 0 else b''
        try:
            status, body = self._handle(method, path, query, raw)
        except CfError as exc:
            status, body = exc.status, exc.body()
        except Exception:  # noqa: BLE001 - a bug of the simulator: a 500 like the real API's
            LOG.exception('%s %s failed', method, self.path)
            status, body = 500, envelope(None, success=False, errors=[{'code': 10001, 'message': 'Internal error'}])
        data = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('cf-ray', uuid.uuid4().hex[:16] + '-LHR')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        LOG.info('%s %s -> %s (%.0f ms)', method, self.path, status, (time.monotonic() - start) * 1000)

    def _handle(self, method, path, query, raw):
        st = self.server.state
        if path == '/_sim/health' and method == 'GET':
            return 200, {'status': 'ok'}
        scheme, _sep, token = (self.headers.get('Authorization') or '').partition(' ')
        if scheme.lower() != 'bearer' or token.strip() not in self.server.tokens:
            raise invalid_token()
        if path == '/_sim/state' and method == 'GET':
            return 200, st.snapshot()
        if not path.startswith(API + '/'):
            raise not_found()
        path = path[len(API):]
        try:
            body = json.loads(raw.decode('utf-8')) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError):
            raise CfError(400, 6007, 'Malformed JSON in request body') from None
        if not isinstance(body, dict):
            raise CfError(400, 6007, 'Malformed JSON in request body')
        for wanted, rx, fn in ROUTES:
            found = rx.match(path)
            if found and wanted == method:
                if method in WRITES:
                    st.count_write(method, path)
                result, info = fn(st, query, body, **found.groupdict())
                return 200, envelope(result, result_info=info)
        raise not_found()

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

    def handle_error(self, request, client_address):
        LOG.debug('connection from %s ended with an error', client_address, exc_info=True)
