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

    # the Python API and `fleet` install with pip from the installed collection's directory (docs/python.md)
    target = tmp_path / 'site'
    pip = subprocess.run([os.path.join(BIN, 'pip'), 'install', '--quiet', '--no-deps', '--no-build-isolation',
                          '--target', str(target), str(install_dir / 'ansible_collections' / 'projectdeployer' / 'fleet')],
                         capture_output=True, text=True, check=False, env=env, cwd=str(elsewhere), timeout=600)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    env['PYTHONPATH'] = str(target)
    found = subprocess.run([sys.executable, '-c', 'from projectdeployer import ProjectDeployer, ResourceResolver; '
                            'from projectdeployer.collection import collection_dir; print(collection_dir())'],
                           capture_output=True, text=True, check=False, env=env, cwd=str(elsewhere))
    assert found.stdout.strip() == str(target / 'ansible_collections' / 'projectdeployer' / 'fleet'), found.stderr
    fleet = subprocess.run([str(target / 'bin' / 'fleet'), '-f', str(spec), 'plan', '-e', 'uat'],
                           capture_output=True, text=True, check=False, env=env, cwd=str(elsewhere), timeout=300)
    assert fleet.returncode == 0 and 'u1_myapp_uat_api' in fleet.stdout, fleet.stdout[-3000:] + fleet.stderr[-3000:]


# The oldest ansible-core meta/runtime.yml admits: tables must read as tables there too.
OLDEST = '2.19.0'
OLDEST_VENV = os.environ.get('FLEET_OLDEST_ANSIBLE_VENV', '/var/cache/fleet-test/ansible-core-%s' % OLDEST)


def oldest_ansible():
    """A venv with ansible-core OLDEST and the Docker SDK (made once per machine, then reused)."""
    runtime = open(os.path.join(REPO, 'meta', 'runtime.yml')).read()
    assert 'requires_ansible: ">=%s"' % OLDEST in runtime, 'OLDEST must follow meta/runtime.yml'
    playbook = os.path.join(OLDEST_VENV, 'bin', 'ansible-playbook')
    if not os.path.exists(playbook):
        subprocess.run([sys.executable, '-m', 'venv', '--clear', OLDEST_VENV], check=True, timeout=300)
        docker_pin = [line.strip() for line in open(os.path.join(REPO, 'requirements.txt'))
                      if line.startswith('docker==')]
        pip = subprocess.run([os.path.join(OLDEST_VENV, 'bin', 'pip'), 'install', '--quiet', '--disable-pip-version-check',
                              'ansible-core==%s' % OLDEST] + docker_pin, capture_output=True, text=True, check=False,
                             timeout=900)
        assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return os.path.join(OLDEST_VENV, 'bin')


def test_tables_read_as_tables_on_the_oldest_ansible_core_without_our_ansible_cfg(tmp_path, unique_prefix):
    bin_dir = oldest_ansible()
    version = subprocess.run([os.path.join(bin_dir, 'ansible'), '--version'], capture_output=True, text=True,
                             check=False).stdout
    assert 'core %s]' % OLDEST in version, version
    env = ansible_env()
    env.pop('ANSIBLE_CONFIG')
    env['ANSIBLE_COLLECTIONS_PATH'] = os.path.join(REPO, '.ansible', 'collections')
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    spec = open(os.path.join(REPO, 'examples', 'myapp.yml')).read()
    spec = spec.replace('fleet_user: u1', 'fleet_user: %s' % unique_prefix)
    (elsewhere / 'spec.yml').write_text(spec)
    (elsewhere / 'hosts.yml').write_text(
        'fleet_servers:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
        '      ansible_python_interpreter: %s\n' % os.path.join(bin_dir, 'python'))
    playbooks = os.path.join(REPO, 'playbooks')

    plan = subprocess.run([os.path.join(bin_dir, 'ansible-playbook'), os.path.join(playbooks, 'validate.yml'),
                           '-e', '@spec.yml', '-e', 'fleet_env=uat'],
                          capture_output=True, text=True, check=False, env=env, cwd=str(elsewhere), timeout=300)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert '\\n' not in plan.stdout, plan.stdout
    rows = [line for line in plan.stdout.splitlines()
            if re.match(r'^\d+\s+(postgres|redis|api|worker|report)\s+\w+\s+%s_myapp_uat_' % unique_prefix, line)]
    assert len(rows) == 5 and not any('"' in row for row in rows), plan.stdout

    # nothing of this user is deployed: every service is a row that says so
    status = subprocess.run([os.path.join(bin_dir, 'ansible-playbook'), '-i', 'hosts.yml',
                             os.path.join(playbooks, 'status.yml'), '-e', '@spec.yml', '-e', 'fleet_env=uat',
                             '-e', 'fleet_root=%s' % (tmp_path / 'root')],
                            capture_output=True, text=True, check=False, env=env, cwd=str(elsewhere), timeout=300)
    assert status.returncode == 0, status.stdout + status.stderr
    assert '\\n' not in status.stdout, status.stdout
    rows = [line for line in status.stdout.splitlines()
            if re.match(r'^\s*(localhost\s+)?(postgres|redis|api|worker|report)\s', line)]
    assert len(rows) == 5 and all('not deployed' in row for row in rows), status.stdout
