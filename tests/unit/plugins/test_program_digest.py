# SPDX-License-Identifier: GPL-3.0-or-later
"""program_digest: the controller's digest of the backup program is the one its zip's comment holds."""
import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.filter.program_digest import program_digest
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import program
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_the_backup_programs_digest_is_in_its_zip(tmp_path):
    path = tmp_path / 'fleet-backup.zip'
    path.write_bytes(program_zip.build_zip(program.sources()))
    assert len(program_digest('backup')) == 64
    assert program_zip.installed_sources_digest(str(path)) == program_digest('backup')


def test_an_unknown_program_is_refused_with_the_names():
    with pytest.raises(AnsibleFilterError, match="no program 'shell'; fix: one of backup, health"):
        program_digest('shell')


def test_no_filter_file_imports_the_docker_sdk():
    """Ansible finds a collection's filter by importing every filter file that sorts before it, in each task's
    worker process: a filter file that imports the Docker SDK (the backup program does) costs every such task
    a quarter of a second of CPU."""
    filters = sorted(os.path.splitext(name)[0] for name in os.listdir(os.path.join(REPO, 'plugins', 'filter'))
                     if name.endswith('.py') and not name.startswith('_'))
    program = ('import sys\n'
               'for name in %r:\n'
               '    __import__("ansible_collections.projectdeployer.fleet.plugins.filter." + name)\n'
               'print(sorted(m for m in sys.modules if m == "docker" or m.startswith("docker.")))\n' % filters)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, '-c', program], capture_output=True, text=True, env=env, check=False,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(filters) > 10 and proc.stdout.strip() == '[]'


def test_the_health_programs_digest_is_in_its_zip(tmp_path):
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import program as health
    path = tmp_path / 'fleet-health.zip'
    path.write_bytes(program_zip.build_zip(health.sources()))
    assert program_zip.installed_sources_digest(str(path)) == program_digest('health') != program_digest('backup')
