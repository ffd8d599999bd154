# SPDX-License-Identifier: GPL-3.0-or-later
"""The server side of a tenant's removal, with the Docker client replaced and real files under tmp_path."""
import json
import os

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import footprint, server

IDS = ('u1', 'myapp', 'prod')
P = 'u1_myapp_prod'


class Obj(object):
    def __init__(self, engine, kind, name, labels=None):
        self.engine, self.kind, self.name = engine, kind, name
        self.labels = labels or {}
        self.attrs = {'Labels': self.labels, 'Containers': {}}

    def stop(self, timeout=None):
        self.engine.calls.append(('stop', self.name))

    def remove(self, force=False, v=False):
        # a container's anonymous volumes (an image's VOLUME) must go with it: nothing else names them
        assert v or self.kind != 'container', 'container removed without its anonymous volumes'
        self.engine.calls.append(('remove', self.kind, self.name))
        self.engine.objects[self.kind].remove(self)

    def reload(self):
        pass


class Collection(object):
    def __init__(self, engine, kind):
        self.engine, self.kind = engine, kind

    def list(self, all=False, filters=None, names=None):  # pylint: disable=redefined-builtin
        found = list(self.engine.objects[self.kind])
        for label in (filters or {}).get('label', []):
            key, value = label.split('=', 1)
            found = [o for o in found if o.labels.get(key) == value]
        if (filters or {}).get('name'):
            found = [o for o in found if filters['name'] in o.name]
        if names is not None:
            found = [o for o in found if o.name in names]
        return found


class Engine(object):
    def __init__(self):
        self.calls = []
        self.objects = {'container': [], 'network': [], 'volume': []}
        self.containers = Collection(self, 'container')
        self.networks = Collection(self, 'network')
        self.volumes = Collection(self, 'volume')

    def add(self, kind, name, **labels):
        self.objects[kind].append(Obj(self, kind, name, dict((k.replace('_', '.'), v) for k, v in labels.items())))

    def names(self, kind):
        return sorted(o.name for o in self.objects[kind])


def tenant(**more):
    return dict(fleet_user='u1', fleet_project='myapp', fleet_env='prod', **more)


@pytest.fixture
def world(tmp_path):
    engine = Engine()
    for name, service in (('u1_myapp_prod_api', 'api'), ('u1_myapp_prod_web', 'web'), ('u1_myapp_prod_web_secondary', 'web')):
        engine.add('container', name, **tenant(fleet_service=service, fleet_slot='primary'))
    engine.add('container', 'u1_myapp_prod_nginx', **tenant(fleet_role='sidecar'))
    engine.add('container', 'u2_myapp_prod_web', fleet_user='u2', fleet_project='myapp', fleet_env='prod', fleet_service='web')
    engine.add('container', 'fleet_edge', fleet_role='edge')
    engine.add('network', 'u1_myapp_prod_net', **tenant())
    engine.add('network', 'u2_myapp_prod_net', fleet_user='u2')
    for name in ('u1_myapp_prod_data_db', 'u1_myapp_prod_uploads', 'u2_myapp_prod_data_db'):
        engine.add('volume', name)
    root = tmp_path / 'fleet'
    cron = tmp_path / 'cron.d'
    cron.mkdir()
    for name in ('fleet_u1_myapp_prod_web', 'fleet_u1_myapp_prod_db_backup', 'fleet_u2_myapp_prod_db_backup', 'other'):
        (cron / name).write_text('x\n')
    project = root / 'u1' / 'myapp' / 'prod'
    for rel in ('config/deploy/web.json', 'config/deploy/api.json', 'secrets/db_password', 'secrets/web.env',
                'logs/web/runs.log', 'backups/db_backup_20261201_020000.dump', 'data/db/x', 'files/a',
                'monitoring/deploy_history.jsonl'):
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('x')
    (root / 'u2' / 'myapp' / 'prod' / 'data').mkdir(parents=True)
    ports = root / '.fleet' / 'ports.json'
    ports.parent.mkdir()
    ports.write_text(json.dumps({'version': 1, 'host': {'u1_myapp_prod_web_80': 8444, 'u1_myapp_prod_api_8000': 8120,
                                                        'u2_myapp_prod_web_80': 8445},
                                 'internal': {P: {'u1_myapp_prod_web_internal': 5001, 'u1_myapp_prod_api_internal': 5002},
                                              'u2_myapp_prod': {'u2_myapp_prod_web_internal': 5001}}}))
    return engine, str(root), str(cron), str(ports), project


def run(world, whole, services=None, purge=False):
    engine, root, cron, ports, _project = world
    found = server.gather(engine, IDS, root, cron, ports, whole=whole)
    if whole:
        items = footprint.plan_absent(P, found, purge=purge)
    else:
        _gone, items = footprint.plan_prune(P, found, services, purge=purge)
    server.apply(found, items, root, cron, ports)
    return items


def test_prune_removes_the_service_and_keeps_its_data(world):
    engine, root, cron, ports, project = world
    run(world, False, ['api', 'db'])
    assert engine.names('container') == ['fleet_edge', 'u1_myapp_prod_api', 'u1_myapp_prod_nginx', 'u2_myapp_prod_web']
    assert ('stop', 'u1_myapp_prod_web') in engine.calls
    assert sorted(os.listdir(cron)) == ['fleet_u1_myapp_prod_db_backup', 'fleet_u2_myapp_prod_db_backup', 'other']
    assert not (project / 'config/deploy/web.json').exists() and not (project / 'logs/web').exists()
    assert (project / 'config/deploy/api.json').exists() and (project / 'data/db/x').exists()
    state = json.loads(open(ports).read())
    assert 'u1_myapp_prod_web_80' in state['host']  # kept without purge: a re-added web gets its port back
    again = run(world, False, ['api', 'db'])
    assert [i for i in again if i['action'] == 'remove'] == []


def test_prune_with_purge_frees_the_port(world):
    engine, root, cron, ports, project = world
    run(world, False, ['api', 'web'], purge=True)
    state = json.loads(open(ports).read())
    assert 'u1_myapp_prod_web_80' in state['host']
    # db's data volume, and uploads, which no service of this spec mounts
    assert engine.names('volume') == ['u2_myapp_prod_data_db']
    assert not (project / 'secrets/db_password').exists() and not (project / 'backups/db_backup_20261201_020000.dump').exists()
    assert not (project / 'data/db').exists()
    assert 'fleet_u1_myapp_prod_db_backup' not in os.listdir(cron)


def test_absent_leaves_no_trace_but_the_kept_dirs(world):
    engine, root, cron, ports, project = world
    run(world, True)
    assert engine.names('container') == ['fleet_edge', 'u2_myapp_prod_web']
    assert engine.names('network') == ['u2_myapp_prod_net']
    assert engine.names('volume') == ['u1_myapp_prod_data_db', 'u1_myapp_prod_uploads', 'u2_myapp_prod_data_db']
    assert sorted(os.listdir(cron)) == ['fleet_u2_myapp_prod_db_backup', 'other']
    assert sorted(os.listdir(str(project))) == ['backups', 'data', 'secrets']
    state = json.loads(open(ports).read())
    assert state['host'] == {'u2_myapp_prod_web_80': 8445} and list(state['internal']) == ['u2_myapp_prod']
    assert [i for i in run(world, True) if i['action'] == 'remove'] == []


def test_absent_with_purge_removes_the_directory_and_empty_parents(world):
    engine, root, cron, ports, project = world
    run(world, True, purge=True)
    assert engine.names('volume') == ['u2_myapp_prod_data_db']
    assert sorted(os.listdir(root)) == ['.fleet', 'u2']
    assert run(world, True, purge=True) == []


def test_a_network_still_used_by_another_container_fails_in_one_line(world):
    engine = world[0]
    net = engine.objects['network'][0]

    def refuse():
        raise server.APIError('network has active endpoints')
    net.remove = refuse
    net.attrs['Containers'] = {'x': {'Name': 'intruder'}}
    with pytest.raises(server.TenantError) as err:
        run(world, True)
    assert 'intruder' in str(err.value) and 'fix:' in str(err.value)


def test_missing_port_state_is_not_created(tmp_path):
    engine = Engine()
    root = str(tmp_path / 'fleet')
    found = server.gather(engine, IDS, root, str(tmp_path), os.path.join(root, '.fleet', 'ports.json'), whole=True)
    assert footprint.plan_absent(P, found) == []
    assert not os.path.exists(root)


def test_prune_plan_previews_exactly_what_the_prune_removes_and_touches_nothing(world):
    """deploy_changes' preview: a deploy runs tenant_remove only when it lists something to remove."""
    engine, root, cron, ports, project = world
    before = (engine.names('container'), engine.names('volume'), sorted(os.listdir(cron)), open(ports).read())
    _found, gone, items, lines = server.prune_plan(engine, IDS, root, cron, ports, ['api', 'db'], volumes=['uploads'])
    assert gone == ['web']
    assert (engine.names('container'), engine.names('volume'), sorted(os.listdir(cron)), open(ports).read()) == before
    assert engine.calls == [] and (project / 'config/deploy/web.json').exists()
    previewed = sorted(lines[id(i)] for i in items if i['action'] == 'remove')
    assert previewed and all('web' in line for line in previewed), previewed
    removed = run(world, False, ['api', 'db'])
    assert sorted(footprint.describe(i, str(project), cron) for i in removed if i['action'] == 'remove') == previewed
    # after the prune, the preview finds nothing to remove (what it keeps stays listed): the next deploy skips the module
    _found, _gone, items, _lines = server.prune_plan(engine, IDS, root, cron, ports, ['api', 'db'], volumes=['uploads'])
    assert [i for i in items if i['action'] == 'remove'] == [] and [i for i in items if i['action'] == 'keep']
