# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/validate.yml as a user runs it: real ansible-playbook processes, nothing touched."""
import os

import pytest
import yaml

from helpers import REPO, run_playbook, task_results

EXAMPLE = os.path.join(REPO, 'examples', 'myapp.yml')


def test_example_plan_is_printed():
    proc = run_playbook('playbooks/validate.yml', '-i', 'inventory/local.yml',
                        '-e', '@examples/myapp.yml', '-e', 'fleet_env=prod')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert 'Project u1/myapp, env prod: 5 services' in out
    for name in ('u1_myapp_prod_postgres', 'u1_myapp_prod_redis', 'u1_myapp_prod_api',
                 'u1_myapp_prod_worker', 'u1_myapp_prod_report'):
        assert name in out
    assert 'api.myapp.localhost' in out and '*/5 * * * *' in out
    assert 'u1_myapp_prod_net' in out and 'changed=0' in out


def test_plan_is_structured_and_ordered():
    proc = run_playbook('playbooks/validate.yml', '-e', '@examples/myapp.yml', '-e', 'fleet_env=prod',
                        json_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = task_results(proc, 'Validate the spec')['localhost']
    rows = result['plan']['services']
    groups = dict((r['service'], r['group']) for r in rows)
    assert groups == {'postgres': 1, 'redis': 1, 'api': 2, 'worker': 2, 'report': 2}
    api = [r for r in rows if r['service'] == 'api'][0]
    assert 8000 <= api['host_port'] <= 8999 and api['secondary_port'] == api['host_port'] + 10000
    assert 5000 <= api['internal_port'] <= 5999
    assert result['plan']['monthly_cost'] == 5 * 6.0
    # env var values never leave the action, even in the structured result.
    assert result['spec']['services']['api']['env_vars'] == {'GREETING': '<redacted>'}
    assert 'hello' not in proc.stdout


def _write_spec(tmp_path, mutate):
    with open(EXAMPLE) as handle:
        spec = yaml.safe_load(handle)
    mutate(spec)
    path = tmp_path / 'broken.yml'
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize('mutate,expected', [
    (lambda s: s['services']['api'].update(depends_on=['postgres', 'redsi']), 'services.api.depends_on'),
    (lambda s: s['services']['api'].update(prot=8000), 'services.api.prot'),
    (lambda s: s['services']['api'].update(server_zone='lon9'), 'services.api.server_zone'),
    (lambda s: s.update(fleet_user='U 1'), 'fleet_user'),
])
def test_bad_spec_gives_one_clear_line_and_no_traceback(tmp_path, mutate, expected):
    path = _write_spec(tmp_path, mutate)
    proc = run_playbook('playbooks/validate.yml', '-e', '@%s' % path, '-e', 'fleet_env=prod')
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert 'Traceback' not in out
    msg_lines = [line for line in out.splitlines() if expected in line]
    assert msg_lines, out
    assert str(path) in msg_lines[0] or os.path.relpath(str(path), REPO) in msg_lines[0]
    assert 'fix:' in msg_lines[0]


# A database always runs with its generated password: forms that would drop it are refused before any host
# is touched, each as one line naming the key and server_settings, the safe way.
@pytest.mark.parametrize('mutate,expected', [
    # the issue: a redis command copied from a compose file ran redis with no password
    (lambda s: s['services']['redis'].update(command='redis-server --appendonly yes --maxmemory 256mb'),
     'services.redis.command'),
    (lambda s: s['services']['postgres'].update(env_vars={'POSTGRES_HOST_AUTH_METHOD': 'trust'}),
     'services.postgres.env_vars.POSTGRES_HOST_AUTH_METHOD'),
], ids=['redis-command', 'postgres-trust'])
def test_a_spec_that_drops_a_database_password_is_refused(tmp_path, mutate, expected):
    path = _write_spec(tmp_path, mutate)
    proc = run_playbook('playbooks/validate.yml', '-e', '@%s' % path, '-e', 'fleet_env=prod')
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert 'Traceback' not in out
    # Ansible's one-line [ERROR] (the result's msg follows it, wrapped by the yaml callback)
    errors = [line for line in out.splitlines() if line.startswith('[ERROR]') and expected in line]
    assert len(errors) == 1, out
    assert str(path) in errors[0] or os.path.relpath(str(path), REPO) in errors[0]
    what, fix = errors[0].split(': %s: ' % expected, 1)[1].split('; fix: ')
    assert 'generated password' in what and 'server_settings' in fix


def test_server_settings_validate(tmp_path):
    def mutate(spec):
        spec['services']['redis']['server_settings'] = {'maxmemory': '100mb', 'maxmemory-policy': 'allkeys-lru'}
        spec['services']['postgres']['server_settings'] = {'max_connections': 200, 'shared_buffers': '256MB'}
    path = _write_spec(tmp_path, mutate)
    proc = run_playbook('playbooks/validate.yml', '-e', '@%s' % path, '-e', 'fleet_env=prod', json_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    services = task_results(proc, 'Validate the spec')['localhost']['spec']['services']
    assert services['redis']['server_settings'] == {'maxmemory': '100mb', 'maxmemory-policy': 'allkeys-lru'}
    assert services['postgres']['server_settings'] == {'max_connections': 200, 'shared_buffers': '256MB'}


def test_missing_env_is_named(tmp_path):
    proc = run_playbook('playbooks/validate.yml', '-e', '@examples/myapp.yml')
    assert proc.returncode != 0
    assert 'fleet_env is not set' in proc.stdout and 'Traceback' not in proc.stdout + proc.stderr


def test_unknown_top_level_key_in_spec_file(tmp_path):
    path = _write_spec(tmp_path, lambda s: s.update(fleet_projct='x'))
    proc = run_playbook('playbooks/validate.yml', '-e', '@%s' % path, '-e', 'fleet_env=prod')
    assert proc.returncode != 0
    assert 'fleet_projct' in proc.stdout and 'fleet_project' in proc.stdout
