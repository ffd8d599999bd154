# SPDX-License-Identifier: GPL-3.0-or-later
"""Removal on the real engine (issue 13, parts 3 and 4): a service that left the spec goes with the next
deploy (its data, backups and port kept unless purged), and remove.yml takes a whole project env off a
server that another tenant shares (same engine, same edge, same shared state) without a trace.

One module fixture deploys two tenants into one fleet root behind one edge: the example project with two
more services (``web``, an app with a domain, and ``cache``, a redis nobody depends on), and a small
second tenant (one app with a domain). The tests run in order and build on each other.
"""
import copy
import glob
import json
import os
import random
import string
import subprocess
import urllib.error
import urllib.request

import pytest
import yaml

from helpers import free_port, recap_changed, remove_edge
from test_deploy import Project, cleanup

pytestmark = pytest.mark.usefixtures('world')

APP = {'type': 'python', 'build_context': 'examples/apps/api', 'command': 'python -u app.py', 'port': 8000,
       'health_path': '/health'}
GONE = ('web', 'cache', 'report')


class Tenant(Project):
    """The example project (``extra`` services added), or with ``only`` the given services."""

    def __init__(self, root, user, edge_port, edge_container, extra=None, only=None):
        super(Tenant, self).__init__(root, user, edge_port, edge_container)
        self.spec['services'].update(copy.deepcopy(extra or {}))
        if only is not None:
            self.spec['services'] = dict((k, v) for k, v in self.spec['services'].items() if k in only)
        self.full = copy.deepcopy(self.spec)
        self.write()

    def write_without(self, *services):
        spec = copy.deepcopy(self.full)
        for name in services:
            del spec['services'][name]
        with open(self.spec_path, 'w') as handle:
            yaml.safe_dump(spec, handle)

    def status(self, host, path='/health'):
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (self.edge_port, path), headers={'Host': host})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    @property
    def fleet_root(self):
        return os.path.join(self.root, 'fleet')

    def remove(self, *args, **kwargs):
        return self.playbook('remove', '-e', 'fleet_confirm=%s/myapp/prod' % self.user, *args, **kwargs)


def _user(letter):
    return letter + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))


def docker_lines(*args):
    return subprocess.run(['docker'] + list(args), capture_output=True, text=True, check=True).stdout.split()


def traces(tenant):
    """Everything on the engine, in cron and in the shared state that names ``tenant``."""
    prefix = tenant.prefix + '_'
    found = [n for n in docker_lines('ps', '-a', '--format', '{{.Names}}') if n.startswith(prefix)]
    found += docker_lines('ps', '-aq', '--filter', 'label=fleet.user=%s' % tenant.user)
    found += [n for n in docker_lines('network', 'ls', '--format', '{{.Name}}') if n.startswith(prefix)]
    found += glob.glob('/etc/cron.d/fleet_%s' % prefix + '*')
    edge = os.path.join(tenant.fleet_root, '.fleet', 'edge')
    for path in glob.glob(os.path.join(edge, '**'), recursive=True):
        if os.path.isfile(path) and (tenant.prefix in os.path.basename(path) or tenant.prefix in open(path).read()):
            found.append(path)
    for path in glob.glob(os.path.join(tenant.fleet_root, '.fleet', '*.json')):
        if tenant.prefix in open(path).read():
            found.append(path)
    return found


def ports(tenant):
    with open(os.path.join(tenant.fleet_root, '.fleet', 'ports.json')) as handle:
        return json.load(handle)


def result(proc, task):
    """localhost's result of the task whose name ends with ``task`` in an ansible.posix.json run."""
    data = json.loads(proc.stdout)
    for play in data['plays']:
        for entry in play['tasks']:
            if entry['task']['name'].endswith(task):
                return entry['hosts']['localhost']
    raise AssertionError('no task %r in the run' % task)


def changed(proc):
    """The changed count of a json run (its stats)."""
    return sum(host.get('changed', 0) for host in json.loads(proc.stdout)['stats'].values())


PRUNE = 'Remove the services that left the spec'
REMOVE = "Remove the tenant's containers, network, cron files, shared state entries and directories"


@pytest.fixture(scope='module')
def tenants(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('remove'))
    user = _user('q')
    edge = 'fleet_edge_%s' % user
    port = free_port()
    mine = Tenant(root, user, port, edge, extra={
        'web': dict(APP, domain='web.%s.localhost' % user),
        'cache': {'type': 'redis', 'version': '7'},
    })
    other = Tenant(root, _user('w'), port, edge, extra={'site': dict(APP, domain='site.%s.localhost' % user)},
                   only=['site'])
    try:
        for tenant in (mine, other):
            proc = tenant.playbook('deploy')
            assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        yield mine, other
    finally:
        # The suite's cleanup is remove.yml itself (purged); what a failed run leaves goes by hand after it.
        for tenant in (mine, other):
            tenant.write()
            tenant.remove('-e', 'fleet_purge=true')
            cleanup(tenant.user)  # the tenant's firewall rules too
        remove_edge(edge)


def test_a_one_service_deploy_removes_nothing(tenants):
    mine = tenants[0]
    before = sorted(mine.containers())
    mine.write_without(*GONE)
    proc = mine.playbook('deploy', '-e', 'fleet_service=api', '-e', 'fleet_build=false')
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert ': %s]' % PRUNE not in proc.stdout
    assert sorted(mine.containers()) == before
    assert os.path.exists('/etc/cron.d/fleet_%s_report' % mine.prefix)
    # the routes follow the spec on every deploy (docs/spec.md): its containers run on, unrouted
    assert mine.status('web.%s.localhost' % mine.user) == 404
    assert mine.status('api.%s.localhost' % mine.user) == 200


def test_services_that_left_the_spec_go_with_the_next_deploy(tenants):
    mine, other = tenants
    mine.write()
    proc = mine.playbook('backup', '-e', 'fleet_service=cache')
    assert proc.returncode == 0, proc.stdout[-4000:]
    backups = glob.glob(os.path.join(mine.project_dir, 'backups', 'cache_backup_*.rdb'))
    assert backups
    port_key = [k for k in ports(mine)['host'] if k.startswith('%s_web_' % mine.prefix)]
    assert port_key
    mine.write_without(*GONE)

    # check mode lists what would go and touches nothing
    check = mine.playbook('deploy', '--check', '-e', 'fleet_build=false', json_output=True)
    assert check.returncode == 0, check.stdout[-3000:]
    would = result(check, PRUNE)
    assert would['msg'].startswith('%s: would remove' % mine.prefix), would
    assert any('container %s_web' % mine.prefix in line for line in would['removed']), would
    assert '%s_web' % mine.prefix in mine.containers()
    assert glob.glob('/etc/cron.d/fleet_%s_report' % mine.prefix)

    proc = mine.playbook('deploy', json_output=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    names = mine.containers()
    for service in GONE:
        assert not [n for n in names if n.startswith('%s_%s' % (mine.prefix, service))], names
    assert not glob.glob('/etc/cron.d/fleet_%s_report' % mine.prefix)
    assert not glob.glob('/etc/cron.d/fleet_%s_cache_backup' % mine.prefix)
    assert glob.glob('/etc/cron.d/fleet_%s_postgres_backup' % mine.prefix)
    assert mine.status('web.%s.localhost' % mine.user) == 404
    assert mine.status('api.%s.localhost' % mine.user) == 200
    assert other.status('site.%s.localhost' % mine.user) == 200
    # kept, and said so: the data volume, the backups, the port reservation
    assert docker_lines('volume', 'ls', '-q', '--filter', 'name=%s_data_cache' % mine.prefix)
    assert all(os.path.exists(path) for path in backups)
    assert port_key[0] in ports(mine)['host']
    pruned = result(proc, PRUNE)
    removed, kept = pruned['removed'], pruned['kept']
    assert sorted(pruned['services']) == sorted(GONE)
    assert any('container %s_web' % mine.prefix in line for line in removed), removed
    assert any('fleet_%s_report' % mine.prefix in line for line in removed)
    assert any('volume %s_data_cache' % mine.prefix in line for line in kept), kept
    assert any(os.path.basename(backups[0]) in line for line in kept)

    # a second deploy removes nothing and changes nothing
    again = mine.playbook('deploy')
    assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout[-4000:]

    # purge: the data, the backups and the port go too
    purged = mine.playbook('deploy', '-e', 'fleet_purge=true', json_output=True)
    assert purged.returncode == 0, purged.stdout[-4000:]
    assert not docker_lines('volume', 'ls', '-q', '--filter', 'name=%s_data_cache' % mine.prefix)
    assert not any(os.path.exists(path) for path in backups)
    assert port_key[0] not in ports(mine)['host']
    assert any('volume %s_data_cache' % mine.prefix in line for line in result(purged, PRUNE)['removed'])


def test_remove_refuses_without_the_exact_confirmation(tenants):
    mine = tenants[0]
    for args in ([], ['-e', 'fleet_confirm=%s/myapp/uat' % mine.user]):
        proc = mine.playbook('remove', *args)
        assert proc.returncode != 0
        assert 'fleet_confirm' in proc.stdout and 'fix: -e fleet_confirm=%s/myapp/prod' % mine.user in proc.stdout
        assert 'Traceback' not in proc.stdout + proc.stderr
        assert 'tenant_remove' not in proc.stdout and 'Take the tenant off' not in proc.stdout
    assert '%s_api' % mine.prefix in ''.join(mine.containers())


def test_remove_takes_the_env_off_and_the_neighbour_keeps_serving(tenants):
    mine, other = tenants
    mine.write()
    assert traces(mine)
    proc = mine.remove(json_output=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert traces(mine) == []
    assert not docker_lines('network', 'ls', '-q', '--filter', 'name=%s_net' % mine.prefix)
    assert mine.prefix not in json.dumps(ports(mine))
    # kept without purge: the data volumes, and data/ backups/ secrets/
    assert docker_lines('volume', 'ls', '-q', '--filter', 'name=%s_data_postgres' % mine.prefix)
    assert sorted(os.listdir(mine.project_dir)) == ['backups', 'data', 'secrets']
    removed = result(proc, REMOVE)
    assert any('volume %s_data_postgres' % mine.prefix in line for line in removed['kept']), removed
    assert any('container %s_nginx' % mine.prefix in line for line in removed['removed']), removed
    shown = result(proc, 'Show what was removed and what stayed')['msg']
    assert any('edge fragment' in line for line in shown['removed']), shown
    assert any('host firewall rules' in line for line in shown['removed']), shown
    table = subprocess.run(['iptables', '-S'], capture_output=True, text=True, check=True).stdout
    assert '"fleet %s"' % mine.prefix not in table and '"fleet %s"' % other.prefix in table
    # the neighbour on the same engine and edge still serves
    assert other.status('site.%s.localhost' % mine.user) == 200
    assert mine.status('api.%s.localhost' % mine.user) == 404
    assert traces(other)

    again = mine.remove()
    assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout[-3000:]

    purged = mine.remove('-e', 'fleet_purge=true')
    assert purged.returncode == 0, purged.stdout[-3000:]
    assert not docker_lines('volume', 'ls', '-q', '--filter', 'name=%s_' % mine.prefix)
    assert not os.path.exists(os.path.join(mine.fleet_root, mine.user))
    assert other.status('site.%s.localhost' % mine.user) == 200


def test_the_last_tenant_takes_the_edge_with_it(tenants):
    mine, other = tenants
    proc = other.remove('-e', 'fleet_purge=true')
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert traces(other) == []
    assert not docker_lines('ps', '-aq', '--filter', 'name=^%s$' % other.edge_container)
    assert not docker_lines('network', 'ls', '-q', '--filter', 'name=^%s_net$' % other.edge_container)
    assert os.listdir(os.path.join(other.fleet_root, '.fleet', 'edge', 'conf.d')) == []
