# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.nginx_mesh through real ansible-playbook runs against the real engine.

Backends are tiny servers published on the docker0 gateway address (as host ports are on a
server's private address); clients run on the tenant network and connect to ``nginx:PORT``
like apps do; the edge is published on a free high port of 127.0.0.1.
"""
import contextlib
import http.client
import ipaddress
import json
import os
import random
import socket
import stat
import time
import urllib.error
import urllib.request

import pytest

from helpers import REPO, run_playbook, task_results
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import network_name, sidecar_name
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import nginx as _nginx
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.nginx import (
    MeshError, NginxSite, active_workers, nginx_processes, sidecar_spec)

pytestmark = pytest.mark.integration

NGINX = 'fleet-world/nginx:1.22'
PYTHON = 'fleet-world/python:3.11'
REDIS = 'fleet-world/redis:7'

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: mesh
      projectdeployer.fleet.nginx_mesh:
        kind: "{{ mesh.kind }}"
        user: "{{ mesh.user }}"
        project: "{{ mesh.project }}"
        env: "{{ mesh.env }}"
        routes: "{{ mesh.routes | default([]) }}"
        image: "{{ mesh.image | default(omit) }}"
        config_dir: "{{ mesh.config_dir }}"
        http_port: "{{ mesh.http_port | default(omit) }}"
        bind_address: "{{ mesh.bind_address | default(omit) }}"
        container_name: "{{ mesh.container_name | default(omit) }}"
        state: "{{ mesh.state | default('present') }}"
"""

# An HTTP/1.1 server answering "NAME HOST" on port 8000 (a POST's body is read first).
ECHO = r'''
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = ('%s %s' % (os.environ['NAME'], self.headers.get('Host', ''))).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        self.do_GET()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('', 8000), H).serve_forever()
'''

HTTPLOAD = os.path.join(REPO, 'bench', 'httpload.py')


# ------------------------------------------------------------------------------------------------
# helpers


def free_port(address):
    for _attempt in range(200):
        port = random.randint(20000, 29999)
        with contextlib.closing(socket.socket()) as sock:
            try:
                sock.bind((address, port))
            except OSError:
                continue
            return port
    raise AssertionError('no free port on %s' % address)


def gateway(docker_client):
    """The default bridge's gateway (docker0, 172.17.0.1 usually): reached by the host and by containers."""
    config = docker_client.networks.get('bridge').attrs['IPAM']['Config'][0]
    return config.get('Gateway') or str(next(ipaddress.ip_network(config['Subnet']).hosts()))


class World(object):
    """Names, backends and clients of one test; removes everything it created."""

    def __init__(self, docker_client, prefix, labels):
        self.client = docker_client
        self.tag = prefix  # a valid fleet id: every name below starts with it
        self.gw = gateway(docker_client)
        self.containers = []
        self.networks = []
        self.label = dict(labels)

    def tenant(self, n):
        ids = {'user': '%s%d' % (self.tag, n), 'project': 'mesh', 'env': 'test'}
        self.containers.append(sidecar_name(**ids))
        self.networks.append(network_name(**ids))
        return ids

    def _run(self, name, image, command, ports=None, network=None, environment=None):
        full = '%s_%s' % (self.tag, name)
        self.containers.append(full)
        return self.client.containers.run(image, command, name=full, detach=True, ports=ports, network=network,
                                          environment=environment, labels=self.label)

    def http_backend(self, name):
        """An echo server on gateway:PORT answering ``name HOST``; returns the upstream."""
        port = free_port(self.gw)
        self._run('be_' + name, PYTHON, ['python', '-c', ECHO], ports={'8000/tcp': (self.gw, port)},
                  environment={'NAME': name})
        upstream = '%s:%d' % (self.gw, port)
        wait_for(lambda: http_get('http://%s/' % upstream) is not None, 'backend %s' % name)
        return upstream

    def redis_backend(self):
        port = free_port(self.gw)
        self._run('be_redis', REDIS, ['redis-server', '--save', '', '--appendonly', 'no'],
                  ports={'6379/tcp': (self.gw, port)})
        return '%s:%d' % (self.gw, port)

    def on_network(self, network, image, command):
        """Run ``command`` in a throw-away container on ``network``; return (exit code, output)."""
        container = self.client.containers.create(image, command, network=network, labels=self.label)
        try:
            container.start()
            code = container.wait(timeout=60)['StatusCode']
            return code, container.logs().decode()
        finally:
            container.remove(force=True)

    def get(self, network, url):
        code, out = self.on_network(network, PYTHON, [
            'python', '-c', 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5)'
                            '.read().decode())', url])
        assert code == 0, out
        return out.strip()

    def load(self, network, target, out_dir):
        """bench/httpload.py on ``network``: keep-alive GET and POST to ``target`` until ``out_dir/stop``."""
        full = '%s_load' % self.tag
        self.containers.append(full)
        container = self.client.containers.run(
            PYTHON, ['python3', '/httpload.py', '--target', target, '--keepalive', '--mix', 'GET /,POST /',
                     '--rate', '100', '--connections', '4', '--duration', '120', '--count-bodies',
                     '--stop-file', '/out/stop', '--ready-file', '/out/ready', '--out', '/out/result.json'],
            name=full, detach=True, network=network, labels=self.label,
            volumes={HTTPLOAD: {'bind': '/httpload.py', 'mode': 'ro'}, str(out_dir): {'bind': '/out', 'mode': 'rw'}})
        wait_for(lambda: os.path.exists(os.path.join(str(out_dir), 'ready')), 'load client')
        time.sleep(1)
        return container

    def load_result(self, container, out_dir):
        open(os.path.join(str(out_dir), 'stop'), 'w').close()
        assert container.wait(timeout=60)['StatusCode'] in (0, 1)
        with open(os.path.join(str(out_dir), 'result.json')) as handle:
            return json.load(handle)

    def cleanup(self):
        for name in self.containers:
            with contextlib.suppress(Exception):
                self.client.containers.get(name).remove(force=True)
        for name in self.networks:
            with contextlib.suppress(Exception):
                self.client.networks.get(name).remove()


def wait_for(predicate, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError('%s not ready within %d s' % (what, timeout))


def http_get(url, host=None):
    """``(status, body)`` or None when the connection fails."""
    req = urllib.request.Request(url, headers={'Host': host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, OSError):
        return None


def mesh(tmp_path, args, *flags):
    """Run the nginx_mesh task with ``args``; return its result (ok or failed)."""
    play = tmp_path / 'mesh.yml'
    play.write_text(PLAY)
    varfile = tmp_path / ('vars-%d.json' % random.randint(0, 10 ** 9))
    varfile.write_text(json.dumps({'mesh': args}))
    proc = run_playbook(str(play), '-e', '@%s' % varfile, *flags, json_output=True)
    assert proc.returncode in (0, 2), proc.stderr + proc.stdout[-2000:]
    return task_results(proc, 'mesh')['localhost']


def visible(directory):
    """The files of ``directory`` but the lock and temporary dotfiles."""
    return sorted(name for name in os.listdir(directory) if not name.startswith('.'))


MESH_FILES = ['control', 'nginx.conf', 'routes']


def diff_of(result, name):
    """The diff of the file ``name`` in a module result (one diff or a list)."""
    diffs = result['diff'] if isinstance(result['diff'], list) else [result['diff']]
    return [d for d in diffs if d['after_header'].endswith(name)][0]


def pids(container):
    container.reload()
    code, out = container.exec_run(['cat', '/tmp/nginx.pid'])
    assert code == 0, out
    master, workers = nginx_processes(container)
    assert int(out) == master
    return master, active_workers(workers)


@pytest.fixture
def mesh_world(world, docker_client, unique_prefix, test_labels):
    w = World(docker_client, unique_prefix, test_labels)
    try:
        yield w
    finally:
        w.cleanup()


def sidecar_args(ids, config_dir, routes, **extra):
    args = dict(ids, kind='sidecar', image=NGINX, config_dir=str(config_dir), routes=routes)
    args.update(extra)
    return args


# ------------------------------------------------------------------------------------------------
# sidecar


def test_sidecar_check_real_idempotent_absent(mesh_world, tmp_path):
    w, client = mesh_world, mesh_world.client
    ids = w.tenant(1)
    net, name = network_name(**ids), sidecar_name(**ids)
    config_dir = tmp_path / 'local' / ids['user'] / 'mesh' / 'test' / 'config' / 'nginx'
    redis_up, api_up = w.redis_backend(), w.http_backend('A')
    routes = [{'service': 'redis', 'protocol': 'tcp', 'listen': 5100, 'upstreams': [redis_up]},
              {'service': 'api', 'protocol': 'http', 'listen': 5200, 'upstreams': [api_up]}]
    args = sidecar_args(ids, config_dir, routes)

    checked = mesh(tmp_path, args, '--check', '--diff')
    assert checked['changed'] is True and checked['reloaded'] is False, checked
    assert checked['container_action'] == 'created' and checked['container_id'] is None
    assert 'listen 5100;' in diff_of(checked, 'nginx.conf')['after'] and diff_of(checked, 'nginx.conf')['before'] == ''
    assert diff_of(checked, '.routes')['after'].splitlines()[1] == 'api %s' % api_up
    assert not config_dir.exists() and not client.containers.list(all=True, filters={'name': '^/%s$' % name})
    assert not client.networks.list(names=[net])

    first = mesh(tmp_path, args)
    assert first['changed'] is True and first['container_action'] == 'created', first
    assert first['routes'] == 2 and first['reloaded'] is False
    conf = config_dir / 'nginx.conf'
    assert first['config_path'] == str(conf)
    assert stat.S_IMODE(conf.stat().st_mode) == 0o644 and stat.S_IMODE(config_dir.stat().st_mode) == 0o755
    assert visible(config_dir) == MESH_FILES
    assert stat.S_IMODE((config_dir / 'control').stat().st_mode) == 0o700
    assert (config_dir / 'control' / 'control.sock').is_socket()
    assert (config_dir / 'routes' / ('%s_mesh_test.routes' % ids['user'])).read_text().splitlines()[1:] == [
        'api %s' % api_up]
    container = client.containers.get(name)
    assert container.id == first['container_id']
    labels = container.labels
    assert (labels['fleet.user'], labels['fleet.project'], labels['fleet.env'], labels['fleet.role']) == (
        ids['user'], 'mesh', 'test', 'sidecar')
    assert container.attrs['HostConfig']['RestartPolicy']['Name'] == 'unless-stopped'
    assert not container.attrs['HostConfig']['PortBindings']
    assert 'nginx' in container.attrs['NetworkSettings']['Networks'][net]['Aliases']
    assert dict((m['Destination'], m['RW']) for m in container.attrs['Mounts']) == {
        '/etc/nginx/fleet': False, '/run/fleet-mesh': True}
    assert client.networks.get(net).attrs['Labels']['fleet.user'] == ids['user']

    # apps on the tenant network reach nginx:INTERNAL_PORT
    code, out = w.on_network(net, REDIS, ['redis-cli', '-h', 'nginx', '-p', '5100', 'ping'])
    assert code == 0 and out.strip() == 'PONG', out
    assert w.get(net, 'http://nginx:5200/').startswith('A ')

    before = pids(container)
    again = mesh(tmp_path, args)
    assert again['changed'] is False and again['reloaded'] is False, again
    assert again['container_action'] == 'none' and again['container_id'] == container.id
    assert pids(container) == before

    # a stopped sidecar is started again, with nothing else to do
    container.stop(timeout=5)
    started = mesh(tmp_path, args)
    assert started['changed'] is True and started['container_action'] == 'started'
    assert started['container_id'] == container.id
    assert w.get(net, 'http://nginx:5200/').startswith('A ')

    gone_check = mesh(tmp_path, dict(args, state='absent'), '--check')
    assert gone_check['changed'] is True and client.containers.get(name)
    gone = mesh(tmp_path, dict(args, state='absent'))
    assert gone['changed'] is True and gone['container_id'] is None
    assert not client.containers.list(all=True, filters={'name': '^/%s$' % name})
    assert not config_dir.exists()
    assert mesh(tmp_path, dict(args, state='absent'))['changed'] is False


def test_sidecar_toggle_under_keepalive_load_reloads_nothing(mesh_world, tmp_path):
    """A toggle is a route table switch: no reload, no worker replaced, no client connection closed."""
    w, client = mesh_world, mesh_world.client
    ids = w.tenant(2)
    net = network_name(**ids)
    tenant = '%s_mesh_test' % ids['user']
    config_dir = tmp_path / 'nginx'
    up_a, up_b = w.http_backend('A'), w.http_backend('B')

    def routes(upstream, *more):
        return [{'service': 'api', 'protocol': 'http', 'listen': 5300, 'upstreams': [upstream]}] + list(more)

    first = mesh(tmp_path, sidecar_args(ids, config_dir, routes(up_a)))
    assert first['changed'] is True, first
    container = client.containers.get(sidecar_name(**ids))
    before = pids(container)
    conf = (config_dir / 'nginx.conf').read_text()

    out_dir = tmp_path / 'load'
    out_dir.mkdir()
    load = w.load(net, 'nginx:5300', out_dir)
    to_b = mesh(tmp_path, sidecar_args(ids, config_dir, routes(up_b)), '--diff')
    assert to_b['changed'] is True and to_b['reloaded'] is False and to_b['container_action'] == 'none', to_b
    assert up_a in diff_of(to_b, '.routes')['before'] and up_b in diff_of(to_b, '.routes')['after']
    assert (config_dir / 'nginx.conf').read_text() == conf
    # once the module returns, the table is switched: every new request goes to B
    assert [w.get(net, 'http://nginx:5300/')[0] for _attempt in range(3)] == ['B'] * 3
    to_a = mesh(tmp_path, sidecar_args(ids, config_dir, routes(up_a)))
    assert to_a['reloaded'] is False and to_a['container_id'] == container.id
    time.sleep(1)
    result = w.load_result(load, out_dir)
    assert pids(container) == before  # the same master and the same workers: nothing was reloaded
    for method in ('GET', 'POST'):
        stats = result['methods'][method]
        assert stats['requests'] > 50 and stats['2xx'] == stats['requests'], result
        assert stats['socket_errors'] == 0 and stats['unanswered'] == 0, result
    # keep-alive: every client connection lived through both switches
    assert result['connections_opened'] == 4 and result['announced_closes']['count'] == 0, result
    bodies = ' '.join(result['methods']['GET']['bodies'])
    assert 'A ' in bodies and 'B ' in bodies, result

    # nginx refuses a configuration (a TCP route to a name it cannot resolve): the old one keeps serving
    table = (config_dir / 'routes' / ('%s.routes' % tenant)).read_text()
    bad = mesh(tmp_path, sidecar_args(ids, config_dir, routes(up_b, {
        'service': 'db', 'protocol': 'tcp', 'listen': 5301, 'upstreams': ['no-such-host.invalid:5432']})))
    assert bad.get('failed') is True
    assert 'host not found in upstream' in bad['msg'] and 'previous one keeps serving' in bad['msg'], bad['msg']
    assert '\n' not in bad['msg']
    assert (config_dir / 'nginx.conf').read_text() == conf
    assert (config_dir / 'routes' / ('%s.routes' % tenant)).read_text() == table
    assert visible(config_dir) == MESH_FILES and visible(config_dir / 'routes') == ['%s.routes' % tenant]
    assert pids(container) == before
    assert w.get(net, 'http://nginx:5300/').startswith('A ')

    # nginx's own parser refuses a route table (the module's validation would not let this one through)
    site = NginxSite(client, sidecar_spec(ids['user'], 'mesh', 'test', NGINX, str(config_dir), net), False, 3)
    with pytest.raises(MeshError) as err:
        site.apply({}, 'nginx.conf.new', table=(tenant, table, 'api 10.0.0.1:99999\n'))
    assert 'refused the new route table' in str(err.value) and 'peer 10.0.0.1:99999 of api' in str(err.value)
    assert (config_dir / 'routes' / ('%s.routes' % tenant)).read_text() == table
    assert visible(config_dir / 'routes') == ['%s.routes' % tenant]
    assert w.get(net, 'http://nginx:5300/').startswith('A ')

    # an interrupted run (the file written, the table not loaded) is converged by the next run
    (config_dir / 'routes' / ('%s.routes' % tenant)).write_text(table.replace(up_a, up_b))
    stale = mesh(tmp_path, sidecar_args(ids, config_dir, routes(up_b)))
    assert stale['changed'] is True and stale['reloaded'] is False, stale
    assert w.get(net, 'http://nginx:5300/').startswith('B ')
    assert mesh(tmp_path, sidecar_args(ids, config_dir, routes(up_b)))['changed'] is False

    # a restarted nginx starts with an empty table and loads the file on the first request
    container.restart(timeout=5)
    wait_for(lambda: active_workers(nginx_processes(container)[1]), 'the restarted sidecar')
    assert w.get(net, 'http://nginx:5300/').startswith('B ')
    assert mesh(tmp_path, sidecar_args(ids, config_dir, routes(up_b)))['changed'] is False


def test_sidecar_is_recreated_when_its_mount_changes(mesh_world, tmp_path):
    w, client = mesh_world, mesh_world.client
    ids = w.tenant(3)
    up = w.http_backend('A')
    routes = [{'service': 'api', 'listen': 5400, 'upstreams': [up]}]
    first = mesh(tmp_path, sidecar_args(ids, tmp_path / 'one', routes))
    moved = mesh(tmp_path, sidecar_args(ids, tmp_path / 'two', routes))
    assert moved['changed'] is True and moved['container_action'] == 'recreated', moved
    assert moved['container_id'] != first['container_id']
    mounts = client.containers.get(sidecar_name(**ids)).attrs['Mounts']
    assert sorted(m['Source'] for m in mounts) == [str(tmp_path / 'two'), str(tmp_path / 'two' / 'control')]
    assert w.get(network_name(**ids), 'http://nginx:5400/').startswith('A ')


def test_reload_that_does_not_take_effect_puts_the_previous_file_back(mesh_world, tmp_path, monkeypatch):
    """A reload that fails after nginx -t passed (here: the test is skipped, the bind fails on reload).

    The old config keeps serving, the old file is put back, the error names nginx's line.
    """
    w, client = mesh_world, mesh_world.client
    ids = w.tenant(6)
    net = network_name(**ids)
    config_dir = tmp_path / 'nginx'
    up = w.http_backend('A')
    assert mesh(tmp_path, sidecar_args(ids, config_dir, [{'service': 'api', 'listen': 5500, 'upstreams': [up]}]))[
        'changed'] is True
    conf = config_dir / 'nginx.conf'
    old = conf.read_text()
    bad = old.replace('listen 5500;', 'listen 192.0.2.1:5500;')  # TEST-NET-1: not an address of the sidecar
    assert bad != old
    container = client.containers.get(sidecar_name(**ids))
    before = pids(container)
    site = NginxSite(client, sidecar_spec(ids['user'], 'mesh', 'test', NGINX, str(config_dir), net), False, 3)
    with pytest.raises(MeshError) as err:
        site.apply({'nginx.conf': (old, bad)}, 'nginx.conf.new')
    assert 'refused' in str(err.value) and 'bind() to 192.0.2.1:5500 failed' in str(err.value), err.value
    assert conf.read_text() == old and visible(config_dir) == MESH_FILES
    monkeypatch.setattr(_nginx, 'test_in_container', lambda container, path: None)
    with pytest.raises(MeshError) as err:
        site.apply({'nginx.conf': (old, bad)}, 'nginx.conf.new')
    assert 'did not take the new configuration within 3 s' in str(err.value), err.value
    assert '[emerg] bind() to 192.0.2.1:5500 failed' in str(err.value), err.value
    assert conf.read_text() == old and visible(config_dir) == MESH_FILES
    assert pids(container) == before
    assert w.get(net, 'http://nginx:5500/').startswith('A ')


# ------------------------------------------------------------------------------------------------
# edge


def test_edge_routes_domains_of_two_tenants(mesh_world, tmp_path):
    w, client = mesh_world, mesh_world.client
    one, two = w.tenant(4), w.tenant(5)
    edge_name = '%s_edge' % w.tag
    w.containers.append(edge_name)
    w.networks.append(edge_name + '_net')
    port = free_port('127.0.0.1')
    edge_dir = tmp_path / 'local' / '.fleet' / 'edge'
    up_a, up_b = w.http_backend('A'), w.http_backend('B')
    dom_a, dom_b = 'a-%s.example.test' % w.tag, 'b-%s.example.test' % w.tag

    def args(ids, routes, **extra):
        base = dict(ids, kind='edge', image=NGINX, config_dir=str(edge_dir), http_port=port,
                    bind_address='127.0.0.1', container_name=edge_name, routes=routes)
        base.update(extra)
        return base

    routes_one = [{'service': 'web', 'domain': dom_a, 'upstreams': [up_a]},
                  {'service': 'db', 'protocol': 'tcp', 'listen': 5100, 'upstreams': [up_a]}]
    url = 'http://127.0.0.1:%d' % port

    checked = mesh(tmp_path, args(one, routes_one), '--check')
    assert checked['changed'] is True and not edge_dir.exists()
    assert not client.containers.list(all=True, filters={'name': '^/%s$' % edge_name})

    first = mesh(tmp_path, args(one, routes_one))
    assert first['changed'] is True and first['container_action'] == 'created' and first['routes'] == 1, first
    frag = edge_dir / 'conf.d' / ('%s_mesh_test.conf' % one['user'])
    assert first['config_path'] == str(frag) and frag.is_file()
    assert stat.S_IMODE(frag.stat().st_mode) == 0o644 and stat.S_IMODE((edge_dir / 'conf.d').stat().st_mode) == 0o755
    edge = client.containers.get(edge_name)
    assert edge.labels['fleet.role'] == 'edge'
    # on a network of its own (the host firewall lets that bridge, not the default one, reach host ports)
    assert list(edge.attrs['NetworkSettings']['Networks']) == [edge_name + '_net']
    assert client.networks.get(edge_name + '_net').attrs['Labels'] == {'fleet.role': 'edge'}
    assert edge.attrs['HostConfig']['PortBindings'] == {'80/tcp': [{'HostIp': '127.0.0.1', 'HostPort': str(port)}]}
    assert http_get(url + '/', dom_a) == (200, 'A %s' % dom_a)
    assert http_get(url + '/', 'unknown.example.test')[0] == 404
    assert http_get(url + '/__fleet_edge_health')[0] == 200

    again = mesh(tmp_path, args(one, routes_one))
    assert again['changed'] is False and again['reloaded'] is False and again['container_id'] == edge.id

    # a toggle (tenant one's web moves to B and back) keeps a client's keep-alive connection open
    kept = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
    kept.request('GET', '/', headers={'Host': dom_a})
    assert kept.getresponse().read().decode() == 'A %s' % dom_a
    sock, workers = kept.sock, pids(edge)
    moved = mesh(tmp_path, args(one, [dict(routes_one[0], upstreams=[up_b]), routes_one[1]]))
    assert moved['changed'] is True and moved['reloaded'] is False, moved
    kept.request('POST', '/', body=b'{}', headers={'Host': dom_a, 'Content-Length': '2'})
    assert kept.getresponse().read().decode() == 'B %s' % dom_a
    assert mesh(tmp_path, args(one, routes_one))['reloaded'] is False
    kept.request('GET', '/', headers={'Host': dom_a})
    assert kept.getresponse().read().decode() == 'A %s' % dom_a
    assert kept.sock is sock and pids(edge) == workers  # the same connection, the same workers
    kept.close()

    second = mesh(tmp_path, args(two, [{'service': 'web', 'domain': dom_b, 'upstreams': [up_b]}]))
    assert second['changed'] is True and second['reloaded'] is True and second['container_action'] == 'none'
    assert http_get(url + '/', dom_a) == (200, 'A %s' % dom_a)
    assert http_get(url + '/', dom_b) == (200, 'B %s' % dom_b)

    # tenant two may not take tenant one's domain
    frag_two = edge_dir / 'conf.d' / ('%s_mesh_test.conf' % two['user'])
    text_two = frag_two.read_text()
    clash = mesh(tmp_path, args(two, [{'service': 'web', 'domain': dom_b, 'upstreams': [up_b]},
                                      {'service': 'www', 'domain': dom_a, 'upstreams': [up_b]}]))
    assert clash.get('failed') is True
    assert dom_a in clash['msg'] and one['user'] in clash['msg'] and two['user'] in clash['msg'], clash['msg']
    assert frag_two.read_text() == text_two
    assert http_get(url + '/', dom_a) == (200, 'A %s' % dom_a)

    # tenant one leaves: its domain is gone, tenant two still served by the same container
    left = mesh(tmp_path, args(one, [], state='absent'))
    assert left['changed'] is True and left['reloaded'] is True and not frag.exists()
    assert http_get(url + '/', dom_a)[0] == 404
    assert http_get(url + '/', dom_b) == (200, 'B %s' % dom_b)
    assert client.containers.get(edge_name).id == edge.id

    # the last tenant leaves: the edge container goes
    last = mesh(tmp_path, args(two, [], state='absent'))
    assert last['changed'] is True and last['container_action'] == 'removed'
    assert not client.containers.list(all=True, filters={'name': '^/%s$' % edge_name})
    assert not [n for n in client.networks.list(names=[edge_name + '_net']) if n.name == edge_name + '_net']
    assert visible(edge_dir / 'conf.d') == [] and not (edge_dir / 'routes').exists()
    assert mesh(tmp_path, args(two, [], state='absent'))['changed'] is False
