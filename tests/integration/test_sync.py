# SPDX-License-Identifier: GPL-3.0-or-later
"""push.yml, pull.yml, sync.yml and list_secrets.yml over real SSH to two simulated servers.

The controller's config/, secrets/ and files/ go to the servers (only what changed, secrets
0700/0600 on both sides, `targets` limits the servers); each server's data/, logs/, backups/
and monitoring/ come back into per-server folders (backups still being written stay behind,
`fleet_service` limits the backups); a second run changes nothing; list_secrets names the
secrets and never shows a value, also at -vvv.
"""
import os
import random
import stat
import string

import pytest
import yaml

from helpers import host_ips, recap_changed, run_playbook, ssh_host_vars, ssh_keypair
from sim_hosts import sim_host

pytestmark = pytest.mark.usefixtures('world')


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)


def test_push_pull_sync_and_list_secrets(tmp_path):
    key = ssh_keypair(tmp_path)
    user = 's' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    ips = host_ips(2)
    spec_path = tmp_path / 'spec.yml'
    spec_path.write_text(yaml.safe_dump({'fleet_user': user, 'fleet_project': 'shop',
                                         'services': {'postgres': {'type': 'postgres'}}}))
    controller = tmp_path / 'controller' / user / 'shop' / 'prod'
    secret_value = 'Zq' + ''.join(random.choice(string.ascii_letters) for dummy in range(30))
    _write(str(controller / 'config' / 'app.ini'), '[app]\nmode=prod\n')
    _write(str(controller / 'files' / 'logo.svg'), '<svg/>\n')
    _write(str(controller / 'files' / 'static' / 'site.css'), 'body{}\n')
    _write(str(controller / 'secrets' / 'api_key'), secret_value, 0o600)
    os.chmod(str(controller / 'secrets'), 0o700)
    with sim_host('fs-%s-a' % user, ips[0], '%s.pub' % key) as host_a, \
            sim_host('fs-%s-b' % user, ips[1], '%s.pub' % key) as host_b:
        common = ssh_host_vars(key)
        inventory = tmp_path / 'hosts.yml'
        inventory.write_text(yaml.safe_dump({'fleet_servers': {'hosts': {
            'web-1': dict(common, ansible_host=ips[0]), 'web-2': dict(common, ansible_host=ips[1])}}}))
        args = ['-i', str(inventory), '-e', '@%s' % spec_path, '-e', 'fleet_env=prod',
                '-e', 'fleet_controller_root=%s' % (tmp_path / 'controller')]
        remote = [os.path.join(h.local_dir, user, 'shop', 'prod') for h in (host_a, host_b)]

        # push to one target only
        proc = run_playbook('playbooks/push.yml', *args, '-e', 'targets=%s' % ips[1], timeout=300)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        assert not os.path.exists(os.path.join(remote[0], 'config')), 'web-1 is not a target'
        assert open(os.path.join(remote[1], 'files', 'static', 'site.css')).read() == 'body{}\n'
        assert _mode(os.path.join(remote[1], 'secrets')) == 0o700
        assert _mode(os.path.join(remote[1], 'secrets', 'api_key')) == 0o600
        assert secret_value not in proc.stdout + proc.stderr

        # everywhere; web-2 has it all already: nothing moves there
        proc = run_playbook('playbooks/push.yml', *args, timeout=300)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        assert open(os.path.join(remote[0], 'config', 'app.ini')).read() == '[app]\nmode=prod\n'
        css_inode = os.stat(os.path.join(remote[1], 'files', 'static', 'site.css')).st_ino
        _write(str(controller / 'files' / 'logo.svg'), '<svg version="2"/>\n')
        proc = run_playbook('playbooks/push.yml', *args, timeout=300)
        assert proc.returncode == 0
        assert "files/logo.svg" in proc.stdout and 'files/static/site.css' not in proc.stdout
        assert open(os.path.join(remote[1], 'files', 'logo.svg')).read() == '<svg version="2"/>\n'
        proc = run_playbook('playbooks/push.yml', *args, timeout=300)
        assert proc.returncode == 0 and recap_changed(proc.stdout) == 0, proc.stdout[-3000:]
        assert os.stat(os.path.join(remote[1], 'files', 'static', 'site.css')).st_ino == css_inode

        # what the servers made
        for index, base in enumerate(remote):
            backups = os.path.join(base, 'backups')
            os.makedirs(backups, 0o700, exist_ok=True)
            for name in ('postgres_backup_20261201_020000.dump', 'redis_backup_20261201_030000.rdb'):
                _write(os.path.join(backups, name), 'data-%d-%s' % (index, name), 0o600)
                _write(os.path.join(backups, name + '.sha256'), 'x', 0o600)
            _write(os.path.join(backups, '.postgres_backup_20261202_020000.dump.partial-abc'), 'half', 0o600)
            _write(os.path.join(base, 'logs', 'api', 'app.log'), 'line %d\n' % index)
            _write(os.path.join(base, 'monitoring', 'backups', 'postgres.json'), '{"status": "ok"}\n')
        proc = run_playbook('playbooks/pull.yml', *args, '-e', 'fleet_pull_dirs=backups', '-e', 'fleet_service=postgres',
                            timeout=300)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        for index, ip in enumerate(ips):
            folder = controller / 'backups' / ip
            want = ['postgres_backup_20261201_020000.dump', 'postgres_backup_20261201_020000.dump.sha256']
            assert sorted(os.listdir(str(folder))) == want
            assert _mode(str(folder)) == 0o700
            assert _mode(str(folder / 'postgres_backup_20261201_020000.dump')) == 0o600
            assert (folder / 'postgres_backup_20261201_020000.dump').read_text() == \
                'data-%d-postgres_backup_20261201_020000.dump' % index
        assert not (controller / 'logs').exists()

        # sync: both ways, all folders; then again: nothing changes
        proc = run_playbook('playbooks/sync.yml', *args, timeout=300)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        for index, ip in enumerate(ips):
            assert (controller / 'logs' / ip / 'api' / 'app.log').read_text() == 'line %d\n' % index
            assert (controller / 'monitoring' / ip / 'backups' / 'postgres.json').exists()
            assert (controller / 'backups' / ip / 'redis_backup_20261201_030000.rdb').exists()
            assert not [n for n in os.listdir(str(controller / 'backups' / ip)) if n.startswith('.')]
        proc = run_playbook('playbooks/sync.yml', *args, timeout=300)
        assert proc.returncode == 0 and recap_changed(proc.stdout) == 0, proc.stdout[-3000:]

        # names, never values, whatever the verbosity
        proc = run_playbook('playbooks/list_secrets.yml', *args, '-vvv', timeout=300)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        assert 'api_key' in proc.stdout and '0600' in proc.stdout
        assert secret_value not in proc.stdout + proc.stderr

        # a folder that is not pushed is refused before any host is touched
        proc = run_playbook('playbooks/push.yml', *args, '-e', 'fleet_push_dirs=backups', timeout=300)
        assert proc.returncode != 0 and 'fleet_push_dirs: backups cannot be pushed' in proc.stdout
