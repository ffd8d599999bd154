# SPDX-License-Identifier: GPL-3.0-or-later
"""The table a deploy ends with."""
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.summary import summary_lines

PLANNED = [{'service': 'postgres', 'container_port': 5432, 'domain': None},
           {'service': 'api', 'container_port': 8000, 'domain': 'api.example.com'},
           {'service': 'report', 'container_port': None, 'domain': None},
           {'service': 'web', 'container_port': 80, 'domain': 'www.example.com'}]
RUNNING = {
    'postgres': {'active_slot': 'primary', 'active_version': '15', 'containers': []},
    'api': {'active_slot': 'secondary', 'active_version': '4', 'containers': []},
    'report': {'active_slot': None, 'active_version': None, 'containers': [{'version': '4', 'status': 'created'}]},
}


def rows(lines):
    return [line.split() for line in lines[3:]]


def test_each_service_with_its_version_slot_servers_url_and_change():
    servers = [{'host': 'a', 'services': RUNNING, 'changes': {'api': 'a new image or configuration'},
                'done': [{'item': 'api', 'action': 'started'}, {'item': 'report', 'action': 'created'}]},
               {'host': 'b', 'services': {'api': dict(RUNNING['api'])}, 'changes': {}, 'done': []}]
    lines = summary_lines('u1/myapp/prod', PLANNED, servers, edge_port=80)
    assert lines[0] == 'u1/myapp/prod deployed:'
    assert lines[1].split() == ['service', 'version', 'slot', 'servers', 'url', 'change']
    table = dict((r[0], r) for r in rows(lines))
    assert table['postgres'] == ['postgres', '15', 'primary', 'a', '-', 'unchanged']
    assert table['api'][:5] == ['api', '4', 'secondary', 'a,b', 'http://api.example.com']
    assert ' '.join(table['api'][5:]) == 'new version started'
    assert table['report'][:3] == ['report', '4', 'scheduled']
    assert 'web' not in table  # on no server (a one-service deploy, or not deployed here)


def test_an_edge_on_another_port_is_in_the_url_and_nothing_deployed_is_no_table():
    servers = [{'host': 'a', 'services': {'api': RUNNING['api']}, 'changes': {}, 'done': []}]
    assert 'http://api.example.com:8080' in summary_lines('u1/myapp/prod', PLANNED, servers, 8080)[3]
    assert summary_lines('u1/myapp/prod', PLANNED, [{'host': 'a', 'services': {}}]) == []
