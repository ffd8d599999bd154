# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as users get it: galaxy build, galaxy install, FQCN from another directory."""
import os
import re
import subprocess
import sys

from helpers import REPO, ansible_env

BIN = os.path.dirname(sys.executable)


def test_build_install_and_use_by_fqcn(tmp_path):
    env = ansible_env()
    env.pop('ANSIBLE_CONFIG')
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    build = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', REPO,
                            '--output-path', str(tmp_path)], capture_output=True, text=True, check=False, env=env, cwd=tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = [p for p in os.listdir(tmp_path) if p.endswith('.tar.gz')]
    assert tarball == ['projectdeployer-fleet-0.1.0.tar.gz']
    listing = subprocess.run(['tar', 'tzf', str(tmp_path / tarball[0])], capture_output=True, text=True, check=False).stdout
    assert 'plugins/modules/port_hash.py' in listing and 'playbooks/validate.yml' in listing
    assert 'tests/world' not in listing and '.venv' not in listing and 'bench/' not in listing

    install_dir = tmp_path / 'collections'
    inst = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--no-deps',
                           '-p', str(install_dir), str(tmp_path / tarball[0])],
                          capture_output=True, text=True, check=False, env=env, cwd=tmp_path)
    assert inst.returncode == 0, inst.stdout + inst.stderr

    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    spec = elsewhere / 'spec.yml'
    spec.write_text(open(os.path.join(REPO, 'examples', 'myapp.yml')).read())
    env['ANSIBLE_COLLECTIONS_PATH'] = str(install_dir)
    env['ANSIBLE_COLLECTIONS_SCAN_SYS_PATH'] = 'true'
    run = subprocess.run([os.path.join(BIN, 'ansible-playbook'), 'projectdeployer.fleet.validate',
                          '-e', '@spec.yml', '-e', 'fleet_env=uat'],
                         capture_output=True, text=True, check=False, env=env, cwd=str(elsewhere))
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'u1_myapp_uat_api' in run.stdout
    # Ansible's default output settings (no repository ansible.cfg): the plan still reads as a table, one row
    # per line, not one JSON string full of \n
    assert '\\n' not in run.stdout, run.stdout
    rows = [line for line in run.stdout.splitlines()
            if re.match(r'^\d+\s+(postgres|redis|api|worker|report)\s+\w+\s+u1_myapp_uat_', line)]
    assert len(rows) == 5 and not any('"' in row for row in rows), run.stdout
    doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), 'projectdeployer.fleet.port_hash'],
                         capture_output=True, text=True, check=False, env=env, cwd=str(elsewhere))
    assert doc.returncode == 0 and 'secondary_port' in doc.stdout
