# SPDX-License-Identifier: GPL-3.0-or-later
"""Simulated servers ("hosts") of the test world, for integration tests.

A host is what ``tests/world/host.sh up NAME IP`` makes: a network namespace with ``IP`` on the
bridge ``fleetpub0`` (10.250.0.0/16; this machine is 10.250.0.1), its own dockerd (socket
``unix:///run/fleet-hosts/NAME/docker.sock``, seen as /var/run/docker.sock inside the host), its
own sshd on port 22 (root, keys only) and its own /local. Hosts reach each other and answer this
machine, nothing else (no registry, no internet): give them images with ``load_images``.

- ``sim_host(name, ip, authorized_key_path, private=(), keep_data=False)``: context manager that
  brings the host up and always takes it down again (also when ``up`` failed half-way); yields a
  ``SimHost``.
- ``sim_host_factory``: a pytest fixture (import it into the test module) whose value is a
  function ``make(name, ip, authorized_key_path, private=())`` that brings hosts up and takes
  them all down at teardown.
- ``up``, ``down``, ``list_hosts``, ``load_images``: the script's commands; a failure raises
  ``SimHostError`` carrying the script's output (which names the log).

Names: lowercase letters, digits and ``-``. IPs: inside 10.250.0.0/16, not 10.250.0.1; pick ones
unlikely to clash with other tests (``up`` refuses an IP a running host already has).
"""
import contextlib
import dataclasses
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HOST_SH = os.path.join(REPO, 'tests', 'world', 'host.sh')
DATA_DIR = os.environ.get('FLEET_HOSTS_DATA_DIR', '/var/lib/fleet-hosts')
RUN_DIR = os.environ.get('FLEET_HOSTS_RUN_DIR', '/run/fleet-hosts')
LOG_DIR = os.environ.get('FLEET_WORLD_LOG_DIR', '/var/log/fleet-world')
GATEWAY = '10.250.0.1'
PYTHON = os.path.join(REPO, '.venv', 'bin', 'python')  # ansible_python_interpreter on hosts

UP_TIMEOUT = 150     # the script bounds its own waits (engine 60 s, sshd 10 s)
DOWN_TIMEOUT = 120   # stop 35 s + kill 10 s + removal of the data
LOAD_TIMEOUT = 900

SSH_OPTIONS = (
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
)

# An ICMP echo with a raw socket (the hosts share this machine's userland, which has no ping):
# `python3 -c PING_PY IP` (or the script on stdin) exits 0 on an echo reply from IP, 1 otherwise.
PING_PY = r'''
import os, socket, struct, sys, time
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
ip, ident = sys.argv[1], os.getpid() & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
for seq in (1, 2, 3):
    payload = b'fleet-ping'
    head = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    s.sendto(struct.pack('!BBHHH', 8, 0, csum(head + payload), ident, seq) + payload, (ip, 0))
    deadline = time.time() + 2
    while time.time() < deadline:
        try:
            data, addr = s.recvfrom(1024)
        except socket.timeout:
            break
        ihl = (data[0] & 0xf) * 4
        t, _, _, i, q = struct.unpack('!BBHHH', data[ihl:ihl + 8])
        if t == 0 and i == ident and addr[0] == ip:
            print('reply from %s seq %d' % (ip, q))
            sys.exit(0)
sys.exit(1)
'''


class SimHostError(RuntimeError):
    """host.sh failed; the message carries its output."""


@dataclasses.dataclass
class SimHost:
    name: str
    ip: str
    key: str = None  # private key that the host accepts (authorized_key_path without .pub)

    @property
    def data_dir(self):
        return os.path.join(DATA_DIR, self.name)

    @property
    def docker_root(self):
        return os.path.join(self.data_dir, 'docker')

    @property
    def local_dir(self):
        """This machine's path of the host's /local."""
        return os.path.join(self.data_dir, 'local')

    @property
    def docker_host(self):
        """DOCKER_HOST / docker.DockerClient(base_url=...) of the host's engine, from here."""
        return 'unix://' + os.path.join(RUN_DIR, self.name, 'docker.sock')

    @property
    def netns(self):
        return 'fleet-' + self.name

    def logs(self):
        return [os.path.join(LOG_DIR, 'host-%s%s.log' % (self.name, s)) for s in ('', '-dockerd', '-sshd')]

    def ssh_argv(self, command, key=None):
        key = key or self.key
        assert key, 'no private key for %s' % self.name
        return ['ssh', '-i', key] + list(SSH_OPTIONS) + ['root@' + self.ip, command]

    def ssh(self, command, key=None, timeout=120, check=False):
        """Run ``command`` (a shell string) on the host over real ssh; CompletedProcess, text."""
        return subprocess.run(self.ssh_argv(command, key), capture_output=True, text=True,
                              timeout=timeout, check=check, stdin=subprocess.DEVNULL)

    def load_images(self, *images):
        load_images(self.name, *images)

    def restart_docker(self):
        """Restart the host's dockerd (as `systemctl restart docker`); returns when it answers again."""
        _run(['restart-docker', self.name], DOWN_TIMEOUT + UP_TIMEOUT)


def _run(args, timeout):
    try:
        proc = subprocess.run(['bash', HOST_SH] + list(args), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SimHostError('host.sh %s: no answer within %s s (logs: %s/host-*.log)'
                           % (' '.join(args), timeout, LOG_DIR)) from exc
    if proc.returncode != 0:
        raise SimHostError('host.sh %s failed (exit %s):\n%s%s'
                           % (' '.join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


def up(name, ip, authorized_keys=(), private=()):
    """Bring host ``name`` up at ``ip``; ``private``: ("bridge:ip[/len]", ...)."""
    if isinstance(authorized_keys, (str, os.PathLike)):
        authorized_keys = [authorized_keys]
    args = ['up', name, ip]
    for spec in private:
        args += ['--private', spec]
    for key in authorized_keys:
        args += ['--authorized-key', os.fspath(key)]
    _run(args, UP_TIMEOUT)
    return SimHost(name, ip.split('/')[0])


def down(name, keep_data=False):
    _run(['down', name] + (['--keep-data'] if keep_data else []), DOWN_TIMEOUT)


def load_images(name, *images):
    _run(['load-images', name] + list(images), LOAD_TIMEOUT)


def list_hosts():
    """{name: (public_ip, status)} with status up, degraded or down (data kept)."""
    hosts = {}
    for line in _run(['list'], 60).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            hosts[parts[0]] = (parts[1], parts[2])
    return hosts


def _private_key(authorized_key_path):
    if authorized_key_path is None:
        return None
    path = os.fspath(authorized_key_path)
    return path[:-4] if path.endswith('.pub') else None


@contextlib.contextmanager
def sim_host(name, ip, authorized_key_path=None, private=(), keep_data=False):
    """A simulated host for the ``with`` block; taken down (bounded) whatever happens."""
    try:
        host = up(name, ip, [authorized_key_path] if authorized_key_path else [], private)
    except BaseException:
        with contextlib.suppress(Exception):
            down(name, keep_data=keep_data)  # up cleans after itself; this is belt and braces
        raise
    host.key = _private_key(authorized_key_path)
    try:
        yield host
    finally:
        down(name, keep_data=keep_data)


@pytest.fixture
def sim_host_factory():
    """make(name, ip, authorized_key_path, private=()) -> SimHost; all taken down at teardown."""
    stack = contextlib.ExitStack()

    def make(name, ip, authorized_key_path=None, private=()):
        return stack.enter_context(sim_host(name, ip, authorized_key_path, private))

    with stack:
        yield make
