# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup program backup_job installs: deterministic bytes, and it runs without Ansible."""
import json
import os
import subprocess
import sys
import zipfile

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import installed, program
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip


def test_the_same_code_gives_the_same_bytes():
    assert program_zip.build_zip(program.sources()) == program_zip.build_zip(program.sources())


def test_the_zip_holds_the_job_and_what_it_imports(tmp_path):
    path = tmp_path / 'fleet-backup.zip'
    path.write_bytes(program_zip.build_zip(program.sources()))
    names = zipfile.ZipFile(str(path)).namelist()
    assert '__main__.py' in names
    base = 'ansible_collections/projectdeployer/fleet/plugins/module_utils/'
    for name in ('_backup/job', '_backup/engine', '_backup/files', '_common/docker', '_spec/naming', '_spec/schema',
                 '_spec/auth'):
        assert base + name + '.py' in names
    for package in ('_backup', '_common', '_spec'):
        assert base + package + '/__init__.py' in names
    assert not [n for n in names if 'modules/' in n or n.endswith('.pyc')]


def test_the_zip_runs_without_ansible(tmp_path):
    """-S: no site-packages, so no Ansible (cron runs the program on a bare server); --help needs nothing else."""
    path = tmp_path / 'fleet-backup.zip'
    path.write_bytes(program_zip.build_zip(program.sources()))
    proc = subprocess.run([sys.executable, '-I', '-S', str(path), '--help'], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '--service' in proc.stdout and '--keep' in proc.stdout


def test_a_run_without_an_engine_records_one_line(tmp_path):
    """The whole program against a Docker host that does not answer: status failed, exit 1, no traceback."""
    path = tmp_path / 'fleet-backup.zip'
    path.write_bytes(program_zip.build_zip(program.sources()))
    root = tmp_path / 'fleet'
    proc = subprocess.run([sys.executable, str(path), '--fleet-root', str(root), '--user', 'u1', '--project', 'myapp',
                           '--env', 'prod', '--service', 'postgres', '--type', 'postgres',
                           '--docker-host', 'unix://%s' % (tmp_path / 'no.sock')],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stdout + proc.stderr
    assert 'postgres: backup FAILED: cannot reach the Docker engine' in proc.stdout
    result = json.loads((root / 'u1/myapp/prod/monitoring/backups/postgres.json').read_text())
    assert result['status'] == 'failed' and result['backup'] is None and 'cannot reach' in result['error']
    runs = (root / 'u1/myapp/prod/monitoring/backup_runs.jsonl').read_text().splitlines()
    assert len(runs) == 1 and json.loads(runs[0])['service'] == 'postgres'


def test_write_replaces_atomically_with_mode_0644(tmp_path):
    path = str(tmp_path / 'lib' / 'fleet-backup.zip')
    program_zip.install(path, b'one')
    program_zip.install(path, b'two')
    assert open(path, 'rb').read() == b'two'
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert os.listdir(str(tmp_path / 'lib')) == ['fleet-backup.zip']
    assert program_zip.current_sha256(str(tmp_path / 'missing')) is None


def test_the_zip_names_its_sources_and_is_current_only_with_its_schedules(tmp_path):
    """deploy_changes' look: current when the zip holds the controller's sources digest and each cron file its
    exact content; any other zip, a missing file or a changed schedule is not."""
    path = tmp_path / 'fleet-backup.zip'
    digest = program.sources_digest()
    assert program_zip.installed_sources_digest(str(path)) is None
    path.write_bytes(program_zip.build_zip(program.sources()))
    assert program_zip.installed_sources_digest(str(path)) == digest
    cron = tmp_path / 'cron.d'
    cron.mkdir()
    schedules = {'db': {'type': 'postgres', 'backup_schedule': '0 2 * * *'}, 'cache': {'type': 'redis',
                                                                                       'backup_schedule': '0 3 * * *'}}
    wanted = installed.schedule_files(schedules, 'python3 %s' % path, 'u1', 'myapp', 'prod', '/local',
                                      'unix:///var/run/docker.sock', str(cron))
    assert sorted(os.path.basename(p) for p, _c in wanted) == ['fleet_u1_myapp_prod_cache_backup',
                                                               'fleet_u1_myapp_prod_db_backup']
    assert not installed.is_current(str(path), digest, wanted)        # no cron file yet
    for cron_path, content in wanted:
        with open(cron_path, 'w') as handle:
            handle.write(content)
        os.chmod(cron_path, 0o644)
    assert installed.is_current(str(path), digest, wanted)
    os.chmod(wanted[1][0], 0o600)                                    # backup_job would set the mode back
    assert not installed.is_current(str(path), digest, wanted)
    os.chmod(wanted[1][0], 0o644)
    assert not installed.is_current(str(path), 'another digest', wanted)
    with open(wanted[0][0], 'a') as handle:
        handle.write('# edited by hand\n')
    assert not installed.is_current(str(path), digest, wanted)
    path.write_bytes(b'not a zip')
    assert program_zip.installed_sources_digest(str(path)) is None
