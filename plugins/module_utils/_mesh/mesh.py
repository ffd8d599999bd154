# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx configurations of the service mesh: pure rendering and validation, no I/O.

Two kinds of nginx run on every server (docs/mesh.md):

- the tenant **sidecar** ``{user}_{project}_{env}_nginx`` (network alias ``nginx``): one
  ``listen INTERNAL_PORT`` per service, ``stream`` for TCP services, ``http`` for web services,
  proxied to the active slot's host port on every server that runs a replica;
- the shared **edge** ``fleet_edge``: one main file plus one fragment per tenant in ``conf.d/``,
  routing each HTTP ``domain`` (Host header) to the same upstreams.

A route is a dict::

    {"service": "api", "protocol": "http", "listen": 5234,
     "domain": "api.example.com", "upstreams": ["10.110.0.5:8357", "10.110.0.6:8357"]}

Output is deterministic (routes sorted by port or domain, upstreams sorted and de-duplicated),
so an unchanged set of routes renders byte-identical text and a run changes nothing.
"""

from __future__ import annotations

import re

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import lua as _lua
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import tls as _tls
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import id_error

PROTOCOLS = ('tcp', 'http')
ROUTE_KEYS = frozenset(['service', 'protocol', 'listen', 'domain', 'upstreams', 'tls', 'hsts'])
# Where the config directory is mounted (read-only) inside the nginx containers.
CONF_ROOT = '/etc/nginx/fleet'
CONF_NAME = 'nginx.conf'
EDGE_CONTAINER_PORT = 80
EDGE_HEALTH_PATH = '/__fleet_edge_health'
# a domain's own health on the edge (HTTP and HTTPS), for load balancer monitors: 200 while it has a peer
DOMAIN_HEALTH_PATH = '/healthz'
# Debian's nginx packages load their dynamic modules (lua, stream) from here; OpenResty has them built
# in and no such directory (an include glob that matches nothing is fine for nginx).
MODULES_INCLUDE = '/etc/nginx/modules-enabled/*.conf'

_LABEL = r'[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
DOMAIN_RE = re.compile(r'^(?:\*\.)?(?:%s\.)*%s$' % (_LABEL, _LABEL))
HOSTNAME_RE = re.compile(r'^(?:%s\.)*%s$' % (_LABEL, _LABEL))
IPV4_RE = re.compile(r'^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
                     r'(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$')
IPV6_RE = re.compile(r'^\[[0-9a-fA-F:.]{2,45}\]$')
SERVER_NAME_RE = re.compile(r'^\s*server_name\s+([^;]+);', re.M)


# ---------------------------------------------------------------------------------------------
# validation


def _is_port(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def check_upstream(value):
    """Return ``value`` if it is ``HOST:PORT`` (IPv4, ``[IPv6]`` or a DNS name); else raise ValueError."""
    if not isinstance(value, str) or ':' not in value:
        raise ValueError('upstream %r is not HOST:PORT (for example 10.110.0.5:8357)' % (value,))
    host, _sep, port = value.rpartition(':')
    numeric = host.replace('.', '').isdigit()
    if not (IPV4_RE.match(host) or IPV6_RE.match(host)
            or (len(host) <= 253 and HOSTNAME_RE.match(host) and not numeric)):
        raise ValueError('upstream %r has an invalid host %r: use an IPv4 address, [IPv6] or a DNS name'
                         % (value, host))
    if not (port.isdigit() and _is_port(int(port))) or port != str(int(port)):
        raise ValueError('upstream %r has an invalid port %r: use 1-65535' % (value, port))
    return value


def check_routes(routes, kind='sidecar'):
    """Validate ``routes`` for a sidecar or the edge; return normalized copies.

    Normalized: every key present, ``upstreams`` sorted and de-duplicated, ``domain`` lowercased
    (or None). Raises ValueError with a one-line message naming the route and the key.
    """
    if kind not in ('sidecar', 'edge'):
        raise ValueError('kind must be sidecar or edge, got %r' % (kind,))
    if not isinstance(routes, list):
        raise ValueError('routes must be a list of route dicts, got %s' % type(routes).__name__)
    result = []
    for index, route in enumerate(routes):
        where = 'route %d' % index
        if not isinstance(route, dict):
            raise ValueError('%s must be a dict (service, protocol, listen, domain, upstreams), got %s'
                             % (where, type(route).__name__))
        unknown = sorted(set(route) - ROUTE_KEYS)
        if unknown:
            raise ValueError('%s has unknown key %r: use %s' % (where, unknown[0], ', '.join(sorted(ROUTE_KEYS))))
        service = route.get('service')
        err = id_error('service', service)
        if err:
            raise ValueError('%s: %s' % (where, err))
        where = 'route %r' % service
        protocol = route.get('protocol', 'http')
        if protocol not in PROTOCOLS:
            raise ValueError('%s: protocol must be tcp or http, got %r' % (where, protocol))
        listen = route.get('listen')
        if listen is not None and not _is_port(listen):
            raise ValueError('%s: listen must be a port number 1-65535, got %r' % (where, listen))
        if kind == 'sidecar' and listen is None:
            raise ValueError('%s: listen (the internal port apps connect to) is required' % where)
        domain = route.get('domain')
        if domain is not None and domain != '':
            if not isinstance(domain, str) or len(domain) > 253 or not DOMAIN_RE.match(domain.lower()):
                raise ValueError('%s: domain %r is not a valid DNS name' % (where, domain))
            if protocol != 'http':
                raise ValueError('%s: only http routes can have a domain (protocol is %s)' % (where, protocol))
            domain = domain.lower()
        else:
            domain = None
        upstreams = route.get('upstreams', [])
        if upstreams is None:
            upstreams = []
        if not isinstance(upstreams, list):
            raise ValueError('%s: upstreams must be a list of HOST:PORT strings' % where)
        try:
            upstreams = sorted(set(check_upstream(u) for u in upstreams))
        except ValueError as exc:
            raise ValueError('%s: %s' % (where, exc))
        named = [u for u in upstreams if not (IPV4_RE.match(u.rpartition(':')[0]) or u.startswith('['))]
        if protocol == 'http' and named:
            raise ValueError('%s: upstream %s is a name: http routes take IP addresses (the route table '
                             'switches peers without a resolver)' % (where, named[0]))
        flags = {}
        for flag in ('tls', 'hsts'):
            value = route.get(flag) or False
            if not isinstance(value, bool):
                raise ValueError('%s: %s must be true or false, got %r' % (where, flag, value))
            if value and not domain:
                raise ValueError('%s: %s needs a domain' % (where, flag))
            flags[flag] = value
        result.append({'service': service, 'protocol': protocol, 'listen': listen, 'domain': domain,
                       'upstreams': upstreams, 'tls': flags['tls'], 'hsts': flags['hsts']})
    _check_unique(result, 'service', 'service name')
    if kind == 'sidecar':
        _check_unique(result, 'listen', 'listen port')
    _check_unique([r for r in result if r['domain']], 'domain', 'domain')
    return result


def _check_unique(routes, key, what):
    seen = {}
    for route in routes:
        value = route[key]
        if value in seen:
            raise ValueError('%s %s is used by two routes (%r and %r): each needs its own'
                             % (what, value, seen[value], route['service']))
        seen[value] = route['service']


def fragment_domains(text):
    """The domains (``server_name`` values) an edge fragment claims."""
    domains = []
    for match in SERVER_NAME_RE.finditer(text or ''):
        domains.extend(match.group(1).split())
    return sorted(set(domains))


def domain_clashes(tenant, routes, fragments):
    """Raise ValueError if a domain of ``routes`` is already claimed by another tenant's fragment.

    ``fragments`` maps tenant -> fragment text (the tenant's own entry, if any, is ignored).
    """
    claimed = {}
    for other in sorted(fragments):
        if other == tenant:
            continue
        for domain in fragment_domains(fragments[other]):
            claimed.setdefault(domain, other)
    for route in routes:
        owner = claimed.get(route.get('domain'))
        if owner:
            raise ValueError('domain %s of %s (service %s) is already routed by tenant %s on this edge: '
                             'remove it from %s first or choose another domain'
                             % (route['domain'], tenant, route['service'], owner, owner))


# ---------------------------------------------------------------------------------------------
# rendering


def _block(lines, indent):
    pad = '    ' * indent
    return [pad + line if line else '' for line in lines]


def _upstream(name, upstreams, keepalive=None):
    lines = ['upstream %s {' % name]
    lines.extend('    server %s;' % u for u in upstreams)
    if keepalive:
        lines.append('    keepalive %d;' % keepalive)
    lines.append('}')
    return lines


def _http_route_server(listen, tenant, service, server_name=None, directives=()):
    """A ``server`` proxying to the route table's peers of ``tenant/service`` (lua.py).

    ``listen`` is a port or a listen value (``443 ssl``); ``directives`` are more lines of the server.
    """
    lines = ['server {', '    listen %s;' % listen]
    if server_name:
        lines.append('    server_name %s;' % server_name)
    lines.extend(directives)
    lines.append('    set $%s "%s/%s";' % (_lua.ROUTE_VARIABLE, tenant, service))
    if server_name:
        lines.extend([
            '    location = %s {' % DOMAIN_HEALTH_PATH,
            '        access_log off;',
            '        content_by_lua_block { require("fleet_routes").health() }',
            '    }',
        ])
    lines.extend([
        '    location / {',
        '        access_by_lua_block { require("fleet_routes").route() }',
        '        proxy_pass http://%s;' % _lua.UPSTREAM,
        '        proxy_next_upstream error timeout http_502 http_503 http_504;',
        '        proxy_connect_timeout 2s;',
        '        proxy_http_version 1.1;',
        '        proxy_set_header Connection "";',
        '        proxy_set_header Host $host;',
        '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        '        proxy_set_header X-Forwarded-Proto $scheme;',
        '    }',
        '}',
    ])
    return lines


def _route_table(conf_root, dict_size, certificates=False):
    """The shared dict, the Lua module, the one dynamic upstream and the control socket's server.

    ``certificates``: the edge's certificate store too (tls.py), loaded and controlled the same way.
    """
    lines = ['', '# the route table: peers switch without a reload (lua.py, docs/mesh.md)',
             'lua_shared_dict %s %s;' % (_lua.SHARED_DICT, dict_size),
             'init_by_lua_block {']
    lines.extend(_block(_lua.source(conf_root).strip('\n').split('\n'), 1))
    if certificates:
        lines.extend(_block(_tls.source().strip('\n').split('\n'), 1))
    cert_location = ['    client_body_buffer_size 256k;',
                     '    location ~ ^/(cert|cert_state)$ { content_by_lua_block { require("fleet_certs").control(ngx.var[1]) } }']
    lines.extend([
        '}',
        'upstream %s {' % _lua.UPSTREAM,
        '    server 0.0.0.1;  # a placeholder: balancer_by_lua picks the peer',
        '    balancer_by_lua_block { require("fleet_routes").balance() }',
        '    keepalive %d;' % _lua.UPSTREAM_KEEPALIVE,
        '}',
        'server {',
        '    listen unix:%s/%s;' % (_lua.CONTROL_ROOT, _lua.CONTROL_SOCKET),
        '    access_log off;',
        '    location ~ ^/(check|apply|state)$ { content_by_lua_block { require("fleet_routes").control(ngx.var[1]) } }',
    ] + (cert_location if certificates else []) + ['}'])
    return lines


def _http_settings(access_log):
    return [
        'access_log %s;' % access_log,
        'server_tokens off;',
        'client_max_body_size 100m;',
        # temporary files under /tmp: works with the official image, the stand-in and read-only roots
        'client_body_temp_path /tmp/nginx_client_body;',
        'proxy_temp_path /tmp/nginx_proxy;',
        'fastcgi_temp_path /tmp/nginx_fastcgi;',
        'uwsgi_temp_path /tmp/nginx_uwsgi;',
        'scgi_temp_path /tmp/nginx_scgi;',
    ]


def _main_header(comment, worker_processes):
    lines = ['# %s' % comment, '# Managed by projectdeployer.fleet.nginx_mesh: do not edit, changes are overwritten.',
             'include %s;' % MODULES_INCLUDE]
    lines.extend([
        '',
        'worker_processes %s;' % worker_processes,
        'pid /tmp/nginx.pid;',
        'error_log stderr warn;',
        # a graceful reload lets old workers finish; long-lived TCP sessions are closed after this
        'worker_shutdown_timeout 60s;',
        '',
        'events {',
        '    worker_connections 1024;',
        '}',
    ])
    return lines


def sidecar_upstream_name(service):
    return 'svc_%s' % service


def render_sidecar(routes, tenant='tenant', worker_processes=1, conf_root=CONF_ROOT):
    """The complete nginx.conf of a tenant sidecar (web routes' peers are in its route table)."""
    routes = sorted(check_routes(routes, 'sidecar'), key=lambda r: r['listen'])
    tcp = [r for r in routes if r['protocol'] == 'tcp']
    http = [r for r in routes if r['protocol'] == 'http']
    lines = _main_header('nginx sidecar of %s: apps connect to nginx:INTERNAL_PORT' % tenant, worker_processes)
    if tcp:
        body = []
        for route in tcp:
            name = sidecar_upstream_name(route['service'])
            body.append('')
            body.append('# %s (tcp)' % route['service'])
            if not route['upstreams']:
                body.append('# no upstreams: port %d is not served until a replica runs' % route['listen'])
                continue
            body.extend(_upstream(name, route['upstreams']))
            body.extend([
                'server {',
                '    listen %d;' % route['listen'],
                '    proxy_pass %s;' % name,
                '    proxy_connect_timeout 2s;',
                '    proxy_timeout 1h;',
                '    proxy_next_upstream_tries %d;' % len(route['upstreams']),
                '}',
            ])
        lines.extend(['', 'stream {'] + _block(body[1:], 1) + ['}'])
    body = _http_settings('off') + _route_table(conf_root, _lua.SIDECAR_DICT_SIZE)
    for route in http:
        body.append('')
        body.append('# %s (http)' % route['service'])
        body.extend(_http_route_server(route['listen'], tenant, route['service']))
    lines.extend(['', 'http {'] + _block(body, 1) + ['}'])
    return '\n'.join(lines) + '\n'


def render_edge_fragment(tenant, routes, listen=EDGE_CONTAINER_PORT, https=None, conf_root=CONF_ROOT):
    """The edge's ``conf.d/{tenant}.conf``: one ``server`` per domain of the tenant's http routes.

    It names routes, not peers: a toggle changes the tenant's route table, never this file.
    ``https`` (None: the edge has no HTTPS listener) is ``{'listen': 443, 'public_port': PORT,
    'certified': {domain: file suffix}}``: a ``tls`` route whose domain has an installed certificate
    is served on 443 and its port 80 redirects (tls.py); the suffix names a staged file for ``nginx -t``.
    """
    routes = sorted((r for r in check_routes(routes, 'edge') if r['domain']), key=lambda r: r['domain'])
    certified = (https or {}).get('certified') or {}
    lines = ['# edge routes of tenant %s' % tenant,
             '# Managed by projectdeployer.fleet.nginx_mesh: do not edit, changes are overwritten.']
    for route in routes:
        domain = route['domain']
        lines.append('')
        if route['tls'] and domain in certified:
            lines.append('# %s -> %s (HTTPS; port 80 redirects)' % (domain, route['service']))
            lines.extend(_tls.redirect_server(listen, domain, https['public_port'], EDGE_HEALTH_PATH, conf_root))
            lines.extend(_http_route_server(
                '%d ssl' % https['listen'], tenant, route['service'], server_name=domain,
                directives=_tls.https_directives(domain, route['hsts'], conf_root, certified[domain])))
            continue
        lines.append('# %s -> %s' % (domain, route['service']))
        lines.extend(_http_route_server(listen, tenant, route['service'], server_name=domain,
                                        directives=_tls.acme_location(conf_root) if https else ()))
    return '\n'.join(lines) + '\n'


def edge_table_routes(routes):
    """The edge's route table rows of a tenant: its http routes that have a domain."""
    return [r for r in check_routes(routes, 'edge') if r['domain']]


def render_edge_main(http_port=EDGE_CONTAINER_PORT, includes=None, conf_root=CONF_ROOT, worker_processes='auto',
                     https_port=None):
    """The edge's nginx.conf: defaults, the health path, 404 for unknown hosts, the tenant fragments.

    ``includes`` (a list of paths relative to ``conf_root``) replaces the ``conf.d/*.conf`` glob; the
    module uses it to test a candidate fragment together with the other tenants' fragments.
    ``https_port`` (the container's): the HTTPS listener, its settings and certificate store (tls.py).
    """
    if not _is_port(http_port):
        raise ValueError('http_port must be a port number 1-65535, got %r' % (http_port,))
    if https_port is not None and not _is_port(https_port):
        raise ValueError('https_port must be a port number 1-65535, got %r' % (https_port,))
    lines = _main_header('shared edge proxy: routes each domain to its tenant\'s upstreams', worker_processes)
    body = _http_settings('/dev/stdout') + _route_table(conf_root, _lua.EDGE_DICT_SIZE, https_port is not None)
    if https_port is not None:
        body.extend(_tls.http_settings() + [''] + _tls.default_https_server(https_port))
    body.extend([
        '',
        'server {',
        '    listen %d default_server;' % http_port,
        '    server_name _;',
    ])
    if https_port is not None:
        body.extend(_tls.acme_location(conf_root))
    body.extend([
        '    location = %s {' % EDGE_HEALTH_PATH,
        '        default_type text/plain;',
        '        return 200 "ok\\n";',
        '    }',
        '    location / {',
        '        return 404;',
        '    }',
        '}',
        '',
    ])
    if includes is None:
        body.append('include %s/conf.d/*.conf;' % conf_root)
    else:
        body.extend('include %s/%s;' % (conf_root, path) for path in sorted(includes))
    lines.extend(['', 'http {'] + _block(body, 1) + ['}'])
    return '\n'.join(lines) + '\n'
