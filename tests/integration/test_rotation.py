# SPDX-License-Identifier: GPL-3.0-or-later
"""rotate_secrets.yml on the example project under a steady load through the API (issue 6).

The API reads postgres (a new connection per request) and redis (one long-lived client) on
every GET /items. Two rotations in a row (postgres clients move to {owner}_alt, then back to
the owner): no request fails, the data stays, the old passwords stop working, the new ones
work, redis keeps the new one across a restart, and the databases' containers are never
recreated. list_secrets shows no value.
"""
import os
import subprocess
import time

import pytest

from helpers import SteadyLoad, recap_changed
from test_deploy import deployed_example

pytestmark = pytest.mark.usefixtures('world')


def _pg_login_works(project, role, password):
    """Log in over the tenant network, as the API does (inside the database's container, loopback is trusted)."""
    proc = subprocess.run(['docker', 'run', '--rm', '--network', '%s_net' % project.prefix, '-e', 'PGPASSWORD=%s' % password,
                           '--entrypoint', 'psql', 'fleet-world/postgres:15', '-X', '-At',
                           'host=%s_postgres user=%s dbname=myapp_prod' % (project.prefix, role),
                           '-c', 'SELECT count(*) FROM items'],
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr


def _redis_auth_works(project, password):
    proc = subprocess.run(['docker', 'exec', '-e', 'REDISCLI_AUTH=%s' % password, '%s_redis' % project.prefix,
                           'redis-cli', '--no-auth-warning', 'PING'], capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout.strip() == 'PONG', proc.stdout + proc.stderr


def _secret(project, name):
    with open(os.path.join(project.project_dir, 'secrets', name)) as handle:
        return handle.read().strip()


@pytest.fixture(scope='module')
def rotated_project(tmp_path_factory):
    yield from deployed_example(tmp_path_factory, 'rotation', 'r')


def _rotate_under_load(project):
    ids = dict((name, cid) for name, (cid, _state) in project.containers().items())
    old = {'postgres': _secret(project, 'postgres_password'), 'redis': _secret(project, 'redis_password')}
    login_file = os.path.join(project.project_dir, 'secrets', 'postgres_login')
    old_login = open(login_file).read().strip() if os.path.exists(login_file) else '%s_myapp' % project.user
    with SteadyLoad('127.0.0.1', 'api.%s.localhost' % project.user, '/items', rate=20, port=project.edge_port) as load:
        proc = project.playbook('rotate_secrets', timeout=1500)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert load.failed == 0 and load.total > 50, load.summary()
    new = {'postgres': _secret(project, 'postgres_password'), 'redis': _secret(project, 'redis_password')}
    new_login = open(login_file).read().strip()
    assert new['postgres'] != old['postgres'] and new['redis'] != old['redis']
    assert new_login != old_login
    # the old passwords stop working, the new ones work
    ok, out = _pg_login_works(project, old_login, old['postgres'])
    assert not ok and 'password authentication failed' in out, out
    ok, out = _pg_login_works(project, new_login, new['postgres'])
    assert ok, out
    assert not _redis_auth_works(project, old['redis'])[0]
    assert _redis_auth_works(project, new['redis'])[0]
    # the databases were not recreated; nothing of either password in the output
    after = dict((name, cid) for name, (cid, _state) in project.containers().items())
    for service in ('postgres', 'redis'):
        assert after['%s_%s' % (project.prefix, service)] == ids['%s_%s' % (project.prefix, service)]
    for value in list(old.values()) + list(new.values()):
        assert value not in proc.stdout + proc.stderr
    assert not [n for n in os.listdir(os.path.join(project.project_dir, 'secrets')) if n.endswith('.next')]
    return new, new_login, load


def test_two_rotations_under_load_lose_nothing(rotated_project):
    project = rotated_project
    status, body = project.request('POST', '/items', {'name': 'before-rotation'})
    assert status == 201
    first, login, load = _rotate_under_load(project)
    assert login == '%s_myapp_alt' % project.user
    print('rotation 1:', load.summary())
    second, login, load = _rotate_under_load(project)
    assert login == '%s_myapp' % project.user
    print('rotation 2:', load.summary())
    assert not _pg_login_works(project, '%s_myapp_alt' % project.user, first['postgres'])[0]
    status, body = project.request('GET', '/items')
    assert status == 200 and 'before-rotation' in [item['name'] for item in body['items']]
    status, body = project.request('POST', '/items', {'name': 'after-rotation'})
    assert status == 201


def test_redis_keeps_the_new_password_across_a_restart_and_deploy_changes_nothing(rotated_project):
    project = rotated_project
    subprocess.run(['docker', 'restart', '%s_redis' % project.prefix], capture_output=True, check=True, timeout=120)
    # `docker restart` returns before redis accepts connections (or while it loads its data): wait for an
    # answer, bounded, then judge the password by it
    for _attempt in range(30):
        works, said = _redis_auth_works(project, _secret(project, 'redis_password'))
        if works or 'WRONGPASS' in said or 'NOAUTH' in said:
            break
        time.sleep(1)
    assert works, said
    proc = project.playbook('deploy')
    assert proc.returncode == 0 and recap_changed(proc.stdout) == 0, proc.stdout[-4000:]
    # the API's long-lived redis client lost its connection in the restart (not in the rotation): let it reconnect
    statuses = []
    for _attempt in range(5):
        try:
            statuses.append(project.request('GET', '/items')[0])
        except OSError as exc:  # urllib's HTTPError for a 5xx
            statuses.append(getattr(exc, 'code', repr(exc)))
        if statuses[-1] == 200:
            break
        time.sleep(1)
    assert statuses[-1] == 200, statuses


def test_list_secrets_names_them_without_values(rotated_project):
    project = rotated_project
    proc = project.playbook('list_secrets', '-vvv')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'postgres_password' in proc.stdout and 'postgres_login' in proc.stdout
    for value in project.secrets():
        assert value not in proc.stdout + proc.stderr


def test_a_service_without_a_password_is_refused(rotated_project):
    proc = rotated_project.playbook('rotate_secrets', '-e', 'fleet_services=api')
    assert proc.returncode != 0 and 'fleet_services: api has no password to rotate' in proc.stdout, proc.stdout[-3000:]
