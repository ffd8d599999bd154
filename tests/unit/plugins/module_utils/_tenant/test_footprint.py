# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._tenant import footprint as f

P = 'u1_myapp_prod'


def found(**extra):
    base = {
        'containers': [
            {'name': 'u1_myapp_prod_api', 'service': 'api'},
            {'name': 'u1_myapp_prod_web', 'service': 'web'},
            {'name': 'u1_myapp_prod_web_secondary', 'service': 'web'},
            {'name': 'u1_myapp_prod_report', 'service': 'report'},
            {'name': 'u1_myapp_prod_nginx', 'service': None, 'role': 'sidecar'},
        ],
        'cron_files': ['fleet_u1_myapp_prod_report', 'fleet_u1_myapp_prod_db_backup', 'fleet_u1_myapp_prod_pg_backup'],
        'volumes': ['u1_myapp_prod_data_db', 'u1_myapp_prod_data_pg', 'u1_myapp_prod_uploads', 'u1_myapp_prod_old'],
        'networks': ['u1_myapp_prod_net'],
        'ports': {'host': {'u1_myapp_prod_api_8000': 8120, 'u1_myapp_prod_web_80': 8444, 'u1_myapp_prod_db_5432': 8001,
                           'u2_myapp_prod_web_80': 8445},
                  'internal': {'u1_myapp_prod_web_internal': 5001, 'u1_myapp_prod_api_internal': 5002}},
        'files': {
            'config/deploy': ['api.json', 'web.json', '.web.x1'],
            'secrets': ['db_password', 'db_pgpass', 'db_login', 'db_password.next', 'web.env', 'api.env',
                        'stripe_key', 'run', 'pg_password'],
            'secrets/run': ['db', 'pg'],
            'logs': ['web', 'report', 'backup', 'api'],
            'logs/backup': ['db.log', '.db.lock', 'pg.log'],
            'backups': ['db_backup_20261201_020000.dump', 'db_backup_20261201_020000.dump.sha256',
                        '.db_backup_20261202_020000.dump.partial-ab12', 'pg_backup_20261201_020000.dump'],
            'monitoring/backups': ['db.json', 'pg.json'],
            'data': ['db', 'uploads'],
        },
    }
    base.update(extra)
    return base


def by(items, action):
    return sorted((i['kind'], i['name']) for i in items if i['action'] == action)


@pytest.mark.parametrize('name, expected', [
    ('fleet_u1_myapp_prod_report', ('report', 'schedule')),
    ('fleet_u1_myapp_prod_db_backup', ('db', 'backup')),
    ('fleet_u1_myapp_prod_backup', ('backup', 'schedule')),
    ('fleet_u1_myapp_prod_backup_backup', ('backup', 'backup')),
    ('fleet_u1_myapp_prodx_api', None),
    ('fleet_u1_myapp_prod_', None),
    ('fleet_u1_myapp_prod_API', None),
    ('fleet_u2_myapp_prod_api', None),
])
def test_cron_service(name, expected):
    assert f.cron_service(P, name) == expected


@pytest.mark.parametrize('name, expected', [
    ('u1_myapp_prod_data_postgres', ('postgres', 'data')),
    ('u1_myapp_prod_logs_api', ('api', 'logs')),
    ('u1_myapp_prod_uploads', (None, 'uploads')),
    ('u1_myapp_prod_data_', (None, 'data_')),
    ('u1_myapp_prodx_data_api', None),
    ('u1_myapp_prod_', None),
])
def test_volume_service(name, expected):
    assert f.volume_service(P, name) == expected


def test_port_keys_name_their_service():
    assert f.host_port_service(P, 'u1_myapp_prod_api-v2_8000') == 'api-v2'
    assert f.host_port_service(P, 'u1_myapp_prod_api_x') is None
    assert f.host_port_service(P, 'u1_myapp_prodx_api_8000') is None
    assert f.internal_port_service(P, 'u1_myapp_prod_api_internal') == 'api'
    assert f.internal_port_service(P, 'u1_myapp_prod_internal') is None


def test_secret_files_are_the_collections_only():
    assert f.file_service('secret', 'db_password') == 'db'
    assert f.file_service('secret', 'db_password.next') == 'db'
    assert f.file_service('secret', 'db_redis.conf') == 'db'
    assert f.file_service('secret', 'stripe_key') is None
    assert f.file_service('env', 'web.env') == 'web'
    assert f.file_service('backup', '.db_backup_1.dump.partial-x') == 'db'
    assert f.file_service('backup', 'db_dump') is None
    assert f.file_service('exact', 'uploads', {'db'}) is None
    assert f.file_service('lock', '.db.lock') == 'db'
    assert f.file_service('json', 'api.json') == 'api'
    assert f.file_service('json', 'api.retiring.json') == 'api'     # an old slot's retire in progress
    assert f.file_service('json', 'a.b.json') is None


def test_known_services_from_every_trace():
    assert f.known_services(P, found()) == {'api', 'web', 'report', 'db', 'pg'}


def test_a_users_own_secret_named_like_a_password_is_no_service():
    data = found()
    data['files']['secrets'].append('stripe_password')
    assert 'stripe' not in f.known_services(P, data)
    _gone, items = f.plan_prune(P, data, ['api', 'web', 'report', 'db', 'pg'], volumes=['uploads', 'old'], purge=True)
    assert items == []


def test_prune_removes_what_runs_and_keeps_the_data():
    gone, items = f.plan_prune(P, found(), ['api', 'pg'], volumes=['uploads'])
    assert gone == ['db', 'report', 'web']
    assert by(items, 'remove') == sorted([
        ('container', 'u1_myapp_prod_report'), ('container', 'u1_myapp_prod_web'),
        ('container', 'u1_myapp_prod_web_secondary'),
        ('cron', 'fleet_u1_myapp_prod_db_backup'), ('cron', 'fleet_u1_myapp_prod_report'),
        ('path', 'config/deploy/web.json'), ('path', 'secrets/web.env'), ('path', 'secrets/run/db'),
        ('path', 'logs/web'), ('path', 'logs/report'), ('path', 'logs/backup/db.log'), ('path', 'logs/backup/.db.lock'),
    ])
    assert by(items, 'keep') == sorted([
        ('volume', 'u1_myapp_prod_data_db'), ('volume', 'u1_myapp_prod_old'),
        ('path', 'secrets/db_password'), ('path', 'secrets/db_pgpass'), ('path', 'secrets/db_login'),
        ('path', 'secrets/db_password.next'),
        ('path', 'backups/db_backup_20261201_020000.dump'), ('path', 'backups/db_backup_20261201_020000.dump.sha256'),
        ('path', 'backups/.db_backup_20261202_020000.dump.partial-ab12'),
        ('path', 'monitoring/backups/db.json'), ('path', 'data/db'),
        ('port', 'u1_myapp_prod_db_5432'), ('port', 'u1_myapp_prod_web_80'), ('port', 'u1_myapp_prod_web_internal'),
    ])
    # nothing of the kept services, the sidecar, the user's own secrets or another tenant
    names = [i['name'] for i in items]
    for other in ('u1_myapp_prod_api', 'u1_myapp_prod_nginx', 'u1_myapp_prod_uploads', 'secrets/stripe_key',
                  'u2_myapp_prod_web_80', 'data/uploads', 'logs/backup', 'secrets/pg_password'):
        assert other not in names


def test_prune_order_cron_then_containers_then_files():
    _gone, items = f.plan_prune(P, found(), ['api', 'pg'], volumes=['uploads'], purge=True)
    kinds = [i['kind'] for i in items]
    assert kinds == sorted(kinds, key=f.KIND_ORDER.index)
    assert all(i['action'] == 'remove' for i in items)


def test_prune_with_every_service_kept_changes_nothing():
    gone, items = f.plan_prune(P, found(), ['api', 'web', 'report', 'db', 'pg'], volumes=['uploads', 'old'])
    assert gone == [] and items == []


def test_absent_keeps_data_backups_secrets_and_volumes_unless_purged():
    data = found(dirs=['backups', 'config', 'data', 'files', 'logs', 'monitoring', 'secrets'], project_dir='/x')
    items = f.plan_absent(P, data)
    assert by(items, 'keep') == [('path', 'backups'), ('path', 'data'), ('path', 'secrets'),
                                 ('volume', 'u1_myapp_prod_data_db'), ('volume', 'u1_myapp_prod_data_pg'),
                                 ('volume', 'u1_myapp_prod_old'), ('volume', 'u1_myapp_prod_uploads')]
    removed = by(items, 'remove')
    assert ('container', 'u1_myapp_prod_nginx') in removed and ('network', 'u1_myapp_prod_net') in removed
    assert ('port', 'u1_myapp_prod_api_internal') in removed and ('port', 'u2_myapp_prod_web_80') not in removed
    assert [n for k, n in removed if k == 'path'] == ['config', 'files', 'logs', 'monitoring']
    purged = f.plan_absent(P, data, purge=True)
    assert by(purged, 'keep') == []
    assert [n for k, n in by(purged, 'remove') if k == 'path'] == ['.']


def test_absent_of_nothing_is_nothing():
    assert f.plan_absent(P, {'project_dir': None, 'dirs': []}, purge=True) == []


def test_describe_and_summary():
    entry = f.item('cron', 'fleet_u1_myapp_prod_report', 'remove', 'report', 'schedule')
    assert f.describe(entry, '/local/u1/myapp/prod', '/etc/cron.d') == \
        'cron /etc/cron.d/fleet_u1_myapp_prod_report (service report, schedule)'
    assert f.describe(f.item('path', '.', 'remove'), '/local/u1/myapp/prod') == 'path /local/u1/myapp/prod'
    assert f.describe(f.item('port', 'k', 'keep', 'db', 'host port 8001')) == 'port reservation k (service db, host port 8001)'
    assert f.summary(['a'], ['b', 'c'], False, what=P) == 'u1_myapp_prod: removed 1 thing, kept 2 (-e fleet_purge=true removes them)'
    assert f.summary([], [], True, check_mode=True) == 'nothing to remove'
    assert f.summary(['a', 'b'], [], True, check_mode=True) == 'would remove 2 things'
