# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering and validation of the mesh's nginx configurations (no Docker)."""
import random
import re

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import lua as _lua
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import mesh as _mesh
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.mesh import (
    check_routes, check_upstream, domain_clashes, fragment_domains, render_edge_fragment, render_edge_main,
    render_sidecar)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.nginx import (
    active_workers, error_line, spec_differences)


def routes():
    return [
        {'service': 'redis', 'protocol': 'tcp', 'listen': 5101, 'upstreams': ['172.17.0.1:8100']},
        {'service': 'postgres', 'protocol': 'tcp', 'listen': 5100, 'upstreams': []},
        {'service': 'api', 'protocol': 'http', 'listen': 5200, 'domain': 'Api.Example.com',
         'upstreams': ['10.110.0.6:8200', '10.110.0.5:8200', '10.110.0.5:8200']},
        {'service': 'web', 'protocol': 'http', 'listen': 5201, 'domain': 'www.example.com', 'upstreams': []},
        {'service': 'worker', 'protocol': 'http', 'listen': 5202, 'upstreams': ['10.110.0.5:18300']},
    ]


def blocks(text, keyword):
    """Top-level ``keyword { ... }`` block bodies of ``text`` (brace matching)."""
    found = []
    for match in re.finditer(r'^(\s*)%s\b[^{]*\{' % re.escape(keyword), text, re.M):
        depth, i = 1, match.end()
        while depth:
            depth += {'{': 1, '}': -1}.get(text[i], 0)
            i += 1
        found.append(text[match.end():i - 1])
    return found


# --- sidecar -------------------------------------------------------------------------------


def test_sidecar_tcp_and_http():
    text = render_sidecar(routes(), 'u1_myapp_prod')
    assert text.splitlines()[2] == 'include /etc/nginx/modules-enabled/*.conf;'
    assert 'pid /tmp/nginx.pid;' in text and 'error_log stderr' in text
    assert 'worker_processes 1;' in text
    stream, = blocks(text, 'stream')
    http, = blocks(text, 'http')
    assert 'upstream svc_redis {\n        server 172.17.0.1:8100;\n    }' in stream
    assert 'listen 5101;' in stream and 'proxy_pass svc_redis;' in stream
    assert 'proxy_connect_timeout 2s;' in stream
    # tcp without upstreams: no server, a comment
    assert 'listen 5100;' not in text and '# no upstreams: port 5100' in stream
    # web routes name their route; their peers are in the route table, not in the file
    assert '10.110.0.5:8200' not in text and '10.110.0.5:18300' not in text
    table = blocks(http, 'upstream fleet_routes')[0]
    assert 'server 0.0.0.1;' in table and 'balancer_by_lua_block' in table and 'keepalive 32;' in table
    api = [b for b in blocks(http, 'server') if 'listen 5200;' in b][0]
    for line in ('set $fleet_route "u1_myapp_prod/api";', 'access_by_lua_block { require("fleet_routes").route() }',
                 'proxy_pass http://fleet_routes;', 'proxy_next_upstream error timeout http_502 http_503 http_504;',
                 'proxy_http_version 1.1;', 'proxy_set_header Connection "";',
                 'proxy_set_header Host $host;', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
                 'proxy_set_header X-Forwarded-Proto $scheme;'):
        assert line in api
    # a web route without peers is still listened on (the table answers 503)
    assert [b for b in blocks(http, 'server') if 'listen 5201;' in b]
    # the control socket, never a network port
    control = [b for b in blocks(http, 'server') if 'unix:' in b][0]
    assert 'listen unix:/run/fleet-mesh/control.sock;' in control
    assert 'lua_shared_dict fleet_routes 1m;' in http and 'init_by_lua_block {' in http
    # domains are an edge matter
    assert 'server_name' not in text


def test_route_table_text():
    table = _lua.render_table('u1_myapp_prod', check_routes(routes()))
    assert table.splitlines()[1:] == ['api 10.110.0.5:8200 10.110.0.6:8200', 'web', 'worker 10.110.0.5:18300']
    assert table.startswith('# route table of u1_myapp_prod')
    edge = _lua.render_table('u1_myapp_prod', _mesh.edge_table_routes(routes()))
    assert edge.splitlines()[1:] == ['api 10.110.0.5:8200 10.110.0.6:8200', 'web']


def test_http_routes_take_addresses_not_names():
    with pytest.raises(ValueError, match="route 'api': upstream api.internal:80 is a name"):
        check_routes([{'service': 'api', 'listen': 5000, 'upstreams': ['api.internal:80']}])
    tcp, = check_routes([{'service': 'db', 'protocol': 'tcp', 'listen': 5000, 'upstreams': ['db.internal:5432']}])
    assert tcp['upstreams'] == ['db.internal:5432']
    check_routes([{'service': 'api', 'listen': 5000, 'upstreams': ['[fd00::5]:80']}])


def test_lua_source_is_complete():
    source = _lua.source('/etc/nginx/fleet')
    assert 'local ROOT = "/etc/nginx/fleet/routes/"' in source
    assert 'ngx.shared.fleet_routes' in source and 'ngx.var.fleet_route' in source
    assert 'package.loaded.fleet_routes = M' in source
    # every Lua pattern's % survived the Python formatting
    assert '%S' in source and '%d+' in source and '%%' not in source and '%(' not in source


def test_sidecar_without_tcp_routes_has_no_stream_block():
    text = render_sidecar([r for r in routes() if r['protocol'] == 'http'])
    assert 'stream {' not in text and 'http {' in text


def test_sidecar_without_routes_is_a_valid_idle_nginx():
    text = render_sidecar([])
    assert 'events {' in text and 'stream {' not in text
    assert 'listen unix:/run/fleet-mesh/control.sock;' in text


def test_sidecar_is_deterministic():
    first = render_sidecar(routes(), 't')
    for _round in range(5):
        shuffled = routes()
        random.shuffle(shuffled)
        for route in shuffled:
            random.shuffle(route['upstreams'])
        assert render_sidecar(shuffled, 't') == first
    # sorted by listen port
    assert first.index('listen 5101;') < first.index('listen 5200;') < first.index('listen 5201;')


def test_braces_balance():
    for text in (render_sidecar(routes()), render_edge_fragment('u1_a_prod', routes()), render_edge_main()):
        assert text.count('{') == text.count('}')
        assert text.endswith('}\n') or text.endswith(';\n')


# --- edge ----------------------------------------------------------------------------------


def test_edge_fragment_routes_domains_by_route_name():
    text = render_edge_fragment('u1_myapp_prod', routes())
    assert fragment_domains(text) == ['api.example.com', 'www.example.com']
    assert 'set $fleet_route "u1_myapp_prod/api";' in text and 'proxy_pass http://fleet_routes;' in text
    assert 'listen 80;' in text and not re.search(r'^\s*upstream ', text, re.M)
    # the peers are in the route table: a toggle never changes this file
    moved = routes()
    moved[2]['upstreams'] = ['10.110.0.5:18200']
    assert render_edge_fragment('u1_myapp_prod', moved) == text
    # no domain, no edge route; tcp routes never
    assert 'worker' not in text and 'redis' not in text and 'stream {' not in text
    assert text.index('api.example.com') < text.index('www.example.com')


def test_edge_fragments_of_two_tenants_name_their_own_routes():
    one = render_edge_fragment('u1_shop_prod', [{'service': 'api', 'domain': 'a.example.com'}])
    two = render_edge_fragment('u2_shop_prod', [{'service': 'api', 'domain': 'b.example.com',
                                                 'upstreams': ['10.0.0.1:8000']}])
    assert re.findall(r'fleet_route "(\S+)"', one + two) == ['u1_shop_prod/api', 'u2_shop_prod/api']


def test_edge_main():
    text = render_edge_main()
    assert 'listen 80 default_server;' in text and 'server_name _;' in text
    assert 'location = /__fleet_edge_health {' in text and 'return 200' in text
    assert 'return 404;' in text
    assert 'listen unix:/run/fleet-mesh/control.sock;' in text and 'upstream fleet_routes {' in text
    assert 'lua_shared_dict fleet_routes 10m;' in text
    assert text.rstrip().endswith('include /etc/nginx/fleet/conf.d/*.conf;\n}')
    explicit = render_edge_main(includes=['conf.d/b.conf', 'conf.d/a.conf.new'])
    assert 'include /etc/nginx/fleet/conf.d/a.conf.new;\n    include /etc/nginx/fleet/conf.d/b.conf;' in explicit
    assert 'conf.d/*.conf' not in explicit
    assert 'listen 8080 default_server;' in render_edge_main(8080)
    with pytest.raises(ValueError, match='http_port'):
        render_edge_main(0)


def test_domain_clash_names_both_tenants():
    mine = check_routes([{'service': 'web', 'domain': 'shop.example.com'}], 'edge')
    theirs = render_edge_fragment('u2_shop_prod', [{'service': 'www', 'domain': 'shop.example.com'}])
    with pytest.raises(ValueError) as err:
        domain_clashes('u1_myshop_prod', mine, {'u2_shop_prod': theirs})
    msg = str(err.value)
    assert 'shop.example.com' in msg and 'u1_myshop_prod' in msg and 'u2_shop_prod' in msg
    assert '\n' not in msg
    # one's own fragment and other domains are fine
    domain_clashes('u2_shop_prod', mine, {'u2_shop_prod': theirs})
    domain_clashes('u1_myshop_prod', check_routes([{'service': 'web', 'domain': 'other.example.com'}], 'edge'),
                   {'u2_shop_prod': theirs})


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize('value', ['10.0.0.5:8000', '172.17.0.1:65535', 'db.internal:5432', '[fd00::1]:80',
                                   'localhost:1'])
def test_good_upstreams(value):
    assert check_upstream(value) == value


@pytest.mark.parametrize('value, words', [
    ('10.0.0.5', 'HOST:PORT'),
    (8000, 'HOST:PORT'),
    ('10.0.0.5:0', 'port'),
    ('10.0.0.5:65536', 'port'),
    ('10.0.0.5:08000', 'port'),
    ('10.0.0.5:http', 'port'),
    ('300.0.0.1:80', None),
    ('bad host:80', 'host'),
    ('x;y:80', 'host'),
    (':80', 'host'),
])
def test_bad_upstreams(value, words):
    with pytest.raises(ValueError) as err:
        check_upstream(value)
    assert '\n' not in str(err.value)
    if words:
        assert words in str(err.value)


@pytest.mark.parametrize('route, kind, words', [
    ({'service': 'api', 'protocol': 'udp', 'listen': 5000}, 'sidecar', 'protocol must be tcp or http'),
    ({'service': 'api', 'listen': '5000'}, 'sidecar', 'listen must be a port'),
    ({'service': 'api', 'listen': 70000}, 'sidecar', 'listen must be a port'),
    ({'service': 'api', 'listen': True}, 'sidecar', 'listen must be a port'),
    ({'service': 'api'}, 'sidecar', 'listen (the internal port'),
    ({'service': 'Api', 'listen': 5000}, 'sidecar', 'not a valid id'),
    ({'service': 'nginx', 'listen': 5000}, 'sidecar', 'reserved'),
    ({'service': 'api', 'listen': 5000, 'upstreams': '10.0.0.1:80'}, 'sidecar', 'upstreams must be a list'),
    ({'service': 'api', 'listen': 5000, 'upstreams': ['10.0.0.1']}, 'sidecar', "route 'api': upstream"),
    ({'service': 'db', 'protocol': 'tcp', 'domain': 'db.example.com'}, 'edge', 'only http routes'),
    ({'service': 'api', 'domain': 'not a domain'}, 'edge', 'not a valid DNS name'),
    ({'service': 'api', 'listen': 5000, 'port': 1}, 'sidecar', "unknown key 'port'"),
    ('api', 'sidecar', 'must be a dict'),
])
def test_bad_routes(route, kind, words):
    with pytest.raises(ValueError) as err:
        check_routes([route], kind)
    assert words in str(err.value) and '\n' not in str(err.value)


def test_duplicates_are_refused():
    with pytest.raises(ValueError, match='listen port 5000 is used by two routes'):
        check_routes([{'service': 'a', 'listen': 5000}, {'service': 'b', 'listen': 5000}])
    with pytest.raises(ValueError, match='service name a'):
        check_routes([{'service': 'a', 'listen': 5000}, {'service': 'a', 'listen': 5001}])
    with pytest.raises(ValueError, match='domain x.example.com'):
        check_routes([{'service': 'a', 'domain': 'x.example.com'}, {'service': 'b', 'domain': 'X.example.com'}],
                     'edge')
    with pytest.raises(ValueError, match='routes must be a list'):
        check_routes({'service': 'a'})


def test_normalized_routes():
    route, = check_routes([{'service': 'api', 'listen': 5000, 'domain': 'API.example.com', 'upstreams': None}])
    assert route == {'service': 'api', 'protocol': 'http', 'listen': 5000, 'domain': 'api.example.com',
                     'upstreams': [], 'tls': False, 'hsts': False}
    # routes with None for every optional key (as Ansible passes suboptions) are fine
    check_routes([{'service': 'api', 'protocol': 'http', 'listen': None, 'domain': None, 'upstreams': []}], 'edge')


def test_render_refuses_bad_routes():
    with pytest.raises(ValueError):
        render_sidecar([{'service': 'api', 'listen': 5000, 'upstreams': ['a b:1']}])
    with pytest.raises(ValueError):
        render_edge_fragment('t', [{'service': 'db', 'protocol': 'tcp', 'domain': 'x.example.com'}])


# --- helpers of the runtime ----------------------------------------------------------------


def test_error_line_prefers_emerg():
    out = ('nginx: [emerg] host not found in upstream "x.invalid:80" in /etc/nginx/fleet/nginx.conf.new:12\n'
           'nginx: configuration file /etc/nginx/fleet/nginx.conf.new test failed\n')
    assert error_line(out).startswith('nginx: [emerg] host not found')
    assert error_line('a\nlast\n') == 'last'
    assert error_line('') == 'no output'


def test_active_workers():
    assert active_workers({10: False, 11: True, 9: False}) == [9, 10]


class FakeContainer(object):
    def __init__(self, attrs):
        self.attrs = attrs


COMMAND = 'rm -f /run/fleet-mesh/control.sock; exec nginx -c /etc/nginx/fleet/nginx.conf -g "daemon off;"'


def _attrs(**over):
    attrs = {
        'Image': 'sha256:img',
        'Config': {'Cmd': ['sh', '-c', COMMAND],
                   'Labels': {'fleet.role': 'edge'}},
        'HostConfig': {'PortBindings': {'80/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '8080'}]},
                       'RestartPolicy': {'Name': 'unless-stopped'}},
        'Mounts': [{'Source': '/srv/edge', 'Destination': '/etc/nginx/fleet', 'RW': False},
                   {'Source': '/srv/edge/control', 'Destination': '/run/fleet-mesh', 'RW': True}],
        'NetworkSettings': {'Networks': {'fleet_edge_net': {'Aliases': None}}},
    }
    attrs.update(over)
    return attrs


def test_spec_differences():
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.nginx import edge_spec
    spec = edge_spec('nginx:1', '/srv/edge', 8080, '127.0.0.1')
    assert spec_differences(FakeContainer(_attrs()), spec, 'sha256:img') == []
    assert spec_differences(FakeContainer(_attrs()), spec, 'sha256:other') == ['image']
    assert spec_differences(FakeContainer(_attrs()), edge_spec('nginx:1', '/srv/edge', 8081, '127.0.0.1'),
                            'sha256:img') == ['ports']
    rw = _attrs(Mounts=[{'Source': '/srv/edge', 'Destination': '/etc/nginx/fleet', 'RW': True},
                        {'Source': '/srv/edge/control', 'Destination': '/run/fleet-mesh', 'RW': True}])
    assert spec_differences(FakeContainer(rw), spec, 'sha256:img') == ['mounts']
    # an nginx from before the route table (no control socket) is recreated once
    before = _attrs(Mounts=[{'Source': '/srv/edge', 'Destination': '/etc/nginx/fleet', 'RW': False}])
    assert spec_differences(FakeContainer(before), spec, 'sha256:img') == ['mounts']
    # an edge from before the host firewall, on the default bridge, is recreated on its own network once
    old = _attrs(NetworkSettings={'Networks': {'bridge': {'Aliases': None}}})
    assert spec_differences(FakeContainer(old), spec, 'sha256:img') == ['network']
    assert edge_spec('nginx:1', '/srv/edge', 80, '0.0.0.0', 'edge_b')['network'] == 'edge_b_net'


def test_constants_match_naming():
    assert _mesh.CONF_ROOT == '/etc/nginx/fleet' and _mesh.EDGE_CONTAINER_PORT == 80
