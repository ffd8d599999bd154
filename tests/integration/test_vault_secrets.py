# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's secrets kept encrypted with ansible-vault (fleet_vault_secrets, issue 6).

The example project on this machine's engine with the controller's folder apart from the server's:
a plain deploy first, then the same deploy with fleet_vault_secrets. The controller's passwords
are encrypted in place (their values kept: no database is recreated), the server's stay plain
(0600) and the same, a second run changes nothing, a run without the vault password is refused
before anything is written, rotate_secrets.yml keeps the controller's new password encrypted,
push.yml sends it decrypted, and the embedded default (one folder for both) is refused.
"""
import os
import random
import stat
import string
import subprocess

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from helpers import recap_changed, run_playbook
from test_deploy import Project, deployed_example

pytestmark = pytest.mark.usefixtures('world')

VAULT_PASSWORD = 'fleet-vault-test-' + ''.join(random.choice(string.ascii_letters) for dummy in range(16))


class VaultedProject(Project):
    """The example project whose controller folder is ``root/controller``, with a vault password file."""

    def __init__(self, root, user, edge_port):
        super(VaultedProject, self).__init__(root, user, edge_port)
        self.password_file = os.path.join(root, 'vault-password')
        with open(os.open(self.password_file, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as handle:
            handle.write(VAULT_PASSWORD + '\n')

    @property
    def controller_secrets(self):
        return os.path.join(self.root, 'controller', self.user, 'myapp', 'prod', 'secrets')

    def extra(self, *args):
        return super(VaultedProject, self).extra('-e', 'fleet_controller_root=%s' % os.path.join(self.root, 'controller'),
                                                 *args)

    def vaulted(self, name, *args, **kwargs):
        return self.playbook(name, '-e', 'fleet_vault_secrets=true', '--vault-password-file', self.password_file,
                             *args, **kwargs)

    def server_secret(self, name):
        with open(os.path.join(self.project_dir, 'secrets', name)) as handle:
            return handle.read().strip()

    def controller_file(self, name):
        with open(os.path.join(self.controller_secrets, name), 'rb') as handle:
            return handle.read()


def _decrypt(data):
    return VaultLib([('default', VaultSecret(VAULT_PASSWORD.encode()))]).decrypt(data).decode().strip()


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    yield from deployed_example(tmp_path_factory, 'vault', 'k', VaultedProject)


def test_plain_secrets_are_encrypted_in_place_and_nothing_restarts(project):
    plain = dict((name, project.controller_file(name).decode().strip()) for name in ('postgres_password', 'redis_password'))
    assert all(len(value) == 40 for value in plain.values())
    ids = project.containers()

    # no vault password: refused with the fix, before anything is written
    proc = project.playbook('deploy', '-e', 'fleet_vault_secrets=true')
    assert proc.returncode != 0
    assert 'needs the vault password' in proc.stdout and '--vault-password-file' in proc.stdout, proc.stdout[-3000:]
    assert 'Traceback' not in proc.stdout + proc.stderr
    for name, value in plain.items():
        assert project.controller_file(name).decode().strip() == value

    proc = project.vaulted('deploy')
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    for name, value in plain.items():
        data = project.controller_file(name)
        assert data.startswith(b'$ANSIBLE_VAULT;1.1;AES256\n'), name
        assert value.encode() not in data
        assert _decrypt(data) == value == project.server_secret(name)
        assert stat.S_IMODE(os.stat(os.path.join(project.controller_secrets, name)).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.join(project.project_dir, 'secrets', name)).st_mode) == 0o600
        assert value not in proc.stdout + proc.stderr
    assert stat.S_IMODE(os.stat(project.controller_secrets).st_mode) == 0o700
    assert project.containers() == ids            # same values: nothing recreated, nothing restarted
    status, dummy = project.request('GET', '/items')
    assert status == 200

    again = project.vaulted('deploy')
    assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout[-4000:]


def test_rotation_keeps_the_new_password_encrypted(project):
    old = project.server_secret('redis_password')
    proc = project.vaulted('rotate_secrets', '-e', 'fleet_services=redis', timeout=1500)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    new = project.server_secret('redis_password')
    data = project.controller_file('redis_password')
    assert new != old and data.startswith(b'$ANSIBLE_VAULT;') and _decrypt(data) == new
    assert not [n for n in os.listdir(project.controller_secrets) if n.endswith('.next')]
    works = subprocess.run(['docker', 'exec', '-e', 'REDISCLI_AUTH=%s' % new, '%s_redis' % project.prefix,
                            'redis-cli', '--no-auth-warning', 'PING'], capture_output=True, text=True, timeout=60,
                           check=False)
    assert works.stdout.strip() == 'PONG', works.stdout + works.stderr
    for value in (old, new):
        assert value not in proc.stdout + proc.stderr


def test_push_sends_the_secrets_decrypted(project):
    target = os.path.join(project.project_dir, 'secrets', 'postgres_password')
    value = project.server_secret('postgres_password')
    os.unlink(target)
    proc = project.vaulted('push', '-e', 'fleet_push_dirs=secrets')
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert project.server_secret('postgres_password') == value
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert value not in proc.stdout + proc.stderr
    again = project.vaulted('push', '-e', 'fleet_push_dirs=secrets')
    assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout[-3000:]


def test_one_folder_for_controller_and_server_is_refused(project):
    proc = run_playbook('playbooks/deploy.yml', *Project.extra(project, '-e', 'fleet_vault_secrets=true',
                                                               '--vault-password-file', project.password_file))
    assert proc.returncode != 0
    assert 'is both the controller\'s folder and this server\'s' in proc.stdout, proc.stdout[-3000:]


def test_list_secrets_says_which_are_encrypted(project):
    proc = project.vaulted('list_secrets')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'ansible-vault' in proc.stdout.split('Show the controller')[1].split('Show the server')[0], proc.stdout[-3000:]
    assert 'ansible-vault' not in proc.stdout.split('Show the server')[1]
    for value in project.secrets():
        assert value not in proc.stdout + proc.stderr
