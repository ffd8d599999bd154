# SPDX-License-Identifier: GPL-3.0-or-later
"""projectdeployer.fleet.host_firewall through real ansible-playbook runs, on this machine's engine and iptables.

A tiny HTTP server stands for a tenant's service, published on the docker0 address as host ports are
on the embedded local engine; probes connect to it from containers on the tenant's network, on an
"edge" network, on another tenant's network and on the default bridge. (The deploy role's use of the
module, and the VPC case on two simulated servers, are tested in test_deploy and test_deploy_droplets.)
"""
import ipaddress
import json
import random
import socket
import string
import subprocess

import pytest

from helpers import free_port, remove_tenant_firewall, run_playbook, task_results

pytestmark = pytest.mark.usefixtures('world')

PYTHON = 'fleet-world/python:3.11'

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: firewall
      projectdeployer.fleet.host_firewall: "{{ fw }}"
"""

PROBE = ('import socket, sys\n'
         'try:\n'
         '    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()\n'
         '    print("open")\n'
         'except OSError:\n'
         '    print("closed")\n')


def docker(*args, check=True):
    return subprocess.run(['docker'] + list(args), capture_output=True, text=True, check=check).stdout.strip()


def gateway():
    """docker0's address. The bridge's IPAM config may list only the subnet (seen on a fresh machine): then the
    gateway is the subnet's first address, as dockerd assigns it."""
    config = json.loads(docker('network', 'inspect', '-f', '{{json (index .IPAM.Config 0)}}', 'bridge'))
    return config.get('Gateway') or str(next(ipaddress.ip_network(config['Subnet']).hosts()))


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """A tenant network with a published service, an edge-like network, another tenant's network."""
    tag = 'w' + ''.join(random.choice(string.ascii_lowercase) for dummy in range(6))
    tmp = tmp_path_factory.mktemp('firewall')
    nets = {'tenant': '%s_fw_prod_net' % tag, 'edge': '%s_edge_net' % tag, 'other': '%s_other_net' % tag}
    for net in nets.values():
        docker('network', 'create', net)
    port = free_port()
    docker('run', '-d', '--name', '%s_web' % tag, '--network', nets['tenant'], '-p', '%s:%d:8000' % (gateway(), port),
           PYTHON, 'python', '-m', 'http.server', '8000')
    try:
        yield dict(tag=tag, tmp=tmp, nets=nets, port=port, ids=dict(user=tag, project='fw', env='prod'))
    finally:
        docker('rm', '-f', '%s_web' % tag, check=False)
        for net in nets.values():
            docker('network', 'rm', net, check=False)
        remove_tenant_firewall(tag, 'fw')
        remove_tenant_firewall(tag + 'x', 'fw')


def firewall(site, args, *flags):
    play = site['tmp'] / 'fw.yml'
    play.write_text(PLAY)
    varfile = site['tmp'] / ('vars-%d.json' % random.randint(0, 10 ** 9))
    varfile.write_text(json.dumps({'fw': args}))
    proc = run_playbook(str(play), '-e', '@%s' % varfile, *flags, json_output=True)
    assert proc.returncode in (0, 2), proc.stderr + proc.stdout[-2000:]
    return task_results(proc, 'firewall')['localhost']


def probe(site, network, port=None):
    return docker('run', '--rm', '--network', network, PYTHON, 'python', '-c', PROBE, gateway(),
                  str(port or site['port']))


def tenant_rules(tag):
    return [line for line in iptables_lines() if '"fleet %s_fw_prod"' % tag in line]


def iptables_lines():
    return subprocess.run(['iptables', '-S'], capture_output=True, text=True, check=True).stdout.splitlines()


def test_check_mode_shows_the_rules_and_changes_nothing(site):
    args = dict(site['ids'], ports=[site['port']], networks=[site['nets']['tenant'], site['nets']['edge']])
    checked = firewall(site, args, '--check', '--diff')
    assert checked['changed'] is True
    assert '-A FLEET-PORTS-IN -p tcp -m multiport --dports %d ' % site['port'] in checked['diff']['after']
    assert checked['diff']['before'].strip() == ''
    assert tenant_rules(site['tag']) == []
    assert probe(site, site['nets']['other']) == 'open'  # nothing closed yet: the probe can tell


def test_only_the_tenant_edge_and_host_reach_the_port(site):
    args = dict(site['ids'], ports=[site['port'], site['port'] + 1],
                networks=[site['nets']['tenant'], site['nets']['edge']],
                peers=[{'address': '10.200.0.9', 'ports': [8123, 18123]}])
    first = firewall(site, args)
    assert first['changed'] is True and first['chain'].startswith('FLEET-T-')
    assert sorted(tenant_rules(site['tag'])) == sorted(first['rules'])
    assert probe(site, site['nets']['other']) == 'closed'
    assert probe(site, 'bridge') == 'closed'
    assert probe(site, site['nets']['tenant']) == 'open'
    assert probe(site, site['nets']['edge']) == 'open'
    with socket.create_connection((gateway(), site["port"]), timeout=5):
        pass  # the host itself
    again = firewall(site, args, '--diff')
    assert again['changed'] is False and again['diff']['before'] == again['diff']['after']


def test_a_second_tenant_is_kept_apart_and_a_change_touches_only_its_own_rules(site):
    mine = tenant_rules(site['tag'])
    other = dict(user=site['tag'] + 'x', project='fw', env='prod', ports=[free_port()],
                 networks=[site['nets']['other']])
    assert firewall(site, other)['changed'] is True
    assert tenant_rules(site['tag']) == mine
    changed = firewall(site, dict(other, ports=other['ports'] + [other['ports'][0] + 1]))
    assert changed['changed'] is True and tenant_rules(site['tag']) == mine
    assert probe(site, site['nets']['other']) == 'closed'  # their network still does not reach our port
    gone = firewall(site, dict(user=other['user'], project='fw', env='prod', state='absent'))
    assert gone['changed'] is True and tenant_rules(site['tag']) == mine
    assert not [line for line in iptables_lines() if '"fleet %s_fw_prod"' % other['user'] in line]


def test_a_missing_network_is_one_clear_error(site):
    failed = firewall(site, dict(site['ids'], ports=[site['port']], networks=['%s_nowhere_net' % site['tag']]))
    assert failed.get('failed') is True
    assert "networks: there is no Docker network '%s_nowhere_net'" % site['tag'] in failed['msg']
    assert 'Traceback' not in failed['msg']


def test_absent_removes_every_rule_and_opens_the_port_again(site):
    gone = firewall(site, dict(site['ids'], state='absent'), '--diff')
    assert gone['changed'] is True and gone['rules'] == [] and 'FLEET-T-' in gone['diff']['before']
    assert tenant_rules(site['tag']) == []
    assert not [line for line in iptables_lines() if line.startswith('-N ' + gone['chain'])]
    assert probe(site, site['nets']['other']) == 'open'
    assert firewall(site, dict(site['ids'], state='absent'))['changed'] is False
