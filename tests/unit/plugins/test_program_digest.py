# SPDX-License-Identifier: GPL-3.0-or-later
"""program_digest: the controller's digest of the backup program is the one its zip's comment holds."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.filter.program_digest import program_digest
from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import program
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip


def test_the_backup_programs_digest_is_in_its_zip(tmp_path):
    path = tmp_path / 'fleet-backup.zip'
    path.write_bytes(program_zip.build_zip(program.sources()))
    assert len(program_digest('backup')) == 64
    assert program_zip.installed_sources_digest(str(path)) == program_digest('backup')


def test_an_unknown_program_is_refused_with_the_names():
    with pytest.raises(AnsibleFilterError, match="no program 'health'; fix: one of backup"):
        program_digest('health')
