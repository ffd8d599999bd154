# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret action's vault mode: the controller's secrets encrypted with the play's vault password."""
import os
import stat
import string
from types import SimpleNamespace

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.projectdeployer.fleet.plugins.action.secret import ActionModule

PASSWORD = b'unit-test-vault-password'


def _vault(password=PASSWORD):
    return VaultLib([('default', VaultSecret(password))]) if password else VaultLib([])


def run(path, password=PASSWORD, check_mode=False, transport='local', **args):
    task = SimpleNamespace(args=dict(path=str(path), vault=True, **args), async_val=0, check_mode=check_mode,
                           action='projectdeployer.fleet.secret')
    connection = SimpleNamespace(transport=transport, _shell=SimpleNamespace(tmpdir='/nonexistent'))
    loader = SimpleNamespace(_vault=_vault(password))
    action = ActionModule(task, connection, None, loader, None)
    return action.run(task_vars={})


def decrypt(path, password=PASSWORD):
    with open(path, 'rb') as handle:
        return _vault(password).decrypt(handle.read()).decode()


def test_a_new_secret_is_generated_encrypted(tmp_path):
    path = tmp_path / 'secrets' / 'postgres_password'
    result = run(path)
    assert result['changed'] and result['created'] and result['vaulted'] and not result.get('failed')
    assert path.read_bytes().startswith(b'$ANSIBLE_VAULT;1.1;AES256\n')
    value = decrypt(path)
    assert len(value) == 40 and set(value) <= set(string.ascii_letters + string.digits)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert value not in repr(result)


def test_a_second_run_changes_nothing(tmp_path):
    path = tmp_path / 'p'
    run(path)
    before = path.read_bytes()
    result = run(path)
    assert not result['changed'] and not result['created'] and result['vaulted']
    assert path.read_bytes() == before


def test_a_loose_mode_is_fixed_without_touching_the_content(tmp_path):
    path = tmp_path / 'p'
    run(path)
    before = path.read_bytes()
    os.chmod(path, 0o644)
    assert run(path)['changed']
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and path.read_bytes() == before


def test_a_plain_secret_is_encrypted_with_its_value_kept(tmp_path):
    path = tmp_path / 'p'
    path.write_text('the-old-plain-password-0123456789abcdef\n')
    result = run(path)
    assert result['changed'] and not result['created']
    assert decrypt(path) == 'the-old-plain-password-0123456789abcdef\n'


def test_without_a_vault_password_nothing_is_written(tmp_path):
    path = tmp_path / 'p'
    result = run(path, password=None)
    assert result['failed'] and '--vault-password-file' in result['msg'] and str(path) in result['msg']
    assert not path.exists()
    path.write_text('plain-kept-as-it-is-0123456789\n')
    assert run(path, password=None)['failed']
    assert path.read_text() == 'plain-kept-as-it-is-0123456789\n'


def test_a_file_of_another_vault_password_is_refused_and_kept(tmp_path):
    path = tmp_path / 'p'
    run(path, password=b'another-password')
    before = path.read_bytes()
    result = run(path)
    assert result['failed'] and 'another vault password' in result['msg']
    assert path.read_bytes() == before


def test_check_mode_writes_nothing(tmp_path):
    path = tmp_path / 'p'
    result = run(path, check_mode=True)
    assert result['changed'] and not path.exists()


@pytest.mark.parametrize('extra, message', [
    (dict(transport='ssh'), 'delegate_to: localhost'),
    (dict(source='/x/postgres_password'), 'drop source and format'),
    (dict(format='redis_conf'), 'drop source and format'),
    (dict(length=8), 'too short'),
])
def test_what_vault_cannot_do_is_refused(tmp_path, extra, message):
    path = tmp_path / 'p'
    result = run(path, **extra)
    assert result['failed'] and message in result['msg'], result
    assert not path.exists()
