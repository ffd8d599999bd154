# SPDX-License-Identifier: GPL-3.0-or-later
"""toggle_deploy, deploy_info and service_logs through real ansible-playbook runs against the real engine.

Every module goes through the same sequence: check mode (changed, nothing touched), real run, the same
arguments again (changed=false). Names start with the test's unique prefix (it is the tenant's user id),
so the ``unique_prefix`` finalizer removes every container, network and volume a test leaves.
"""
import contextlib
import json
import os
import random
import re
import secrets
import socket
import stat
import string
import time
import urllib.error
import urllib.request

import docker.errors
import pytest

from helpers import run_playbook, task_results
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.logs import ERROR_MARK, WARNING_HEADER
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import (
    USER_RE, container_name, network_name, volume_name)

pytestmark = pytest.mark.integration

PYTHON = 'fleet-world/python:3.11'
POSTGRES = 'fleet-world/postgres:15'
PROJECT, ENV = 'app', 'prod'

# Answers every GET with the VERSION env var (404 off / and /health); stops at once on SIGTERM.
SERVER = r'''
import http.server, os, signal, sys
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
VERSION = os.environ.get('VERSION', 'unset')
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = VERSION.encode()
        self.send_response(200 if self.path in ('/', '/health') else 404)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
print('serving version %s' % VERSION, flush=True)
http.server.ThreadingHTTPServer(('', 8000), Handler).serve_forever()
'''

# Prints a traceback of two frames and exits 1.
CRASH = r'''
def connect():
    raise RuntimeError('cannot reach the database at db:5432')
print('starting v3', flush=True)
connect()
'''

# Runs until stopped; say what SAY says first.
SLEEPER = r'''
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
print(os.environ.get('SAY', 'worker up'), flush=True)
while True:
    time.sleep(1)
'''

FAST_HTTP = {'type': 'http', 'path': '/health', 'retries': 12, 'interval': 0.5, 'timeout': 2}
FAST_RUNNING = {'type': 'running', 'stable_seconds': 0.5, 'retries': 3, 'interval': 0.5}


# ------------------------------------------------------------------------------------------------
# helpers


def tenant_user(prefix):
    """The prefix itself when it is a valid fleet user id, else a valid one derived from it."""
    if USER_RE.match(prefix):
        return prefix
    derived = re.sub('[^a-z0-9]', '', prefix.lower())
    derived = ('u' + derived)[:16]
    assert USER_RE.match(derived), prefix
    return derived


def step(module, args, check=False, may_fail=False):
    """One task of a playbook: ``projectdeployer.fleet.<module>`` with ``args``, in check mode if ``check``."""
    return {'module': module, 'args': args, 'check': check, 'may_fail': may_fail}


def run_steps(tmp_path, *steps):
    """Run ``steps`` in order as the tasks of one fresh playbook (one ansible-playbook process); their results.

    A failing step ends the play unless it ``may_fail``. Results are read back from registered variables:
    the json callback overwrites a result's ``action`` key with the task's action, and toggle_deploy
    returns its own ``action``.
    """
    tasks = []
    for index, one in enumerate(steps):
        task = {'name': 'step %d' % index, 'projectdeployer.fleet.' + one['module']: one['args'],
                'register': 'step_%d' % index}
        if one['check']:
            task['check_mode'] = True
        if one['may_fail']:
            task['ignore_errors'] = True
        tasks.append(task)
    tasks.append({'name': 'results', 'ansible.builtin.debug': {
        'msg': '{{ [%s] }}' % ', '.join('step_%d' % index for index in range(len(steps)))}})
    play = tmp_path / ('play-%s.yml' % secrets.token_hex(4))
    play.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]))
    proc = run_playbook(str(play), json_output=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-4000:]
    return task_results(proc, 'results')['localhost']['msg']


def run_module(tmp_path, module, args, check=False, may_fail=False):
    """One step alone; its result."""
    return run_steps(tmp_path, step(module, args, check, may_fail))[0]


def ok(result):
    assert not result.get('failed'), result.get('msg') or result
    return result


def free_port(address='127.0.0.1', avoid=()):
    for _attempt in range(200):
        port = random.randint(30000, 39999)
        if port in avoid:
            continue
        with contextlib.closing(socket.socket()) as sock:
            try:
                sock.bind((address, port))
            except OSError:
                continue
            return port
    raise AssertionError('no free port on %s' % address)


def http_get(port, path='/health'):
    """The body answered on 127.0.0.1:port, or None when nothing answers."""
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=3) as resp:
            return resp.read().decode()
    except (urllib.error.URLError, OSError):
        return None


def find(docker_client, name):
    """The container called ``name`` or None."""
    try:
        return docker_client.containers.get(name)
    except docker.errors.NotFound:
        return None


def exec_ok(container, cmd, user=''):
    code, out = container.exec_run(cmd, user=user)
    text = out.decode('utf-8', 'replace')
    assert code == 0, '%s -> %s: %s' % (cmd, code, text)
    return text.strip()


def wait_for(predicate, what, timeout=60, interval=0.3):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError('%s not within %d s' % (what, timeout))


def write_secret(path, content):
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(0o600)
    return path


def random_secret(length=32):
    alphabet = string.ascii_letters + string.digits
    return ''.join(secrets.choice(alphabet) for dummy in range(length))


@pytest.fixture
def tenant(world, docker_client, unique_prefix, test_labels):
    """The tenant's ids and its own network (removed with everything else named after the prefix)."""
    user = tenant_user(unique_prefix)
    ids = {'user': user, 'project': PROJECT, 'env': ENV}
    net = network_name(**ids)
    assert net.startswith(unique_prefix)
    docker_client.networks.create(net, driver='bridge', labels=test_labels)
    return dict(ids, network=net)


# ------------------------------------------------------------------------------------------------
# stateless web service: toggle, promote, clean, crash, absent; deploy_info and service_logs on the way


def test_stateless_toggle_sequence(tenant, docker_client, tmp_path):
    ids = {k: tenant[k] for k in ('user', 'project', 'env')}
    server = tmp_path / 'app' / 'server.py'
    server.parent.mkdir()
    server.write_text(SERVER)
    state_dir = tmp_path / 'state'
    primary_port = free_port()
    secondary_port = free_port(avoid=(primary_port,))
    primary, secondary = container_name(service='web', **ids), container_name(service='web', slot='secondary', **ids)
    base = dict(ids, service='web', image=PYTHON, command=['python', '/app/server.py'],
                volumes=['%s:/app/server.py:ro' % server], container_port=8000, host_port=primary_port,
                secondary_port=secondary_port, bind_address='127.0.0.1', network=tenant['network'],
                health=FAST_HTTP, state_dir=str(state_dir), drain_seconds=0.5, stop_timeout=2)
    v1 = dict(base, env_vars={'VERSION': 'v1'}, version='1')
    v2 = dict(base, env_vars={'VERSION': 'v2'}, version='2')
    control = dict(ids, service='web', state_dir=str(state_dir))
    promote1 = dict(control, state='promoted', slot='primary')
    promote2 = dict(control, state='promoted', slot='secondary')
    clean = dict(control, state='cleaned', drain_seconds=0.5)
    info_args = dict(ids, state_dir=str(state_dir))
    absent = dict(control, state='absent')

    # check mode: a change is announced, nothing is created
    checked = ok(run_module(tmp_path, 'toggle_deploy', v1, check=True))
    assert checked['changed'] is True and checked['action'] == 'started'
    assert checked['active_slot'] == 'primary' and checked['container_id'] is None
    assert find(docker_client, primary) is None and find(docker_client, secondary) is None

    # real run: the primary slot answers on the base port; the same arguments again change nothing;
    # promoting in check mode writes nothing
    first, again, promote_checked = run_steps(
        tmp_path, step('toggle_deploy', v1), step('toggle_deploy', v1), step('toggle_deploy', promote1, check=True))
    assert first['changed'] is True and first['action'] == 'started'
    assert (first['active_slot'], first['active_port'], first['previous_slot']) == ('primary', primary_port, None)
    assert first['config_hash'] == checked['config_hash']
    assert first['health'] and first['health'][-1].endswith('answered 200')
    container = find(docker_client, primary)
    assert container is not None and container.id == first['container_id'] and container.status == 'running'
    assert container.labels['fleet.version'] == '1' and container.labels['fleet.slot'] == 'primary'
    assert tenant['network'] in container.attrs['NetworkSettings']['Networks']
    assert container.attrs['RestartCount'] == 0
    assert http_get(primary_port) == 'v1'
    assert again['changed'] is False and again['action'] == 'none'
    assert again['container_id'] == first['container_id']
    assert find(docker_client, secondary) is None
    assert promote_checked['changed'] is True and not (state_dir / 'web.json').exists()

    # promoted, then unchanged; cleaned with only the serving slot has nothing to remove;
    # the next version in check mode announces the secondary slot and creates nothing
    promoted, promoted_again, cleaned, checked2 = run_steps(
        tmp_path, step('toggle_deploy', promote1), step('toggle_deploy', promote1), step('toggle_deploy', clean),
        step('toggle_deploy', v2, check=True))
    assert promoted['changed'] is True and promoted['action'] == 'promoted'
    assert promoted_again['changed'] is False
    assert json.loads((state_dir / 'web.json').read_text())['slot'] == 'primary'
    assert cleaned['changed'] is False and cleaned['action'] == 'none'
    assert find(docker_client, primary).status == 'running'
    assert checked2['changed'] is True and checked2['active_slot'] == 'secondary'
    assert find(docker_client, secondary) is None

    # the new version goes to the secondary slot while the primary keeps answering; started again before
    # the promotion (an interrupted deploy), the running new slot is checked and taken as it is, not
    # restarted: "resumed" (no change: the promotion records it); promoted; cleaning in check mode keeps the old slot
    second, resumed, promoted2, clean_checked = run_steps(
        tmp_path, step('toggle_deploy', v2), step('toggle_deploy', v2), step('toggle_deploy', promote2),
        step('toggle_deploy', clean, check=True))
    assert second['changed'] is True and second['action'] == 'started'
    assert (second['active_slot'], second['active_port'], second['previous_slot']) == (
        'secondary', secondary_port, 'primary')
    assert second['config_hash'] != first['config_hash']
    assert resumed['action'] == 'resumed' and resumed['changed'] is False
    assert (resumed['active_slot'], resumed['container_id']) == ('secondary', second['container_id'])
    assert find(docker_client, secondary).attrs['RestartCount'] == 0
    assert promoted2['changed'] is True
    assert json.loads((state_dir / 'web.json').read_text())['version'] == '2'
    assert clean_checked['changed'] is True
    assert find(docker_client, primary).id == first['container_id']
    assert http_get(secondary_port) == 'v2'
    assert http_get(primary_port) == 'v1'

    # cleaned removes the old slot, then has nothing to do; the serving version asked for again is
    # unchanged; deploy_info and service_logs (info modules) report unchanged in check mode and for real
    removed, clean_again, v2_again, info_checked, info, logs_checked, logs = run_steps(
        tmp_path, step('toggle_deploy', clean), step('toggle_deploy', clean), step('toggle_deploy', v2),
        step('deploy_info', info_args, check=True), step('deploy_info', info_args),
        step('service_logs', dict(control, lines=50), check=True), step('service_logs', dict(control, lines=50)))
    assert removed['changed'] is True and removed['action'] == 'removed'
    assert (removed['active_slot'], removed['previous_slot']) == ('secondary', 'primary')
    assert find(docker_client, primary) is None
    assert http_get(primary_port) is None
    assert http_get(secondary_port) == 'v2'
    assert clean_again['changed'] is False
    assert v2_again['changed'] is False and v2_again['container_id'] == second['container_id']
    for result in (info_checked, info):
        assert result['changed'] is False
        web = result['services']['web']
        assert (web['active_slot'], web['active_port'], web['active_version'], web['active_container']) == (
            'secondary', secondary_port, '2', secondary)
        assert [c['name'] for c in web['containers']] == [secondary]
        assert web['containers'][0]['status'] == 'running'
    for result in (logs_checked, logs):
        assert result['changed'] is False and result['container'] == secondary
        assert '   serving version v2' in result['lines']
        assert result['error_lines'] == []

    # a crashing version: the module fails with the traceback, the new container is gone, v2 untouched;
    # absent in check mode keeps everything
    serving_id = find(docker_client, secondary).id
    v3 = dict(base, command=['python', '-c', CRASH], env_vars={'VERSION': 'v3'}, version='3',
              health=dict(FAST_HTTP, retries=10))
    crashed, logs_after, absent_checked = run_steps(
        tmp_path, step('toggle_deploy', v3, may_fail=True), step('service_logs', control),
        step('toggle_deploy', absent, check=True))
    assert crashed.get('failed') is True, crashed
    assert 'health check failed for %s' % primary in crashed['msg']
    assert '%s keeps serving' % secondary in crashed['msg']
    errors = crashed['error_lines']
    assert errors[0] == WARNING_HEADER
    assert '%s Traceback (most recent call last):' % ERROR_MARK in errors
    assert any(line.startswith('%s   File "<string>", line 3, in connect' % ERROR_MARK) for line in errors), errors
    assert '%s RuntimeError: cannot reach the database at db:5432' % ERROR_MARK in errors
    assert 'starting v3' not in ' '.join(errors)
    assert crashed['container_state']['exit_code'] == 1
    assert find(docker_client, primary) is None
    assert find(docker_client, secondary).id == serving_id
    assert http_get(secondary_port) == 'v2'
    assert json.loads((state_dir / 'web.json').read_text())['slot'] == 'secondary'
    assert logs_after['container'] == secondary
    assert absent_checked['changed'] is True

    # absent: everything goes, then nothing is left to do
    assert find(docker_client, secondary) is not None
    gone, gone_again, info_after = run_steps(
        tmp_path, step('toggle_deploy', absent), step('toggle_deploy', absent), step('deploy_info', info_args))
    assert gone['changed'] is True and gone['action'] == 'removed'
    assert find(docker_client, primary) is None and find(docker_client, secondary) is None
    assert gone_again['changed'] is False
    assert info_after['services'] == {}


# ------------------------------------------------------------------------------------------------
# stateful: postgres on its data volume


def psql(container, sql):
    return exec_ok(container, ['psql', '-U', 'postgres', '-tAc', sql], user='postgres')


def wait_pg(docker_client, name):
    def ready():
        container = find(docker_client, name)
        if container is None or container.status != 'running':
            return False
        return container.exec_run(['pg_isready', '-q', '-h', '127.0.0.1'], user='postgres').exit_code == 0
    wait_for(ready, 'postgres in %s' % name, timeout=120, interval=0.5)
    return find(docker_client, name)


def test_stateful_postgres_keeps_its_data(tenant, docker_client, tmp_path):
    ids = {k: tenant[k] for k in ('user', 'project', 'env')}
    name = container_name(service='db', **ids)
    volume = volume_name(service='db', **ids)
    password = write_secret(tmp_path / 'secrets' / 'postgres_password', random_secret())
    base = dict(ids, service='db', image=POSTGRES, data_path='/var/lib/postgresql/data',
                env_vars={'POSTGRES_PASSWORD_FILE': '/run/secrets/postgres_password'},
                secrets=[{'source': str(password)}], container_port=5432, host_port=free_port(),
                bind_address='127.0.0.1', network=tenant['network'], stop_timeout=5,
                health={'type': 'postgres', 'retries': 120, 'interval': 1, 'timeout': 3})
    changed_env = dict(base, env_vars=dict(base['env_vars'], PGTZ='UTC'))

    checked = ok(run_module(tmp_path, 'toggle_deploy', base, check=True))
    assert checked['changed'] is True and checked['container_id'] is None
    assert find(docker_client, name) is None
    assert not docker_client.volumes.list(filters={'name': volume})

    first = ok(run_module(tmp_path, 'toggle_deploy', base))
    assert first['changed'] is True and first['action'] == 'recreated'
    assert first['active_port'] == base['host_port'] and first['previous_slot'] is None
    assert first['health'][-1] == 'try %d: pg_isready: accepting connections' % len(first['health'])
    container = find(docker_client, name)
    assert container.id == first['container_id']
    mounts = {m['Destination']: m for m in container.attrs['Mounts']}
    assert mounts['/var/lib/postgresql/data']['Name'] == volume
    assert mounts['/run/secrets/postgres_password']['RW'] is False
    # the password came from the file (never through the module's arguments or the environment)
    assert 'POSTGRES_PASSWORD=' not in ' '.join(container.attrs['Config']['Env'])
    psql(container, 'CREATE TABLE kept (x text); INSERT INTO kept VALUES (\'row one\')')

    # unchanged; a configuration change recreates the container on the same volume; then unchanged
    again, recreated, recreated_again = run_steps(
        tmp_path, step('toggle_deploy', base), step('toggle_deploy', changed_env), step('toggle_deploy', changed_env))
    assert again['changed'] is False and again['action'] == 'none'
    assert again['container_id'] == first['container_id']
    assert recreated['changed'] is True and recreated['action'] == 'recreated'
    assert recreated['previous_slot'] == 'primary' and recreated['container_id'] != first['container_id']
    assert recreated_again['changed'] is False and recreated_again['container_id'] == recreated['container_id']
    container = find(docker_client, name)
    assert container.id == recreated['container_id']
    assert 'PGTZ=UTC' in container.attrs['Config']['Env']
    assert find(docker_client, name + '_previous') is None
    assert psql(container, 'SELECT x FROM kept') == 'row one'

    # a configuration postgres refuses: the module fails, the previous container runs again on the data
    broken = dict(changed_env, command='postgres -c nonexistent_setting=1',
                  health=dict(base['health'], retries=20))
    failed = run_module(tmp_path, 'toggle_deploy', broken, may_fail=True)
    assert failed.get('failed') is True, failed
    assert 'previous version was started again on the same data' in failed['msg'], failed['msg']
    assert any(line.startswith(ERROR_MARK) and 'nonexistent_setting' in line for line in failed['error_lines']), \
        failed['error_lines']
    assert find(docker_client, name + '_previous') is None
    container = wait_pg(docker_client, name)
    assert container.id == recreated['container_id']
    assert psql(container, 'SELECT x FROM kept') == 'row one'

    # the container put back is the wanted configuration: unchanged; absent removes it, never the data
    back, gone = run_steps(tmp_path, step('toggle_deploy', changed_env),
                           step('toggle_deploy', dict(ids, service='db', state='absent')))
    assert back['changed'] is False and back['container_id'] == recreated['container_id']
    assert gone['changed'] is True
    assert find(docker_client, name) is None
    assert docker_client.volumes.get(volume).name == volume


# ------------------------------------------------------------------------------------------------
# scheduled: created, not started


def test_scheduled_service_is_created_not_started(tenant, docker_client, tmp_path):
    ids = {k: tenant[k] for k in ('user', 'project', 'env')}
    name = container_name(service='report', **ids)
    job = dict(ids, service='report', state='created', image=PYTHON, restart=False, network=tenant['network'],
               command=['python', '-c', 'print("report done")'], version='1')

    checked = ok(run_module(tmp_path, 'toggle_deploy', job, check=True))
    assert checked['changed'] is True and checked['action'] == 'created'
    assert find(docker_client, name) is None

    created, again = run_steps(tmp_path, step('toggle_deploy', job), step('toggle_deploy', job))
    assert created['changed'] is True and created['action'] == 'created'
    assert again['changed'] is False and again['container_id'] == created['container_id']
    container = find(docker_client, name)
    assert container.id == created['container_id'] and container.status == 'created'
    assert container.attrs['HostConfig']['RestartPolicy']['Name'] == 'no'

    # a timer ran it: still the same definition, nothing to do; a new definition replaces the finished
    # container, again without starting it
    container.start()
    assert container.wait(timeout=60)['StatusCode'] == 0
    job2 = dict(job, command=['python', '-c', 'print("report v2 done")'], version='2')
    after_run, replaced = run_steps(tmp_path, step('toggle_deploy', job), step('toggle_deploy', job2))
    assert after_run['changed'] is False
    assert replaced['changed'] is True and replaced['container_id'] != created['container_id']
    assert find(docker_client, name).status == 'created'


# ------------------------------------------------------------------------------------------------
# secrets read by a non-root uid


def test_secret_owner_gets_a_private_copy(tenant, docker_client, tmp_path):
    ids = {k: tenant[k] for k in ('user', 'project', 'env')}
    secrets_dir = tmp_path / 'secrets'
    source = write_secret(secrets_dir / 'redis_password', random_secret())
    secrets_dir.chmod(0o700)
    worker = dict(ids, service='worker', image=PYTHON, command=['python', '-c', SLEEPER], network=tenant['network'],
                  secrets=[{'source': str(source), 'owner': 999}], health=FAST_RUNNING, stop_timeout=2,
                  state_dir=str(tmp_path / 'state'))
    control = dict(ids, service='worker', state_dir=worker['state_dir'], drain_seconds=0)
    copy = secrets_dir / 'run' / 'worker' / 'redis_password'

    assert ok(run_module(tmp_path, 'toggle_deploy', worker, check=True))['changed'] is True
    assert not copy.exists()

    first, again = run_steps(tmp_path, step('toggle_deploy', worker), step('toggle_deploy', worker))
    assert first['changed'] is True and again['changed'] is False
    container = find(docker_client, container_name(service='worker', **ids))
    assert exec_ok(container, ['stat', '-c', '%u:%a', '/run/secrets/redis_password']) == '999:400'
    assert exec_ok(container, ['cat', '/run/secrets/redis_password'], user='999') == source.read_text()
    code, out = container.exec_run(['cat', '/run/secrets/redis_password'], user='1000')
    assert code != 0 and b'Permission denied' in out
    # the source stays root's, 0600, in its 0700 directory; the copy is 999's, 0400
    assert (os.stat(source).st_uid, stat.S_IMODE(os.stat(source).st_mode)) == (0, 0o600)
    assert stat.S_IMODE(os.stat(secrets_dir).st_mode) == 0o700
    assert (os.stat(copy).st_uid, stat.S_IMODE(os.stat(copy).st_mode)) == (999, 0o400)
    mounts = {m['Destination']: m['Source'] for m in container.attrs['Mounts']}
    assert mounts['/run/secrets/redis_password'] == str(copy)

    # a rotated secret is a new configuration: the other slot gets a copy of the new content
    rotated = random_secret()
    write_secret(source, rotated)
    second, promoted, cleaned, settled = run_steps(
        tmp_path, step('toggle_deploy', worker), step('toggle_deploy', dict(control, state='promoted', slot='secondary')),
        step('toggle_deploy', dict(control, state='cleaned')), step('toggle_deploy', worker))
    assert second['changed'] is True and second['active_slot'] == 'secondary'
    assert promoted['changed'] is True and cleaned['changed'] is True
    assert settled['changed'] is False
    container = find(docker_client, container_name(service='worker', slot='secondary', **ids))
    assert exec_ok(container, ['cat', '/run/secrets/redis_password'], user='999') == rotated


# ------------------------------------------------------------------------------------------------
# service_logs: error lines marked


def test_service_logs_marks_error_lines(tenant, docker_client, tmp_path):
    ids = {k: tenant[k] for k in ('user', 'project', 'env')}
    worker = dict(ids, service='queue', image=PYTHON, command=['python', '-c', SLEEPER], network=tenant['network'],
                  env_vars={'SAY': 'ERROR could not reach the queue, retrying'}, health=FAST_RUNNING,
                  stop_timeout=2)
    ok(run_module(tmp_path, 'toggle_deploy', worker))
    name = container_name(service='queue', **ids)
    wait_for(lambda: b'retrying' in find(docker_client, name).logs(), 'the first log line')

    logs_args = dict(ids, service='queue', lines=20)
    logs_checked, logs, missing = run_steps(
        tmp_path, step('service_logs', logs_args, check=True), step('service_logs', logs_args),
        step('service_logs', dict(ids, service='nothere'), may_fail=True))
    for result in (logs_checked, logs):
        assert result['changed'] is False and result['container'] == name
        assert result['method'] == 'docker logs'
        assert result['lines'] == ['%s ERROR could not reach the queue, retrying' % ERROR_MARK]
        assert result['error_lines'] == [WARNING_HEADER,
                                         '%s ERROR could not reach the queue, retrying' % ERROR_MARK]
    assert missing.get('failed') is True
    assert 'has no container on this host' in missing['msg']
