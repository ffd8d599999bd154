# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.ssh_key: a local ed25519 key, uploaded once (fake pydo client, temp dirs)."""
import json
import os
import stat
import subprocess
import shutil

import pytest

from ansible_collections.projectdeployer.fleet.plugins.modules import ssh_key as mod

from do_fake import FakeDO, md5_fingerprint, run_module


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generates_uploads_once_and_never_returns_the_private_key(tmp_path, monkeypatch):
    fake = FakeDO()
    args = dict(user='u1', controller_root=str(tmp_path))
    result = run_module(mod, args, fake, monkeypatch)
    path = str(tmp_path / 'u1' / '.ssh' / 'fleet_ed25519')
    assert result['changed'] is True and result['generated'] is True
    assert result['private_key_path'] == path and result['name'] == 'fleet-u1'
    assert mode(path) == 0o600 and mode(path + '.pub') == 0o644
    assert mode(str(tmp_path / 'u1')) == 0o700 and mode(str(tmp_path / 'u1' / '.ssh')) == 0o700
    with open(path) as handle:
        private = handle.read()
    assert private.startswith('-----BEGIN OPENSSH PRIVATE KEY-----')
    assert private.strip().splitlines()[1] not in json.dumps(result)
    assert result['public_key'].startswith('ssh-ed25519 ') and result['public_key'].endswith(' fleet-u1')
    assert result['fingerprint'] == md5_fingerprint(result['public_key'])
    key = list(fake.keys_db.values())[0]
    assert key['name'] == 'fleet-u1' and result['id'] == key['id']

    again = run_module(mod, args, fake, monkeypatch)
    assert again['changed'] is False and again['generated'] is False
    assert again['fingerprint'] == result['fingerprint'] and again['id'] == result['id']
    assert len(fake.ops('sshkeys', 'create')) == 1
    with open(path) as handle:
        assert handle.read() == private


@pytest.mark.skipif(not shutil.which('ssh-keygen'), reason='needs ssh-keygen')
def test_the_key_is_a_valid_openssh_key(tmp_path, monkeypatch):
    result = run_module(mod, dict(user='u1', controller_root=str(tmp_path)), FakeDO(), monkeypatch)
    out = subprocess.run(['ssh-keygen', '-l', '-E', 'md5', '-f', result['private_key_path']],
                         capture_output=True, text=True, check=True).stdout
    assert 'MD5:%s' % result['fingerprint'] in out and '(ED25519)' in out


def test_check_mode_writes_and_uploads_nothing(tmp_path, monkeypatch):
    fake = FakeDO()
    result = run_module(mod, dict(user='u1', controller_root=str(tmp_path)), fake, monkeypatch, check_mode=True)
    assert result['changed'] is True and result['fingerprint'] is None
    assert not os.path.exists(str(tmp_path / 'u1')) and fake.keys_db == {}


def test_existing_local_key_is_uploaded_and_a_foreign_name_fixed(tmp_path, monkeypatch):
    fake = FakeDO()
    args = dict(user='u2', controller_root=str(tmp_path))
    first = run_module(mod, args, fake, monkeypatch)
    fake.keys_db[first['id']]['name'] = 'renamed by hand'
    result = run_module(mod, args, fake, monkeypatch)
    assert result['changed'] is True and fake.keys_db[first['id']]['name'] == 'fleet-u2'
    fake.keys_db.clear()
    os.unlink(first['private_key_path'] + '.pub')       # the public half is derived again
    result = run_module(mod, args, fake, monkeypatch)
    assert result['changed'] is True and result['generated'] is False
    assert result['fingerprint'] == first['fingerprint'] and len(fake.keys_db) == 1


def test_absent_removes_from_the_account_and_optionally_the_files(tmp_path, monkeypatch):
    fake = FakeDO()
    args = dict(user='u1', controller_root=str(tmp_path))
    first = run_module(mod, args, fake, monkeypatch)
    check = run_module(mod, dict(args, state='absent'), fake, monkeypatch, check_mode=True)
    assert check['changed'] is True and check['removed'] == [first['fingerprint']] and fake.keys_db
    gone = run_module(mod, dict(args, state='absent'), fake, monkeypatch)
    assert gone['changed'] is True and fake.keys_db == {} and os.path.exists(first['private_key_path'])
    files = run_module(mod, dict(args, state='absent', remove_local=True), fake, monkeypatch)
    assert files['changed'] is True and not os.path.exists(first['private_key_path'])
    assert run_module(mod, dict(args, state='absent', remove_local=True), fake, monkeypatch)['changed'] is False


def test_a_broken_key_file_is_reported(tmp_path, monkeypatch):
    path = tmp_path / 'k'
    path.write_text('not a key')
    result = run_module(mod, dict(user='u1', path=str(path)), FakeDO(), monkeypatch)
    assert result['failed'] and 'is not an unencrypted OpenSSH private key' in result['msg']
