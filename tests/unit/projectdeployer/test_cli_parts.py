# SPDX-License-Identifier: GPL-3.0-or-later
"""The pieces of `fleet` that need no playbook run: the lock, the audit log, the error a failed run makes,
usage errors, tables."""
import io
import json
import os
import subprocess
import sys

import pytest

from projectdeployer import audit, cli, lock
from projectdeployer.engine import Result
from projectdeployer.errors import EXIT_FAILED, EXIT_USAGE, FleetError
from projectdeployer.output import Printer, table

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.logs import since_epoch


def test_the_lock_refuses_a_second_holder_names_the_first_and_takes_over_a_dead_run(tmp_path):
    path = lock.path_of(str(tmp_path), 'u1', 'myapp', 'prod')
    held = lock.acquire(path, 'migrating the database')
    assert held['message'] == 'migrating the database' and oct(os.stat(path).st_mode & 0o777) == '0o600'
    with pytest.raises(FleetError) as caught:
        lock.acquire(path, 'fleet deploy', pid=os.getpid())
    assert 'u1/myapp/prod' in str(caught.value) and 'migrating the database' in str(caught.value)
    assert caught.value.exit_code == EXIT_FAILED and 'fleet lock release' in str(caught.value)
    assert lock.release(path, pid=os.getpid()) is False          # a command releases only its own
    assert lock.release(path) is True and lock.read(path) is None
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    lock.acquire(path, 'fleet deploy', pid=dead.pid)             # its process is gone: stale
    assert lock.acquire(path, 'fleet deploy', pid=os.getpid())['pid'] == os.getpid()


def test_the_audit_log_keeps_who_ran_what(tmp_path):
    path = audit.path_of(str(tmp_path), 'u1', 'myapp', 'prod')
    audit.record(path, ['fleet', 'deploy', '-s', 'api'], 'ok', 12.34)
    audit.record(path, ['fleet', 'rollback', 'api'], 'failed: no version before', 1)
    records = audit.read(path)
    assert [r['command'] for r in records] == ['fleet deploy -s api', 'fleet rollback api']
    assert records[0]['seconds'] == 12.3 and '@' in records[0]['who'] and records[1]['outcome'].startswith('failed')
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'


def test_a_failed_run_gives_the_playbooks_line_and_the_right_exit_code():
    spec_failure = {'host': 'localhost', 'task': 'Validate', 'action': 'projectdeployer.fleet.project_spec',
                    'res': {'msg': 'spec.yml: services.api.port: 70000 is not a port; fix: use 1-65535',
                            'error_path': 'services.api.port'}, 'unreachable': False, 'ignored': False}
    error = Result('deploy', 2, 'failed', [], [spec_failure]).error()
    assert str(error) == spec_failure['res']['msg'] and error.exit_code == EXIT_USAGE and error.key == 'services.api.port'
    down = [dict(spec_failure, host=h, task='Start', action='projectdeployer.fleet.toggle_deploy',
                 res={'msg': 'api failed its health check'}) for h in ('a', 'b')]
    error = Result('deploy', 2, 'failed', [], down).error()
    assert str(error) == 'a, b: api failed its health check' and error.exit_code == EXIT_FAILED
    assert 'exit 4' in str(Result('deploy', 4, 'failed', [], []).error())


def test_results_are_read_by_module_name():
    oks = [{'host': 'h1', 'task': 't', 'action': 'projectdeployer.fleet.deploy_info', 'res': {'services': {'a': 1}}},
           {'host': 'h2', 'task': 't', 'action': 'deploy_info', 'res': {'services': {}}}]
    found = Result('status', 0, 'successful', oks, []).by_host('deploy_info')
    assert found == {'h1': {'services': {'a': 1}}, 'h2': {'services': {}}}


def test_usage_errors_exit_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(['deploy', '--zones'])
    assert caught.value.code == EXIT_USAGE
    assert 'fix: see fleet deploy --help' in capsys.readouterr().err
    assert cli.main(['status', '-f', '/nonexistent/fleet.yml']) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'no such project spec' in err and 'Traceback' not in err


def test_every_command_has_help_with_an_example(capsys):
    parser = cli.build_parser()
    subs = [a for a in parser._actions if isinstance(a, cli.argparse._SubParsersAction)][0]
    for name, sub in subs.choices.items():
        assert 'example:\n  fleet ' in sub.format_help(), name


def test_tables_and_json_output():
    assert table(['A', 'LONGER'], [['xx', '1'], ['y', '22']]).splitlines() == ['A   LONGER', 'xx  1', 'y   22']
    out, err = io.StringIO(), io.StringIO()
    printer = Printer(json_mode=True, out=out, err=err)
    printer.result({'b': 1}, 'ignored')
    printer.failure(FleetError('boom; fix: x', key='k'))
    lines = out.getvalue().strip().split('\n')
    assert json.loads('\n'.join(lines[:-1])) == {'b': 1} and json.loads(lines[-1])['key'] == 'k'
    assert err.getvalue() == 'fleet: boom; fix: x\n'                 # no colour off a terminal


def test_since_takes_ages_and_unix_times():
    assert since_epoch('10m', 1000000) == 999400 and since_epoch('2h', 10000) == 2800
    assert since_epoch('1764000000', 0) == 1764000000
    with pytest.raises(ValueError) as caught:
        since_epoch('yesterday', 0)
    assert 'fix:' in str(caught.value)
