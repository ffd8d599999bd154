# SPDX-License-Identifier: GPL-3.0-or-later
"""The peer watch's pieces: knocks, the silent count, the peers, the cut (the real one: tests/integration/test_heal.py)."""
import socket
import subprocess

from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import peer_watch


def test_knock_tells_a_listener_a_refusal_and_silence_apart(monkeypatch):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    assert peer_watch.knock('127.0.0.1', port) == peer_watch.ANSWERED
    listener.close()
    assert peer_watch.knock('127.0.0.1', port) == peer_watch.REFUSED

    class Silent(socket.socket):
        def connect(self, address):
            raise socket.timeout('timed out')
    monkeypatch.setattr(peer_watch.socket, 'socket', Silent)
    assert peer_watch.knock('10.0.0.9', 9999) == peer_watch.SILENT


def test_a_peer_is_silent_after_two_silent_knocks_in_a_row_and_answers_again_at_once():
    peers = peer_watch.SilentPeers()
    assert not peers.observe('10.0.0.2', peer_watch.SILENT)
    assert not peers.observe('10.0.0.2', peer_watch.REFUSED)     # a refusal: the host is there
    assert not peers.observe('10.0.0.2', peer_watch.SILENT)
    assert peers.observe('10.0.0.2', peer_watch.SILENT)
    assert peers.observe('10.0.0.2', peer_watch.SILENT)
    assert peers.silent == ['10.0.0.2']
    assert not peers.observe('10.0.0.2', peer_watch.ANSWERED)
    assert peers.silent == []
    peers.observe('10.0.0.3', peer_watch.SILENT)
    peers.forget_others(['10.0.0.2'])
    assert peers.misses == {'10.0.0.2': 0}


def test_peers_are_every_envs_servers_but_this_one():
    configs = [{'address': '10.0.0.1', 'port': 9999, 'servers': [{'address': '10.0.0.1'}, {'address': '10.0.0.3'},
                                                                 {'address': '10.0.0.2'}]},
               {'address': '10.0.0.1', 'port': 9998, 'servers': [{'address': '10.0.0.2'}, {'address': '10.0.0.4'}, {}]},
               {}]
    assert peer_watch.peer_addresses(configs) == [('10.0.0.2', 9999), ('10.0.0.3', 9999), ('10.0.0.4', 9998)]


class FakeContainer(object):
    def __init__(self, name, role, pid):
        self.name, self.labels, self.attrs = name, {'fleet.role': role}, {'State': {'Pid': pid}}


class FakeClient(object):
    def __init__(self, containers):
        self.containers = self
        self._containers = containers

    def list(self, filters=None):
        assert filters == {'label': 'fleet.role'}
        return self._containers


def test_cut_runs_ss_in_each_nginx_containers_namespace_and_counts_what_it_destroyed():
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        assert kwargs['timeout'] and not kwargs['check']
        if command[1].endswith('/12/ns/net'):
            return subprocess.CompletedProcess(command, 0, 'ESTAB 0 0 172.18.0.2:41000 10.0.0.2:8001\n'
                                                           'ESTAB 0 0 172.18.0.2:41002 10.0.0.2:8001\n', '')
        if command[1].endswith('/13/ns/net'):
            return subprocess.CompletedProcess(command, 0, '', '')
        return subprocess.CompletedProcess(command, 1, '', 'ss: no such namespace')

    client = FakeClient([FakeContainer('fleet_edge', 'edge', 12), FakeContainer('u_p_e_nginx', 'sidecar', 13),
                         FakeContainer('check', 'nginx-config-test', 14), FakeContainer('gone', 'sidecar', 0),
                         FakeContainer('odd', 'sidecar', 15)])
    done, errors = peer_watch.cut(client, '10.0.0.2', run=run)
    assert done == {'fleet_edge': 2}
    assert errors == ['odd: ss: no such namespace']
    assert calls[0] == ['nsenter', '--net=/proc/12/ns/net', 'ss', '-K', '-H', '-n', '-t', 'dst', '10.0.0.2']
    assert len(calls) == 3
