# SPDX-License-Identifier: GPL-3.0-or-later
"""A scheduled service's cron entry, and a database's backup cron file."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup.schedule import backup_cron
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.scheduled_cron import scheduled_cron
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.cron import CronError


def test_the_scheduled_entry_names_its_container_and_log():
    entry = scheduled_cron('report', '*/5 * * * *', '/local/u1/myapp/prod', 'u1', 'myapp', 'prod')
    assert entry['cron_file'] == 'fleet_u1_myapp_prod_report'
    assert entry['path'] == '/etc/cron.d/fleet_u1_myapp_prod_report'
    assert entry['name'] == 'fleet u1_myapp_prod_report'
    assert entry['fields'] == ['*/5', '*', '*', '*', '*']
    assert entry['line'] == (
        '*/5 * * * * root mkdir -p /local/u1/myapp/prod/logs/report && flock -n /local/u1/myapp/prod/logs/report/.lock '
        'docker start -a u1_myapp_prod_report >> /local/u1/myapp/prod/logs/report/runs.log 2>&1')


def test_a_macro_schedule_is_expanded_and_a_bad_one_refused():
    assert scheduled_cron('r', '@daily', '/d', 'u1', 'p', 'e')['fields'] == ['0', '0', '*', '*', '*']
    with pytest.raises(CronError):
        scheduled_cron('r', '0 2 * *', '/d', 'u1', 'p', 'e')


def test_the_backup_cron_file_is_what_ansible_cron_wrote():
    path, content = backup_cron('/usr/bin/python3 /local/.fleet/lib/fleet-backup.zip', 'u1', 'myapp', 'prod',
                                'postgres', 'postgres', 7, ['0', '2', '*', '*', '*'], '/local', '/local/u1/myapp/prod',
                                'unix:///var/run/docker.sock')
    assert path == '/etc/cron.d/fleet_u1_myapp_prod_postgres_backup'
    assert content == (
        '#Ansible: fleet u1_myapp_prod_postgres backup\n'
        '0 2 * * * root mkdir -p /local/u1/myapp/prod/logs/backup && flock -n '
        '/local/u1/myapp/prod/logs/backup/.postgres.lock /usr/bin/python3 /local/.fleet/lib/fleet-backup.zip '
        '--fleet-root /local --user u1 --project myapp --env prod --service postgres --type postgres --keep 7 '
        '--docker-host unix:///var/run/docker.sock >> /local/u1/myapp/prod/logs/backup/postgres.log 2>&1\n')


def test_a_backup_schedule_needs_five_fields():
    with pytest.raises(ValueError, match='five fields'):
        backup_cron('c', 'u1', 'p', 'e', 's', 'redis', 7, ['0', '2'], '/r', '/r/u1/p/e', 'unix:///x')
