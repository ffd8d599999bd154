# SPDX-License-Identifier: GPL-3.0-or-later
"""The health agent's stamp: a deploy skips health_agent only when it was installed from the same inputs, every file
it installed is as it left it, and the agent answers."""
import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.filter.inputs_stamp import inputs_stamp
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import stamp


def installed(tmp_path):
    project_dir = str(tmp_path / 'u1' / 'myapp' / 'prod')
    files = []
    for name, text in (('unit', 'unit v1'), ('settings', '{"port": 9999}'), ('key', 'k' * 64)):
        path = tmp_path / name
        path.write_text(text)
        files.append(str(path))
    files.append(str(tmp_path / 'no-previous-key'))
    return project_dir, files


def answering(address, port):
    return True


def test_current_only_with_the_same_stamp_the_same_files_and_an_agent_that_answers(tmp_path):
    project_dir, files = installed(tmp_path)
    assert not stamp.is_current(project_dir, 's1', '10.0.0.2', 9999, answering)          # nothing recorded
    assert stamp.record(project_dir, 's1', files)
    assert not stamp.record(project_dir, 's1', files)                                    # the same: unchanged
    assert oct(os.stat(stamp.stamp_path(project_dir)).st_mode & 0o777) == '0o600'
    assert stamp.is_current(project_dir, 's1', '10.0.0.2', 9999, answering)
    assert not stamp.is_current(project_dir, 's2', '10.0.0.2', 9999, answering)         # other inputs
    assert not stamp.is_current(project_dir, '', '10.0.0.2', 9999, answering)
    assert not stamp.is_current(project_dir, 's1', '10.0.0.2', 9999, lambda *where: False)
    (tmp_path / 'unit').write_text('unit edited by hand')
    assert not stamp.is_current(project_dir, 's1', '10.0.0.2', 9999, answering)
    stamp.record(project_dir, 's1', files)
    (tmp_path / 'no-previous-key').write_text('a key that was not there')                # a file that appeared
    assert not stamp.is_current(project_dir, 's1', '10.0.0.2', 9999, answering)
    stamp.record(project_dir, 's1', files)
    os.unlink(files[0])                                                                   # a file removed
    assert not stamp.is_current(project_dir, 's1', '10.0.0.2', 9999, answering)


def test_check_mode_records_nothing(tmp_path):
    project_dir, files = installed(tmp_path)
    assert stamp.record(project_dir, 's1', files, check_mode=True)
    assert not os.path.exists(stamp.stamp_path(project_dir))


def test_listening_is_a_real_connect():
    import socket
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        assert stamp.listening('127.0.0.1', port)
    finally:
        server.close()
    assert not stamp.listening('127.0.0.1', port, timeout=0.5)
    assert not stamp.listening('127.0.0.1', 'not a port')


def test_the_inputs_stamp_is_keyed_and_canonical():
    a = inputs_stamp({'port': 9999, 'servers': {'b': '10.0.0.3', 'a': '10.0.0.2'}}, 'key1')
    assert a == inputs_stamp({'servers': {'a': '10.0.0.2', 'b': '10.0.0.3'}, 'port': 9999}, 'key1')   # key order
    assert a != inputs_stamp({'port': 9998, 'servers': {'b': '10.0.0.3', 'a': '10.0.0.2'}}, 'key1')
    assert a != inputs_stamp({'port': 9999, 'servers': {'b': '10.0.0.3', 'a': '10.0.0.2'}}, 'key2')
    assert len(a) == 64 and 'key1' not in a
    with pytest.raises(AnsibleFilterError, match='the key is empty'):
        inputs_stamp({}, ' ')
