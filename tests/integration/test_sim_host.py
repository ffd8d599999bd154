# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated host (tests/world/host.sh) is a real server: real ssh, its own engine, Ansible
runs modules on it, it serves published ports, it cannot reach the registry, and ``down``
leaves nothing behind."""
import glob
import hashlib
import os
import secrets
import socket
import subprocess
import time
import urllib.request

import pytest

from helpers import REPO, ansible_env, ssh_keypair
from sim_hosts import PYTHON, SimHostError, list_hosts, sim_host

pytestmark = pytest.mark.integration

IP = '10.250.1.10'


def _ok(proc, what):
    assert proc.returncode == 0, '%s failed (exit %s):\n%s\n%s' % (what, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def _http_get(url, timeout=5):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    with opener.open(url, timeout=timeout) as resp:
        return resp.status, resp.read().decode(errors='replace')


def _pids_mentioning(text):
    pids = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmdline = f.read().replace(b'\0', b' ').decode(errors='replace')
        except OSError:
            continue
        if text in cmdline:
            pids.append((int(pid), cmdline))
    return pids


def _links():
    out = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True, check=True, timeout=30).stdout
    return [line.split(': ')[1].split('@')[0] for line in out.splitlines() if ': ' in line]


def test_sim_host_is_a_real_server(world, tmp_path):
    key = ssh_keypair(tmp_path)
    name = 'fsimt-' + secrets.token_hex(3)
    veth_prefix = 'fh' + hashlib.sha1(name.encode()).hexdigest()[:8]
    nginx = world.images['nginx'][0]

    with sim_host(name, IP, str(key) + '.pub') as host:
        assert list_hosts().get(name) == (IP, 'up')

        # real ssh: the standard socket path is the host's own engine
        out = _ok(host.ssh("docker info --format '{{.Name}} {{.DockerRootDir}}'"), 'ssh docker info')
        assert out.split() == [name, host.docker_root]
        assert _ok(host.ssh('hostname; ls -d /local'), 'ssh hostname').split() == [name, '/local']

        # Ansible runs modules there with the venv's python (the filesystem is shared)
        proc = subprocess.run(
            [os.path.join(REPO, '.venv', 'bin', 'ansible'), 'all', '-i', IP + ',', '-u', 'root',
             '--private-key', str(key), '-m', 'ansible.builtin.ping',
             '-e', 'ansible_python_interpreter=' + PYTHON],
            cwd=REPO, env=ansible_env(ANSIBLE_HOST_KEY_CHECKING='False'), capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL, check=False)
        assert proc.returncode == 0 and 'pong' in proc.stdout, proc.stdout + proc.stderr

        # the registry answers here, but not from the host: neither its loopback nor this machine
        assert _http_get('http://%s/v2/' % world.registry)[0] == 200
        port = world.registry.rsplit(':', 1)[1]
        for url in ('http://127.0.0.1:%s/v2/' % port, 'http://10.250.0.1:%s/v2/' % port):
            proc = host.ssh('curl -sS --max-time 5 -o /dev/null %s' % url, timeout=60)
            assert proc.returncode != 0, 'the host reached the registry at %s' % url
        proc = host.ssh(PYTHON + ' -c "import socket; socket.create_connection((\'127.0.0.1\', %s), 5)"' % port,
                        timeout=60)
        assert proc.returncode != 0 and 'Connection refused' in proc.stderr, proc.stderr

        # a new engine gets its images as hard links to a seed made once per machine (host.sh, "Seeds"); an
        # engine that has images gets more by docker load
        host.load_images(nginx)
        binaries = glob.glob(os.path.join(host.docker_root, 'overlay2', '*', 'diff', 'usr', 'sbin', 'nginx'))
        assert binaries and os.stat(binaries[0]).st_nlink >= 2, binaries
        redis = world.images['redis'][0]
        host.load_images(redis)
        _ok(host.ssh('docker image inspect -f ok %s %s' % (nginx, redis)), 'the images in the host')

        # a user-defined network and a published port, served to this machine
        _ok(host.ssh('docker network create %s-net && docker run -d --name %s-web --network %s-net -p 80:80 %s'
                     % (name, name, name, nginx)), 'docker run on the host')
        deadline = time.monotonic() + 60
        last = None
        while time.monotonic() < deadline:
            try:
                status, body = _http_get('http://%s/' % IP)
                if status == 200:
                    break
            except OSError as exc:
                last = exc
            time.sleep(0.5)
        else:
            pytest.fail('http://%s/ did not answer within 60 s (last: %s)' % (IP, last))
        assert 'nginx' in body.lower()
        assert any(line.startswith(veth_prefix) for line in _links())

    # down: no netns, no veth, no process, no data; the address is dead
    netns = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True, timeout=30).stdout
    assert 'fleet-' + name not in netns.split()
    assert not [link for link in _links() if link.startswith(veth_prefix)]
    assert not _pids_mentioning('fleet-hosts/%s/' % name)
    assert not _pids_mentioning('__init %s' % name)
    assert not os.path.exists(host.data_dir)
    assert name not in list_hosts()
    with pytest.raises(OSError):
        socket.create_connection((IP, 22), timeout=1).close()


def test_sim_host_refuses_bad_input(tmp_path):
    with pytest.raises(SimHostError, match='outside'):
        with sim_host('fsimt-bad', '192.0.2.10'):
            pass
    with pytest.raises(SimHostError, match='bad host name'):
        with sim_host('Bad_Name', '10.250.1.9'):
            pass
