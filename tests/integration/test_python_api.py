# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's Python API and the `fleet` command line on the embedded default (issue 18).

One project for a random user, made through the API the way the seed's Quick Start makes it (postgres, redis,
the example API, and a throwaway service), deployed to this machine's engine; the tests run in order on it:
the Quick Start in Python (deploy, status, logs with error highlighting, a second version, rollback, history,
backup, list_backups, restore, delete_service then deploy), then the same project through `fleet` in a
subprocess (--json parsed, exit codes 2 and 1, the lock refusing a concurrent deploy, bounded --follow, the
audit log), and `fleet remove --yes --purge` at the end, which leaves nothing of the user.
"""
import json
import os
import random
import string
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from helpers import BIN, REPO, free_port, remove_edge, remove_tenant_firewall

pytestmark = pytest.mark.usefixtures('world')

NGINX = 'fleet-world/nginx:1.22'


class World(object):
    """The project, its roots and edge, and how a test talks to it."""

    def __init__(self, tmp):
        self.user = 'a' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
        self.tmp, self.edge_port = tmp, free_port()
        with open(os.path.join(REPO, 'tests', 'world', 'images.yml')) as handle:
            images = yaml.safe_load(handle)
        self.extra_vars = dict(images, fleet_root=str(tmp / 'fleet'), fleet_controller_root=str(tmp / 'fleet'),
                               fleet_edge_http_port=self.edge_port, fleet_edge_https_port=free_port(),
                               fleet_edge_bind_address='127.0.0.1', fleet_edge_container='fleet_edge_%s' % self.user,
                               fleet_health_overrides={'interval': 1, 'retries': 40}, fleet_drain_seconds=1)
        self.vars_file = tmp / 'vars.yml'
        self.vars_file.write_text(yaml.safe_dump(self.extra_vars))
        self.project = None

    def request(self, path, method='GET', body=None):
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (self.edge_port, path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={'Host': 'api.%s.localhost' % self.user, 'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b'null')

    def container(self, service):
        """The names of the service's running containers."""
        out = subprocess.run(['docker', 'ps', '--filter', 'label=fleet.user=%s' % self.user, '--filter',
                              'label=fleet.service=%s' % service, '--format', '{{.Names}}'],
                             capture_output=True, text=True, check=True).stdout
        return sorted(out.split())

    def psql(self, sql):
        return subprocess.run(['docker', 'exec', '-u', 'postgres', '%s_myapp_prod_postgres' % self.user, 'psql', '-X',
                               '-At', '-v', 'ON_ERROR_STOP=1', '-U', '%s_myapp' % self.user, '-d', 'myapp_prod', '-c', sql],
                              capture_output=True, text=True, check=True, timeout=60).stdout.strip()

    @staticmethod
    def fleet_env():
        return dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.path.join(REPO, 'resolver')]),
                    PATH=BIN + os.pathsep + os.environ.get('PATH', ''))

    def fleet(self, *args, spec=None, timeout=600):
        """`fleet ARGS` in a subprocess (as its console script runs it), with this world's variables."""
        env = self.fleet_env()
        cmd = [sys.executable, '-m', 'projectdeployer.cli', '--spec', str(spec or self.project.spec_path),
               '--vars-file', str(self.vars_file)] + list(args)
        return subprocess.run(cmd, cwd=str(self.tmp), env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)


@pytest.fixture(scope='module')
def world(tmp_path_factory, world):  # pylint: disable=redefined-outer-name
    made = World(tmp_path_factory.mktemp('python_api'))
    yield made
    # `fleet remove --yes --purge` is the last test; what a failed run leaves goes by hand
    ids = subprocess.run(['docker', 'ps', '-aq', '--filter', 'label=fleet.user=%s' % made.user],
                         capture_output=True, text=True, check=False).stdout.split()
    if ids:
        subprocess.run(['docker', 'rm', '-f'] + ids, capture_output=True, check=False)
    for kind in ('network', 'volume'):
        names = subprocess.run(['docker', kind, 'ls', '-q', '--filter', 'name=%s_myapp_prod' % made.user],
                               capture_output=True, text=True, check=False).stdout.split()
        if names:
            subprocess.run(['docker', kind, 'rm'] + names, capture_output=True, check=False)
    remove_edge('fleet_edge_%s' % made.user)
    remove_tenant_firewall(made.user, 'myapp')
    for path in [p for p in os.listdir('/etc/cron.d') if p.startswith('fleet_%s_' % made.user)]:
        os.unlink(os.path.join('/etc/cron.d', path))


def test_the_quick_start_in_python(world):  # pylint: disable=redefined-outer-name
    from projectdeployer import FleetError, ProjectDeployer

    project = ProjectDeployer.create(world.user, 'myapp', version='1', root=str(world.tmp / 'specs'),
                                     extra_vars=world.extra_vars, cwd=REPO)
    project.add_postgres() \
           .add_redis(version='7') \
           .add_python_service('api', command='python -u app.py', port=8000, depends_on=['postgres', 'redis'],
                               build_context=os.path.join(REPO, 'examples', 'apps', 'api'),
                               domain='api.%s.localhost' % world.user, health_path='/health') \
           .add_service('extra', image=NGINX, ports=[80], health_path='/')
    world.project = project
    assert project.deploy(env='prod') is True
    assert world.request('/items', 'POST', {'name': 'first'})['name'] == 'first'
    assert world.request('/version') == {'version': '1'}

    status = project.status(env='prod')
    api = status['servers']['localhost']['api']
    assert set(status['servers']['localhost']) == {'postgres', 'redis', 'api', 'extra'}
    assert [api['active_container']] == world.container('api') and api['active_version'] == '1'
    assert project.get_deployment_state(env='prod', service='api')['localhost']['active_container'] == api['active_container']

    # an error line in the api's output comes first, marked
    subprocess.run(['docker', 'exec', api['active_container'], 'sh', '-c', 'echo "ERROR boom in the api" > /proc/1/fd/1'],
                   check=True, capture_output=True)
    text = project.logs(service='api', env='prod', lines=100)
    assert text.splitlines()[0].startswith('\u26a0') and '\u274c ERROR boom in the api' in text, text
    assert 'POST /items' in text

    # a second version of the api, then back to the first
    project.set_version('2')
    assert project.deploy(env='prod', service='api') is True
    assert world.request('/version') == {'version': '2'}
    assert project.rollback(env='prod', service='api') is True
    assert world.request('/version') == {'version': '1'}
    history = project.get_deployment_history(env='prod', service='api', limit=10)
    assert [(r['version'], r['outcome']) for r in history[:3]] == [('1', 'rolled_back'), ('2', 'deployed'), ('1', 'deployed')]
    with pytest.raises(FleetError) as caught:
        project.rollback(env='prod', service='api', to_version='9')
    assert 'no deploy of version 9' in str(caught.value) and 'fix:' in str(caught.value)

    # a backup, a change, the restore: the rows of the backup again
    taken = project.backup(env='prod', service='postgres')
    assert len(taken) == 1 and taken[0]['service'] == 'postgres' and taken[0]['server'] == 'localhost'
    world.request('/items', 'POST', {'name': 'after the backup'})
    listed = project.list_backups(env='prod', service='postgres')
    assert [b['name'] for b in listed] == [taken[0]['name']] and listed[0]['status'] == 'ok'
    restored = project.restore(env='prod', service='postgres', backup_file=taken[0]['name'])
    assert restored and world.psql('SELECT name FROM items ORDER BY id') == 'first'

    # a service out of the spec goes with the next deploy (remove.yml's removal, issue 13)
    assert world.container('extra')
    project.delete_service('extra')
    assert 'extra' not in yaml.safe_load(open(project.spec_path))['services']
    project.deploy(env='prod', build=False)          # the spec's version (2) again: a rollback lasts until the next deploy
    assert world.container('extra') == [] and world.request('/version') == {'version': '2'}
    assert ProjectDeployer(world.user, 'myapp', root=str(world.tmp / 'specs')).spec == project.spec


def test_the_same_with_the_fleet_command(world):  # pylint: disable=redefined-outer-name
    assert world.project is not None, 'the Python test made the project'
    status = world.fleet('status', '--json')
    assert status.returncode == 0, status.stderr[-3000:]
    assert json.loads(status.stdout)['servers']['localhost']['api']['active_version'] == '2'
    table = world.fleet('status')
    assert table.stdout.splitlines()[0].split() == ['SERVER', 'SERVICE', 'VERSION', 'SLOT', 'STATE', 'HEALTH', 'RESTARTS']

    # a bad spec: exit 2, one line naming the key, nothing run
    bad = world.tmp / 'bad.yml'
    spec = yaml.safe_load(open(world.project.spec_path))
    spec['services']['api']['port'] = 70000
    bad.write_text(yaml.safe_dump(spec))
    refused = world.fleet('deploy', spec=bad)
    assert refused.returncode == 2 and 'services.api.port' in refused.stderr and 'Traceback' not in refused.stderr

    # the lock: held with a message, a deploy is refused naming it; released, the deploy runs (changing nothing)
    assert world.fleet('lock', 'acquire', '-m', 'migrating by hand').returncode == 0
    locked = world.fleet('deploy', '-s', 'api', '--no-build')
    assert locked.returncode == 1 and 'migrating by hand' in locked.stderr and 'fleet lock release' in locked.stderr
    assert world.fleet('lock', 'release').returncode == 0
    # two deploys at once: the second is refused naming the first (its command line and process)
    first = subprocess.Popen([sys.executable, '-m', 'projectdeployer.cli', '--spec', world.project.spec_path,
                              '--vars-file', str(world.vars_file), 'deploy', '-s', 'api', '--no-build'],
                             cwd=str(world.tmp), env=world.fleet_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    lock_file = os.path.join(world.extra_vars['fleet_controller_root'], world.user, 'myapp', 'prod', 'config', 'fleet.lock')
    for _attempt in range(300):
        if os.path.exists(lock_file) or first.poll() is not None:
            break
        time.sleep(0.1)
    second = world.fleet('deploy', '-s', 'api', '--no-build')
    err = first.communicate(timeout=600)[1]
    assert first.returncode == 0, err[-3000:]
    assert second.returncode == 1 and 'pid %d' % first.pid in second.stderr and 'deploy -s api' in second.stderr, \
        second.stderr[-2000:]
    assert world.request('/version') == {'version': '2'}

    # a failing version: exit 1, the playbook's message, the old version still serves
    failing = world.tmp / 'failing.yml'
    spec['services']['api']['port'] = 8000
    spec['services']['api']['env_vars'] = {'FAIL_ON_START': '1'}
    failing.write_text(yaml.safe_dump(spec))
    failed = world.fleet('deploy', '-s', 'api', '--no-build', spec=failing)
    assert failed.returncode == 1 and 'Traceback (most recent call last)' not in failed.stderr.split('fleet:')[0]
    assert failed.stderr.strip().splitlines()[-1].startswith('fleet: '), failed.stderr[-3000:]
    assert world.request('/version') == {'version': '2'}

    logs = world.fleet('logs', 'api', '-n', '200', '--grep', 'GET /version')
    assert logs.returncode == 0 and logs.stdout.strip() and all('GET /version' in l for l in logs.stdout.splitlines())
    follow = world.fleet('logs', 'api', '-n', '1', '-f', '--follow-for', '8', '--since', '1s', timeout=300)
    assert follow.returncode == 0, follow.stderr[-2000:]

    history = json.loads(world.fleet('history', 'api', '--json').stdout)
    assert history[0]['outcome'] in ('deployed', 'rolled_back', 'failed')
    backups = json.loads(world.fleet('backups', '-s', 'postgres', '--json').stdout)
    assert len(backups) >= 1 and backups[0]['service'] == 'postgres'
    audit = world.fleet('audit', '--json')
    commands = [r['command'] for r in json.loads(audit.stdout)]
    assert any('lock acquire' in c for c in commands) and any(c.endswith('deploy -s api --no-build') for c in commands)
    outcomes = [r['outcome'] for r in json.loads(audit.stdout) if 'deploy' in r['command']]
    assert any(o.startswith('failed') for o in outcomes) and 'ok' in outcomes

    removed = world.fleet('remove', '--yes', '--purge')
    assert removed.returncode == 0, removed.stderr[-3000:]
    left = subprocess.run(['docker', 'ps', '-aq', '--filter', 'label=fleet.user=%s' % world.user],
                          capture_output=True, text=True, check=True).stdout.split()
    assert left == [] and not [p for p in os.listdir('/etc/cron.d') if p.startswith('fleet_%s_' % world.user)]
