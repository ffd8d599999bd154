# SPDX-License-Identifier: GPL-3.0-or-later
"""The test world's stand-in images honour the official images' contracts, for real.

Each test starts real containers from the stand-ins (ports published on 127.0.0.1 only) and
talks to them with the real clients (psycopg2, redis, urllib).
"""
import json
import os
import socket
import time
import urllib.error
import urllib.request

import psycopg2
import pytest
import redis

WAIT = 90  # seconds any service gets to come up


def wait_for(what, fn, timeout=WAIT, interval=0.5, container=None):
    """Call fn until it returns a true value or raises nothing; bounded in time."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = fn()
            if result:
                return result
            last = 'returned %r' % (result,)
        except Exception as exc:  # noqa: BLE001
            last = '%s: %s' % (type(exc).__name__, exc)
        if container is not None:
            container.reload()
            if container.status == 'exited':
                break
        time.sleep(interval)
    logs = ''
    if container is not None:
        logs = '\n--- container logs ---\n' + container.logs(tail=40).decode(errors='replace')
    pytest.fail('%s not ready within %s s (last: %s)%s' % (what, timeout, last, logs), pytrace=False)


def host_port(container, port):
    container.reload()
    bindings = container.attrs['NetworkSettings']['Ports'].get(port)
    assert bindings, 'port %s not published: %r' % (port, container.attrs['NetworkSettings']['Ports'])
    return int(bindings[0]['HostPort'])


def run_once(client, image, command, labels, timeout=120, **kwargs):
    """Run a command in a fresh container; return (exit code, output)."""
    c = client.containers.run(image, command, detach=True, labels=labels, **kwargs)
    try:
        rc = c.wait(timeout=timeout)['StatusCode']
        return rc, c.logs(stdout=True, stderr=True).decode(errors='replace')
    finally:
        c.remove(force=True, v=True)


def exec_ok(container, cmd, user=None):
    rc, out = container.exec_run(cmd, user=user or '')
    out = out.decode(errors='replace')
    assert rc == 0, '%r exited %s: %s' % (cmd, rc, out)
    return out


# ---------------------------------------------------------------- registry

def test_registry_has_the_stand_ins(world):
    with urllib.request.urlopen('http://%s/v2/' % world.registry, timeout=10) as resp:
        assert resp.status == 200
    with urllib.request.urlopen('http://%s/v2/_catalog' % world.registry, timeout=10) as resp:
        catalog = json.load(resp)['repositories']
    for name, refs in world.images.items():
        assert 'fleet-world/%s' % name in catalog
        with urllib.request.urlopen('http://%s/v2/fleet-world/%s/tags/list' % (world.registry, name),
                                    timeout=10) as resp:
            tags = json.load(resp)['tags']
        for ref in refs:
            assert ref.rsplit(':', 1)[1] in tags, (ref, tags)


def test_images_file_points_at_the_stand_ins(world, docker_client):
    import yaml
    with open(world.images_file) as f:
        images = yaml.safe_load(f)['fleet_images']
    versions = {'postgres': '15', 'redis': '7-alpine', 'python': '3.11', 'node': '18', 'opensearch': '2'}
    for kind, template in images.items():
        ref = template.format(version=versions.get(kind, ''))
        docker_client.images.get(ref)  # raises when missing


# ---------------------------------------------------------------- postgres

def _pg_connect(port, password, user='postgres', dbname='postgres'):
    return psycopg2.connect(host='127.0.0.1', port=port, user=user, password=password, dbname=dbname,
                            connect_timeout=5)


def _start_postgres(client, labels, name, **kwargs):
    c = client.containers.run('fleet-world/postgres:15', detach=True, name=name, labels=labels,
                              ports={'5432/tcp': ('127.0.0.1', None)}, **kwargs)
    # over TCP: during initdb the entrypoint's temporary server listens on the socket only
    wait_for('postgres %s (pg_isready)' % name,
             lambda: c.exec_run(['pg_isready', '-h', '127.0.0.1', '-p', '5432'])[0] == 0, container=c)
    return c


def test_postgres_password_env(docker_client, unique_prefix, test_labels):
    password = 's3cret-' + unique_prefix
    c = _start_postgres(docker_client, test_labels, unique_prefix + '_pg',
                        environment={'POSTGRES_PASSWORD': password, 'POSTGRES_USER': 'app',
                                     'POSTGRES_DB': 'appdb'},
                        command=['postgres', '-c', 'max_connections=42'])
    port = host_port(c, '5432/tcp')
    conn = wait_for('psycopg2 connection', lambda: _pg_connect(port, password, 'app', 'appdb'))
    try:
        with conn, conn.cursor() as cur:
            cur.execute('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)')
            cur.execute('INSERT INTO items (name) VALUES (%s), (%s)', ('a', 'b'))
        with conn, conn.cursor() as cur:
            cur.execute('SELECT name FROM items ORDER BY id')
            assert [r[0] for r in cur.fetchall()] == ['a', 'b']
            cur.execute('SHOW max_connections')
            assert cur.fetchone()[0] == '42'
            cur.execute('SHOW password_encryption')
            assert cur.fetchone()[0] == 'scram-sha-256'
            cur.execute('SELECT current_user, current_database(), version()')
            user, db, version = cur.fetchone()
            assert (user, db) == ('app', 'appdb') and version.startswith('PostgreSQL 15.')
    finally:
        conn.close()
    with pytest.raises(psycopg2.OperationalError, match='password authentication failed'):
        _pg_connect(port, 'wrong', 'app', 'appdb')
    # runs as the postgres user (uid 999), and the password is on no command line
    assert all(password not in ' '.join(p) for p in c.top()['Processes'])
    assert exec_ok(c, ['id', '-u'], user='postgres').strip() == '999'
    assert exec_ok(c, ['stat', '-c', '%U', '/proc/1']).strip() == 'postgres'
    assert c.attrs['Config']['Env'] and 'PGDATA=/var/lib/postgresql/data' in c.attrs['Config']['Env']
    assert '/var/lib/postgresql/data' in c.attrs['Config']['Volumes']


def test_postgres_password_file_and_initdb_scripts(docker_client, unique_prefix, test_labels, tmp_path):
    password = 'from-a-file-' + unique_prefix
    secret = tmp_path / 'pg_password'
    secret.write_text(password + '\n')
    os.chmod(secret, 0o600)  # owner-only, read by the entrypoint before it drops to postgres
    initdb = tmp_path / 'initdb'
    initdb.mkdir()
    (initdb / '01-schema.sql').write_text('CREATE TABLE seeded (v int); INSERT INTO seeded VALUES (7);\n')
    (initdb / '02-note.sh').write_text('echo "init script ran as $(id -un)"\n')
    c = _start_postgres(
        docker_client, test_labels, unique_prefix + '_pgfile',
        environment={'POSTGRES_PASSWORD_FILE': '/run/secrets/pg_password', 'POSTGRES_DB': 'seeded',
                     'POSTGRES_INITDB_ARGS': '--data-checksums'},
        volumes={str(secret): {'bind': '/run/secrets/pg_password', 'mode': 'ro'},
                 str(initdb): {'bind': '/docker-entrypoint-initdb.d', 'mode': 'ro'}})
    port = host_port(c, '5432/tcp')
    conn = wait_for('psycopg2 connection', lambda: _pg_connect(port, password, dbname='seeded'))
    try:
        with conn, conn.cursor() as cur:
            cur.execute('SELECT v FROM seeded')
            assert cur.fetchall() == [(7,)]
            cur.execute('SHOW data_checksums')
            assert cur.fetchone()[0] == 'on'
    finally:
        conn.close()
    with pytest.raises(psycopg2.OperationalError, match='password authentication failed'):
        _pg_connect(port, 'wrong', dbname='seeded')
    logs = c.logs().decode(errors='replace')
    assert 'init script ran as postgres' in logs
    assert 'PostgreSQL init process complete' in logs
    # the client tools a backup/restore needs are on PATH
    for tool in ('pg_isready', 'psql', 'pg_dump', 'pg_restore', 'pg_dumpall'):
        exec_ok(c, ['sh', '-c', 'command -v %s' % tool])
    dump = exec_ok(c, ['pg_dump', '-U', 'postgres', '-d', 'seeded', '-t', 'seeded'])
    assert 'CREATE TABLE public.seeded' in dump
    # a restart keeps the data and skips initialisation
    c.restart(timeout=20)
    wait_for('postgres after restart',
             lambda: c.exec_run(['pg_isready', '-h', '127.0.0.1'])[0] == 0, container=c)
    assert 'appears to contain a database; Skipping initialization' in c.logs().decode(errors='replace')


def test_postgres_refuses_to_start_without_a_password(docker_client, test_labels):
    rc, out = run_once(docker_client, 'fleet-world/postgres:15', None, test_labels)
    assert rc != 0
    assert 'superuser password is not specified' in out


# ---------------------------------------------------------------- redis

def _redis_conf(tmp_path, password):
    conf = tmp_path / 'redis.conf'
    conf.write_text('requirepass %s\nappendonly yes\n' % password)
    os.chown(conf, 999, 999)   # the redis user of the image reads it
    os.chmod(conf, 0o600)
    return conf


def _start_redis(client, labels, name, conf, **kwargs):
    c = client.containers.run(
        'fleet-world/redis:7-alpine', ['/usr/local/etc/redis/redis.conf'], detach=True, name=name,
        labels=labels, volumes={str(conf): {'bind': '/usr/local/etc/redis/redis.conf', 'mode': 'ro'}},
        **kwargs)
    wait_for('redis %s' % name,
             lambda: b'Ready to accept connections' in c.logs(), container=c)
    return c


def test_redis_requirepass_from_a_read_only_config(docker_client, unique_prefix, test_labels, tmp_path):
    password = 'r3dis-' + unique_prefix
    conf = _redis_conf(tmp_path, password)
    c = _start_redis(docker_client, test_labels, unique_prefix + '_redis', conf,
                     ports={'6379/tcp': ('127.0.0.1', None)})
    port = host_port(c, '6379/tcp')

    anon = redis.Redis(host='127.0.0.1', port=port, socket_timeout=5)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anon.set('k', 'v')
    bad = redis.Redis(host='127.0.0.1', port=port, password='wrong', socket_timeout=5)
    with pytest.raises(redis.exceptions.AuthenticationError):
        bad.ping()

    r = redis.Redis(host='127.0.0.1', port=port, password=password, socket_timeout=5)
    assert r.ping()
    assert r.set('greeting', 'hello')
    assert r.get('greeting') == b'hello'
    info = r.info('server')
    assert info['redis_version'].startswith('7.')
    assert r.config_get('protected-mode') == {'protected-mode': 'no'}
    assert r.config_get('dir') == {'dir': '/data'}
    # the password never is on a command line
    assert all(password not in ' '.join(p) for p in c.top()['Processes'])
    assert exec_ok(c, ['stat', '-c', '%U', '/proc/1']).strip() == 'redis'
    out = exec_ok(c, ['sh', '-c', 'REDISCLI_AUTH="$(sed -n "s/^requirepass //p" /usr/local/etc/redis/redis.conf)" redis-cli ping'],
                  user='redis')
    assert out.strip() == 'PONG'


def test_redis_default_command_and_option_args(docker_client, test_labels):
    rc, out = run_once(docker_client, 'fleet-world/redis:7', ['--version'], test_labels)
    assert rc == 0 and 'Redis server v=7.' in out, out


# ---------------------------------------------------------------- nginx

def _http_get(port, host, path='/'):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path), headers={'Host': host})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return resp.status, resp.read().decode()


SITE = """server {
    listen 80;
    server_name app.test;
    location / { default_type text/plain; return 200 "%s\\n"; }
}
"""


def test_nginx_serves_a_mounted_conf_d_and_reloads(docker_client, unique_prefix, test_labels, tmp_path):
    confd = tmp_path / 'conf.d'
    confd.mkdir()
    (confd / 'default.conf').write_text(
        'server { listen 80 default_server; location / { root /usr/share/nginx/html; } }\n')
    (confd / 'app.conf').write_text(SITE % 'version one')
    c = docker_client.containers.run(
        'fleet-world/nginx:stable', detach=True, name=unique_prefix + '_nginx', labels=test_labels,
        ports={'80/tcp': ('127.0.0.1', None)},
        volumes={str(confd): {'bind': '/etc/nginx/conf.d', 'mode': 'ro'}})
    port = host_port(c, '80/tcp')
    wait_for('nginx', lambda: _http_get(port, 'app.test'), container=c)
    assert _http_get(port, 'app.test') == (200, 'version one\n')
    status, body = _http_get(port, 'other.test')
    assert status == 200 and 'Welcome to nginx!' in body

    (confd / 'app.conf').write_text(SITE % 'version two')
    assert 'test is successful' in exec_ok(c, ['nginx', '-t'])
    exec_ok(c, ['nginx', '-s', 'reload'])
    wait_for('reloaded config', lambda: _http_get(port, 'app.test') == (200, 'version two\n'))
    c.reload()
    assert c.status == 'running'
    logs = c.logs(stdout=True, stderr=False).decode(errors='replace')
    assert '"GET / HTTP/1.1" 200' in logs  # access log on stdout
    # error log on stderr
    assert 'reconfiguring' in c.logs(stdout=False, stderr=True).decode(errors='replace')


NGINX_STREAM = """load_module modules/ngx_stream_module.so;

user nginx;
worker_processes 1;
error_log /var/log/nginx/error.log notice;
pid /var/run/nginx.pid;

events { worker_connections 256; }

stream {
    server {
        listen 6380;
        proxy_pass redis:6379;
    }
}

http {
    include /etc/nginx/mime.types;
    include /etc/nginx/conf.d/*.conf;
}
"""


def test_nginx_stream_module_proxies_tcp_to_redis(docker_client, unique_prefix, test_labels, tmp_path):
    net = docker_client.networks.create(unique_prefix + '_net', driver='bridge', labels=test_labels)
    password = 'via-nginx-' + unique_prefix
    conf = _redis_conf(tmp_path, password)
    _start_redis(docker_client, test_labels, unique_prefix + '_redis', conf, network=net.name,
                 hostname='redis')
    net.reload()
    docker_client.networks.get(net.id)  # sanity
    nginx_conf = tmp_path / 'nginx.conf'
    nginx_conf.write_text(NGINX_STREAM)
    proxy = docker_client.containers.create(
        'fleet-world/nginx:1.22', name=unique_prefix + '_nginx', labels=test_labels,
        ports={'6380/tcp': ('127.0.0.1', None)}, network=net.name,
        volumes={str(nginx_conf): {'bind': '/etc/nginx/nginx.conf', 'mode': 'ro'}})
    proxy.start()
    port = host_port(proxy, '6380/tcp')

    def ping():
        return redis.Redis(host='127.0.0.1', port=port, password=password, socket_timeout=5).ping()

    assert wait_for('PING through nginx stream', ping, container=proxy)
    r = redis.Redis(host='127.0.0.1', port=port, password=password, socket_timeout=5)
    r.set('through', 'nginx')
    assert r.get('through') == b'nginx'
    assert 'test is successful' in exec_ok(proxy, ['nginx', '-t'])
    # and with no password the proxied redis refuses
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host='127.0.0.1', port=port, socket_timeout=5).set('k', 'v')
    # a raw TCP check, no client library in between
    with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
        s.sendall(b'PING\r\n')
        assert s.recv(64).startswith(b'-NOAUTH')


# ---------------------------------------------------------------- python, node

def test_python_image(docker_client, test_labels):
    for image in ('fleet-world/python:3.11', 'fleet-world/python:3.11-slim'):
        rc, out = run_once(docker_client, image, ['python', '--version'], test_labels)
        assert rc == 0 and out.startswith('Python 3.11'), out
    script = r"""
set -e
python3 --version
pip --version
pip3 --version
test -z "${PYTHONUNBUFFERED:-}" && echo unbuffered-unset
python -m venv /tmp/venv && /tmp/venv/bin/python -c 'import sys; print("venv", sys.prefix)'
mkdir -p /tmp/probe/fleetprobe
echo 'VALUE = 42' > /tmp/probe/fleetprobe/__init__.py
printf 'from setuptools import setup\nsetup(name="fleetprobe", version="1.0", packages=["fleetprobe"])\n' > /tmp/probe/setup.py
pip install --no-index --no-build-isolation --quiet /tmp/probe
cd / && python -c 'import fleetprobe; print("system-wide import", fleetprobe.VALUE)'
"""
    rc, out = run_once(docker_client, 'fleet-world/python:3.11', ['bash', '-c', script], test_labels)
    assert rc == 0, out
    assert 'pip ' in out and 'python 3.11' in out
    assert 'unbuffered-unset' in out
    assert 'venv /tmp/venv' in out
    assert 'system-wide import 42' in out


def test_node_image(docker_client, test_labels):
    for image in ('fleet-world/node:18', 'fleet-world/node:18-slim'):
        rc, out = run_once(docker_client, image, ['node', '--version'], test_labels)
        assert rc == 0 and out.strip().startswith('v18.'), out
    rc, out = run_once(docker_client, 'fleet-world/node:18', ['-e', 'console.log(6 * 7)'], test_labels)
    assert rc == 0 and out.strip() == '42', out  # the entrypoint prepends node
    rc, out = run_once(docker_client, 'fleet-world/node:18',
                       ['sh', '-c', 'npm --version && yarn --version && id -u node'], test_labels)
    assert rc == 0, out
    npm, yarn, uid = out.split()
    assert npm.split('.')[0].isdigit() and yarn.startswith('1.'), out
    assert uid == '1000'
