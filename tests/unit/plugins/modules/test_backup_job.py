# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup program backup_job installs: deterministic bytes, and it runs without Ansible."""
import json
import os
import subprocess
import sys
import zipfile

from ansible_collections.projectdeployer.fleet.plugins.modules import backup_job as mod


def test_the_same_code_gives_the_same_bytes():
    assert mod.build_zip(mod.sources()) == mod.build_zip(mod.sources())


def test_the_zip_holds_the_job_and_what_it_imports(tmp_path):
    path = tmp_path / 'fleet-backup.zip'
    path.write_bytes(mod.build_zip(mod.sources()))
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
    path.write_bytes(mod.build_zip(mod.sources()))
    proc = subprocess.run([sys.executable, '-I', '-S', str(path), '--help'], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '--service' in proc.stdout and '--keep' in proc.stdout


def test_a_run_without_an_engine_records_one_line(tmp_path):
    """The whole program against a Docker host that does not answer: status failed, exit 1, no traceback."""
    path = tmp_path / 'fleet-backup.zip'
    path.write_bytes(mod.build_zip(mod.sources()))
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
    mod.write(path, b'one')
    mod.write(path, b'two')
    assert open(path, 'rb').read() == b'two'
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert os.listdir(str(tmp_path / 'lib')) == ['fleet-backup.zip']
    assert mod.current_sha256(str(tmp_path / 'missing')) is None
