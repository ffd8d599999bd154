# SPDX-License-Identifier: GPL-3.0-or-later
import json
import shutil
import subprocess
import zipfile

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import program_zip
from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import install, program, report


@pytest.mark.skipif(not shutil.which('systemd-analyze'), reason='systemd-analyze is not installed')
def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    zip_path = tmp_path / 'fleet-health.zip'
    zip_path.write_bytes(b'')
    unit = tmp_path / install.UNIT_NAME
    unit.write_text(install.unit('/usr/bin/python3', str(zip_path), str(tmp_path / 'agent.json'), 'abc'))
    proc = subprocess.run(['systemd-analyze', 'verify', str(unit)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0 and 'fleet-agent' not in proc.stderr, proc.stderr


def test_the_program_zip_carries_what_it_imports_and_is_stable(tmp_path):
    entries = program.sources()
    names = ['/'.join(path.split('/')[-2:]) for path, dummy in entries]
    for needed in ('_health/agent.py', '_health/monitor.py', '_health/healer.py', '_deploy/toggler.py',
                   '_deploy/deploy_lock.py', '_common/docker.py', '_spec/naming.py'):
        assert needed in names, names
    data = program_zip.build_zip(entries)
    assert data == program_zip.build_zip(program.sources())
    path = tmp_path / 'p.zip'
    path.write_bytes(data)
    with zipfile.ZipFile(str(path)) as archive:
        assert archive.read('__main__.py').decode().endswith('raise SystemExit(main(sys.argv[1:]))\n')
    proc = subprocess.run(['python3', str(path), '--help'], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and 'agent' in proc.stdout and 'monitor' in proc.stdout, proc.stderr


def test_the_cron_line_and_the_tenant_config_hold_no_secret():
    line = install.cron_file('* * * * *', '/usr/bin/python3', '/local/.fleet/lib/fleet-health.zip', '/local',
                             'unix:///var/run/docker.sock', '/local/.fleet/agent/monitor.log')
    assert '* * * * * root /usr/bin/python3 /local/.fleet/lib/fleet-health.zip monitor --fleet-root /local' in line
    config = json.loads(install.tenant_config('a', '10.0.0.2', 9999, [{'name': 'b', 'address': '10.0.0.3'},
                                                                      {'name': 'a', 'address': '10.0.0.2'}],
                                              {'to': 'ops@x', 'password': 'secret', 'user': ''}, 600))
    assert config['servers'] == [{'address': '10.0.0.2', 'name': 'a'}, {'address': '10.0.0.3', 'name': 'b'}]
    assert config['alerts'] == {'to': 'ops@x'}


def test_agent_refuses_wildcard_and_public_addresses():
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._health.agent import check_address
    assert check_address('10.110.0.2') is None and check_address('127.0.0.1') is None
    assert 'wildcard' in check_address('0.0.0.0') and 'wildcard' in check_address('::')
    assert 'public' in check_address('203.0.114.10')
    assert 'public' in check_address('10.250.0.5', refused=['10.250.0.5'])
    assert 'not an IP address' in check_address('localhost')


def test_report_lines_show_services_peers_incidents_and_actions():
    lines = report.lines('a', [{'service': 'web', 'container': 'u1_app_prod_web', 'status': 'running',
                                'healthy': True, 'detail': 'GET / answered 200', 'restarts': 1}],
                         [{'name': 'b', 'address': '10.0.0.3', 'answered': False, 'error': 'timed out', 'ping': False,
                           'docker': None, 'misses': 2}],
                         [{'summary': 'flaky on a: stopped restarting it', 'opened_at': 0}],
                         [{'time': 0, 'service': 'web', 'action': 'start', 'reason': 'its container is exited',
                           'ok': True}], monitor_at=90, agent='answers', now=100)
    text = '\n'.join(lines)
    assert lines[0] == 'a: agent answers; monitor 10 s ago'
    assert 'web      u1_app_prod_web  running  ok' in text and 'NO ANSWER (timed out)' in text
    assert '- flaky on a: stopped restarting it (since 100 s ago)' in text
    assert 'web start: its container is exited' in text
