# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.image_build through real ansible-playbook runs against the real engine,
and the example app (examples/apps/api) running against the test world's postgres and redis.

The wheels are downloaded on this host (PyPI through the host's CA bundle), the builds run on
the local engine with the stand-in base image ``fleet-world/python:3.11``.
"""
import json
import os
import secrets
import shutil
import time
import urllib.error
import urllib.request

import pytest

from helpers import REPO, run_playbook, task_results

pytestmark = pytest.mark.integration

PYTHON = 'fleet-world/python:3.11'
POSTGRES = 'fleet-world/postgres:15'
REDIS = 'fleet-world/redis:7'
EXAMPLE = os.path.join(REPO, 'examples', 'apps', 'api')

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: build
      projectdeployer.fleet.image_build:
        user: "{{ build.user }}"
        project: "{{ build.project }}"
        env: "{{ build.env }}"
        service: "{{ build.service }}"
        build_context: "{{ build.build_context }}"
        command: "{{ build.command }}"
        port: "{{ build.port | default(omit) }}"
        health_path: "{{ build.health_path | default(omit) }}"
        requirements_files: "{{ build.requirements_files | default(omit) }}"
        base_image: "{{ build.base_image | default(omit) }}"
        version: "{{ build.version | default(omit) }}"
        build_root: "{{ build.build_root }}"
        keep_context: "{{ build.keep_context | default(omit) }}"
        no_cache: "{{ build.no_cache | default(omit) }}"
"""


def _copy_example(dest):
    shutil.copytree(EXAMPLE, str(dest), ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    return dest


def _options(tmp_path, prefix, **over):
    opts = dict(user=prefix, project='myapp', env='test', service='api', build_context=str(tmp_path / 'api'),
                command='python -u app.py', port=8000, health_path='/health', base_image=PYTHON, version='1',
                build_root=str(tmp_path / 'build'))
    opts.update(over)
    return opts


def _build(tmp_path, options, *args):
    play = tmp_path / 'build.yml'
    play.write_text(PLAY)
    varfile = tmp_path / 'build-vars.json'
    varfile.write_text(json.dumps({'build': options}))
    proc = run_playbook(str(play), '-e', '@%s' % varfile, *args, json_output=True, timeout=900)
    assert proc.returncode in (0, 2), proc.stdout[-3000:] + proc.stderr[-3000:]
    return task_results(proc, 'build')['localhost']


@pytest.fixture
def build_leftovers(request, docker_client, unique_prefix):
    """Remove the untagged images our builds leave: builder stages and replaced images."""
    before = set(i.id for i in docker_client.images.list(filters={'dangling': True}))

    def cleanup():
        for image in docker_client.images.list(filters={'dangling': True}):
            if image.id in before:
                continue
            ours = (image.labels or {}).get('fleet.user') == unique_prefix
            if not ours:
                try:
                    ours = any('/tmp/fleet-wheels' in (h.get('CreatedBy') or '') or
                               'python -m venv /opt/venv' in (h.get('CreatedBy') or '') for h in image.history())
                except Exception:  # noqa: BLE001 - gone meanwhile
                    continue
            if ours:
                try:
                    docker_client.images.remove(image.id)
                except Exception:  # noqa: BLE001 - in use by someone else's build: leave it
                    pass

    request.addfinalizer(cleanup)


def _run(docker_client, image, cmd, labels, **kwargs):
    out = docker_client.containers.run(image, cmd, remove=True, labels=labels, **kwargs)
    return out.decode().strip()


def _layers(docker_client, image_id):
    return docker_client.images.get(image_id).attrs['RootFS']['Layers']


def test_build_check_run_idempotent_and_code_only_rebuild(tmp_path, unique_prefix, docker_client, test_labels,
                                                          build_leftovers):
    _copy_example(tmp_path / 'api')
    opts = _options(tmp_path, unique_prefix)
    image = '%s_myapp_test_api:1' % unique_prefix

    checked = _build(tmp_path, opts, '--check')
    assert checked['changed'] is True and checked['built'] is False and checked['image'] == image
    assert not os.path.exists(opts['build_root'])

    # the engine is shared: other builds may have cached this builder stage, so force a cold build
    cold = _build(tmp_path, dict(opts, no_cache=True))
    assert cold['changed'] is True and cold['built'] is True, cold
    assert cold['wheel_cache'] == 'miss'
    names = ' '.join(cold['wheels'])
    assert 'psycopg2_binary-2.9.10-cp311-cp311-manylinux' in names
    assert 'redis-' in names and 'async_timeout-' in names, 'markers are evaluated for the image (Python 3.11.2)'
    built = docker_client.images.get(image)
    assert built.id == cold['image_id']
    labels = built.labels
    assert labels['fleet.source_hash'] == cold['source_hash']
    assert (labels['fleet.user'], labels['fleet.project'], labels['fleet.env'], labels['fleet.service']) == (
        unique_prefix, 'myapp', 'test', 'api')
    config = built.attrs['Config']
    assert config['User'] == 'appuser' and 'PYTHONUNBUFFERED=1' in config['Env']
    assert config['Cmd'] == ['python', '-u', 'app.py'] and '8000/tcp' in config['ExposedPorts']
    assert 'HTTPConnection("127.0.0.1", 8000' in ' '.join(config['Healthcheck']['Test'])
    assert 'c.request("GET", "/health")' in ' '.join(config['Healthcheck']['Test'])

    # the seed's temp layout is cleaned up; the wheel cache stays
    assert not os.path.exists(os.path.join(opts['build_root'], 'dockerfiles', unique_prefix,
                                           'Dockerfile.myapp-test-api.tmp'))
    assert not os.path.exists(os.path.join(opts['build_root'], 'build_contexts', unique_prefix, 'myapp-test-api'))
    assert os.listdir(os.path.join(opts['build_root'], 'wheel_cache'))

    assert _run(docker_client, image, ['id', '-u'], test_labels) == '1000'
    versions = _run(docker_client, image, ['python', '-c', 'import psycopg2, redis; print(psycopg2.__version__.split()[0], '
                                           'redis.__version__)'], test_labels)
    assert versions == '2.9.10 5.2.1'
    # (each line ends in a newline: dockerd 20.10 may drop an unterminated last line of a short-lived container)
    assert _run(docker_client, image, ['sh', '-c', 'ls -A /app | sort | tr "\\n" " "; echo; '
                                       'test -e /tmp/fleet-wheels && echo LEAK; test -e /app/.fleet-wheels && echo LEAK; '
                                       'touch /opt/venv/x 2>/dev/null && echo WRITABLE; true'], test_labels) == \
        'README.md app.py connections.py report.py requirements.txt search.py worker.py'
    # the fleet's ResourceResolver comes with every Python image (the action gives the module its source)
    assert _run(docker_client, image, ['python', '-c', 'from projectdeployer_resolver import ResourceResolver as R; '
                                       'print(R.get_service_host("u1", "p", "prod", "postgres"))'], test_labels) == 'nginx'

    again = _build(tmp_path, dict(opts, no_cache=True))
    assert again['changed'] is False and again['built'] is False and again['image_id'] == cold['image_id']

    with open(str(tmp_path / 'api' / 'app.py'), 'a') as handle:
        handle.write('\n# a code-only change %s\n' % unique_prefix)  # content never built before on this engine
    warm = _build(tmp_path, opts)
    assert warm['changed'] is True and warm['built'] is True and warm['image_id'] != cold['image_id']
    assert warm['wheel_cache'] == 'hit', 'a code change downloads nothing'
    # the dependency steps came from the cache: only the code layer is new. (BuildKit may serve a step
    # from any earlier build with the same inputs, not necessarily the --no-cache one above, so the
    # layers are compared by count, and the reuse is read from the build's CACHED steps.)
    assert any('pip install' in step for step in warm['cached_steps']), warm['cached_steps']
    assert any('COPY --from=builder /opt/venv' in step for step in warm['cached_steps']), warm['cached_steps']
    old, new = _layers(docker_client, cold['image_id']), _layers(docker_client, warm['image_id'])
    base = _layers(docker_client, PYTHON)
    # the venv, the resolver (import projectdeployer_resolver), the work directory and the code
    assert len(old) == len(new) == len(base) + 5 and new[:len(base)] == old[:len(base)] == base
    assert new[-1] != old[-1] and new[:-1] == old[:-1]
    print('\nimage %s: %.0f MB; cold build %.1f s (task %.1f s), code-only rebuild %.1f s (task %.1f s), '
          'unchanged %.2f s' % (image, built.attrs['Size'] / 1e6, cold['build_seconds'], cold['duration'],
                                warm['build_seconds'], warm['duration'], again['duration']))


def test_missing_build_context_is_one_clear_error(tmp_path, unique_prefix):
    missing = str(tmp_path / 'no-such-code')
    res = _build(tmp_path, _options(tmp_path, unique_prefix, build_context=missing))
    assert res['failed'] is True
    assert res['msg'].startswith('build_context %s does not exist' % missing)
    assert 'Traceback' not in res.get('module_stderr', '') + res.get('exception', '')


def test_build_failure_shows_the_last_build_lines(tmp_path, unique_prefix, docker_client, build_leftovers):
    try:
        docker_client.images.get('fleet-world/base:bookworm')
    except Exception:  # noqa: BLE001
        pytest.skip('needs the world base image fleet-world/base:bookworm (an image without python)')
    (tmp_path / 'api').mkdir()
    (tmp_path / 'api' / 'app.py').write_text('print(1)\n')
    res = _build(tmp_path, _options(tmp_path, unique_prefix, base_image='fleet-world/base:bookworm',
                                    requirements_files=[], keep_context=True))
    assert res['failed'] is True
    first, dummy, rest = res['msg'].partition('\n')
    assert first.startswith('building %s_myapp_test_api:1 for api failed' % unique_prefix)
    assert 'python: not found' in rest and 'python: not found' in ' '.join(res['build_log'])
    kept = os.path.join(str(tmp_path / 'build'), 'build_contexts', unique_prefix, 'myapp-test-api', 'app', 'app.py')
    assert os.path.isfile(kept), 'keep_context keeps the context of a failed build for debugging'


# ---------------------------------------------------------------- the example app, for real

def _write_secret(path, text, uid):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chown(str(path), uid, uid)
    os.chmod(str(path), 0o400)
    return str(path)


def _exec(container, cmd, **kwargs):
    code, out = container.exec_run(cmd, **kwargs)
    return code, out.decode().strip()


def _wait(what, probe, ready, timeout=60):
    """Call ``probe()`` until ``ready(value)``; return that value."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = probe()
            if ready(last):
                return last
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(0.5)
    raise AssertionError('%s not ready after %ds: %s' % (what, timeout, last))


def _http(port, path, data=None):
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path),
                                 data=json.dumps(data).encode() if data is not None else None,
                                 headers={'Content-Type': 'application/json'} if data is not None else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_example_app_round_trips_through_postgres_and_redis(tmp_path, unique_prefix, docker_client, test_labels,
                                                            build_leftovers):
    _copy_example(tmp_path / 'api')
    res = _build(tmp_path, _options(tmp_path, unique_prefix))
    assert res['built'] is True, res
    image = res['image']

    db, role = 'myapp_test', '%s_myapp' % unique_prefix
    pg_password, redis_password = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    pg_secret = _write_secret(tmp_path / 'secrets' / 'postgres' / 'postgres_password', pg_password, 0)
    redis_conf = _write_secret(tmp_path / 'secrets' / 'redis' / 'redis.conf',
                               'requirepass %s\nappendonly no\n' % redis_password, 999)
    app_pg = _write_secret(tmp_path / 'secrets' / 'app' / 'postgres_password', pg_password, 1000)
    app_redis = _write_secret(tmp_path / 'secrets' / 'app' / 'redis_password', redis_password, 1000)

    net = docker_client.networks.create('%s_myapp_test_net' % unique_prefix, driver='bridge', labels=test_labels)
    pg_name, redis_name = '%s_myapp_test_postgres' % unique_prefix, '%s_myapp_test_redis' % unique_prefix
    pg = docker_client.containers.run(
        POSTGRES, name=pg_name, detach=True, network=net.name, labels=test_labels,
        environment={'POSTGRES_USER': role, 'POSTGRES_DB': db, 'POSTGRES_PASSWORD_FILE': '/run/secrets/postgres_password'},
        volumes={pg_secret: {'bind': '/run/secrets/postgres_password', 'mode': 'ro'}})
    rds = docker_client.containers.run(
        REDIS, ['redis-server', '/usr/local/etc/redis/redis.conf'], name=redis_name, detach=True, network=net.name,
        labels=test_labels, volumes={redis_conf: {'bind': '/usr/local/etc/redis/redis.conf', 'mode': 'ro'}})
    redis_auth = {'REDISCLI_AUTH': redis_password}
    _wait('postgres', lambda: _exec(pg, ['pg_isready', '-h', '127.0.0.1', '-U', role, '-d', db]), lambda r: r[0] == 0)
    _wait('redis', lambda: _exec(rds, ['redis-cli', 'ping'], environment=redis_auth), lambda r: r == (0, 'PONG'))

    app_env = {
        'POSTGRES_HOST': pg_name, 'POSTGRES_PORT': '5432', 'POSTGRES_DB': db, 'POSTGRES_USER': role,
        'POSTGRES_PASSWORD_FILE': '/run/secrets/postgres_password',
        'REDIS_HOST': redis_name, 'REDIS_PORT': '6379', 'REDIS_PASSWORD_FILE': '/run/secrets/redis_password',
        'GREETING': 'hello from %s' % unique_prefix, 'APP_VERSION': '1-test',
    }
    app_secrets = {app_pg: {'bind': '/run/secrets/postgres_password', 'mode': 'ro'},
                   app_redis: {'bind': '/run/secrets/redis_password', 'mode': 'ro'}}
    app = docker_client.containers.run(
        image, name='%s_myapp_test_api' % unique_prefix, detach=True, network=net.name, labels=test_labels,
        environment=app_env, volumes=app_secrets, read_only=True, ports={'8000/tcp': ('127.0.0.1', None)})
    app.reload()
    port = int(app.attrs['NetworkSettings']['Ports']['8000/tcp'][0]['HostPort'])
    _wait('api /health', lambda: _http(port, '/health'), lambda r: r == (200, 'ok\n'))

    status, body = _http(port, '/')
    greeting = json.loads(body)
    assert status == 200 and greeting['greeting'] == 'hello from %s' % unique_prefix
    assert greeting['hostname'] == app.id[:12]
    assert json.loads(_http(port, '/version')[1]) == {'version': '1-test'}

    created = []
    for name in ('alpha', 'beta'):
        status, body = _http(port, '/items', {'name': name})
        assert status == 201, body
        created.append(json.loads(body))
    assert [c['id'] for c in created] == [1, 2] and [c['counter'] for c in created] == [1, 2]
    assert _http(port, '/items', {'nom': 'x'})[0] == 400
    status, body = _http(port, '/items')
    listed = json.loads(body)
    assert status == 200 and [i['name'] for i in listed['items']] == ['alpha', 'beta'] and listed['counter'] == 2

    # the data really is in postgres and redis
    code, rows = _exec(pg, ['psql', '-U', role, '-d', db, '-tAc', "SELECT string_agg(name, ',' ORDER BY id) FROM items"],
                       user='postgres')
    assert (code, rows) == (0, 'alpha,beta')
    assert _exec(rds, ['redis-cli', 'GET', 'items:created'], environment=redis_auth) == (0, '2')

    logs = app.logs().decode()
    assert 'target postgres: %s@%s:5432/%s (password from file)' % (role, pg_name, db) in logs
    assert 'target redis: %s:6379 (password from file)' % redis_name in logs
    assert '"POST /items" 201' in logs and '"GET /items" 200' in logs
    assert pg_password not in logs and redis_password not in logs

    # the image's own HEALTHCHECK passes (first check after its 10 s interval)
    _wait('docker health status', lambda: (app.reload(), app.attrs['State']['Health']['Status'])[1],
          lambda status: status == 'healthy', timeout=45)

    # the same image runs the worker and the report (the other two commands of the codebase)
    worker_env = dict((k, v) for k, v in app_env.items() if k.startswith('REDIS_'))
    worker_env['HEARTBEAT_SECONDS'] = '1'
    worker = docker_client.containers.run(
        image, ['python', '-u', 'worker.py'], name='%s_myapp_test_worker' % unique_prefix, detach=True,
        network=net.name, labels=test_labels, environment=worker_env, volumes=app_secrets, read_only=True)
    _exec(rds, ['redis-cli', 'LPUSH', 'jobs', json.dumps({'id': 'j1', 'text': 'hello fleet'})],
          environment=redis_auth)
    code, result = _wait('worker result', lambda: _exec(rds, ['redis-cli', 'GET', 'result:j1'], environment=redis_auth),
                         lambda r: r[0] == 0 and r[1], timeout=30)
    assert json.loads(result)['upper'] == 'HELLO FLEET'
    _wait('worker heartbeat', lambda: worker.logs().decode(), lambda logs: 'heartbeat: alive, processed=1' in logs,
          timeout=15)
    worker.stop(timeout=15)
    worker.reload()
    assert worker.attrs['State']['ExitCode'] == 0, worker.logs().decode()
    assert 'stopped, processed=1' in worker.logs().decode()

    report_env = dict((k, v) for k, v in app_env.items() if k.startswith('POSTGRES_'))
    report = docker_client.containers.run(
        image, ['python', '-u', 'report.py'], name='%s_myapp_test_report' % unique_prefix, detach=True,
        network=net.name, labels=test_labels, environment=report_env, volumes=app_secrets, read_only=True)
    assert report.wait(timeout=60)['StatusCode'] == 0, report.logs().decode()
    assert 'items=2 db=%s@%s:5432' % (db, pg_name) in report.logs().decode()

    # FAIL_ON_START: a clear Python traceback in the logs and a non-zero exit
    failing = docker_client.containers.run(
        image, name='%s_myapp_test_failing' % unique_prefix, detach=True, network=net.name, labels=test_labels,
        environment=dict(app_env, FAIL_ON_START='1'), volumes=app_secrets)
    assert failing.wait(timeout=60)['StatusCode'] == 1
    failed_logs = failing.logs().decode()
    assert 'Traceback (most recent call last):' in failed_logs
    assert 'RuntimeError: FAIL_ON_START=1' in failed_logs
