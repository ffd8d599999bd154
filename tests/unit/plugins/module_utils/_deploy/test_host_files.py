# SPDX-License-Identifier: GPL-3.0-or-later
"""project_host's files: env file text, write-only-when-different, the bridge address."""
import os
import stat

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy import host_files


def test_env_file_text_is_one_line_per_variable_under_a_header():
    text = host_files.env_file_text('api', {'GREETING': 'hello', 'WORKERS': 4})
    assert text == '# api: the env_vars of the spec (managed by projectdeployer.fleet)\nGREETING=hello\nWORKERS=4\n'
    assert host_files.env_file_text('worker', None).count('\n') == 1


def test_a_file_is_written_once_then_left_alone(tmp_path):
    path = str(tmp_path / 'secrets' / 'api.env')
    assert host_files.ensure_file(path, 'A=1\n') is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    before = os.stat(path).st_mtime_ns
    assert host_files.ensure_file(path, 'A=1\n') is False
    assert os.stat(path).st_mtime_ns == before


def test_a_changed_content_or_mode_is_rewritten(tmp_path):
    path = str(tmp_path / 'f')
    host_files.ensure_file(path, 'A=1\n')
    assert host_files.ensure_file(path, 'A=2\n') is True
    assert open(path).read() == 'A=2\n'
    os.chmod(path, 0o644)
    assert host_files.ensure_file(path, 'A=2\n') is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / 'f')
    assert host_files.ensure_file(path, 'x', check_mode=True) is True
    assert not os.path.exists(path)


def test_the_loopback_interface_has_an_address_and_a_missing_one_is_one_line():
    assert host_files.interface_address('lo') == '127.0.0.1'
    with pytest.raises(ValueError, match='nosuchif0 has no IPv4 address.*fleet_private_address'):
        host_files.interface_address('nosuchif0')
