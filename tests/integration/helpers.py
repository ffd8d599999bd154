# SPDX-License-Identifier: GPL-3.0-or-later
"""Run real ansible-playbook processes against the collection checkout."""
import http.client
import json
import os
import random
import re
import resource
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def ansible_env(**extra):
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': os.path.join(REPO, 'ansible.cfg'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        # ansible-core's ssh arguments without -C: the simulated hosts are on this machine, where compressing
        # image archives on their way (zlib, 7 s of CPU per 150 MB) only costs the CPU-bound suite
        'ANSIBLE_SSH_ARGS': '-o ControlMaster=auto -o ControlPersist=60s',
        'PATH': BIN + os.pathsep + env.get('PATH', ''),
    })
    env.update(extra)
    return env


def remove_tenant_firewall(user, project, env='prod'):
    """Remove a tenant's host firewall rules from this machine (a test's cleanup when it removes the tenant by
    hand): left behind, their DROP would meet a later test's tenant that got the same host port."""
    import fcntl
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._firewall import rules
    tenant = rules.tenant_name(user, project, env)
    fd = os.open(rules.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)  # the module's lock
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        table = subprocess.run(['iptables-save', '-t', 'filter'], capture_output=True, text=True, check=True).stdout
        batch = rules.restore_batch(rules.parse_save(table), tenant, {})
        if batch:
            subprocess.run(['iptables-restore', '--noflush'], input=batch, text=True, capture_output=True, check=True)
    finally:
        os.close(fd)


def remove_edge(name):
    """Remove a test's edge container and its network."""
    subprocess.run(['docker', 'rm', '-f', name], capture_output=True, check=False)
    subprocess.run(['docker', 'network', 'rm', name + '_net'], capture_output=True, check=False)


def run_playbook(playbook, *args, cwd=REPO, env=None, timeout=600, json_output=False):
    """Run ``ansible-playbook`` and return the CompletedProcess (stdout and stderr as text)."""
    extra = {'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json'} if json_output else {}
    extra.update(env or {})
    cmd = [os.path.join(BIN, 'ansible-playbook'), playbook] + list(args)
    started, cpu = time.monotonic(), _children_cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=ansible_env(**extra), capture_output=True, text=True, check=False,
                          timeout=timeout)
    log_playbook_run(playbook, time.monotonic() - started, _children_cpu() - cpu, proc.stdout)
    return proc


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def log_playbook_run(playbook, seconds, cpu, output):
    """One JSON line per playbook run to ``$FLEET_PLAYBOOK_LOG`` when set (tests/run.sh sets it; tests/durations.py
    sums it up): the test, the playbook, its wall and CPU seconds (its process tree's; roughly, when a test runs
    other processes beside it) and how many tasks ran on a host (``ok``+``changed``+``failed`` of the recap)."""
    path = os.environ.get('FLEET_PLAYBOOK_LOG')
    if not path:
        return
    recap = (output or '').split('PLAY RECAP')[-1]
    tasks = sum(int(n) for n in re.findall(r'(?:ok|failed)=(\d+)', recap))
    row = dict(test=os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0], playbook=os.path.basename(str(playbook)),
               seconds=round(seconds, 2), cpu=round(cpu, 2), tasks=tasks)
    with open(path, 'a', encoding='utf-8') as log:
        log.write(json.dumps(row) + '\n')


def task_results(proc, task_name):
    """Results of the task named ``task_name`` from an ansible.posix.json run, per host."""
    data = json.loads(proc.stdout)
    for play in data['plays']:
        for task in play['tasks']:
            if task['task']['name'] == task_name:
                return task['hosts']
    raise AssertionError('no task %r in the run' % task_name)


def recap_changed(output):
    """The sum of ``changed=N`` in the PLAY RECAP of an ansible-playbook output."""
    return sum(int(n) for n in re.findall(r'changed=(\d+)', output.split('PLAY RECAP')[-1]))


def changed_tasks(output):
    """``[(task name, host), ...]`` of every task an ansible-playbook output reports changed, in order."""
    found = []
    for block in output.split('\nTASK [')[1:]:
        name = block.split(']', 1)[0]
        hosts = re.findall(r'^changed: \[([^\]\s]+)', block, re.M)
        found.extend((name, host) for host in sorted(set(hosts)))
    return found


def task_hosts(output, name):
    """The hosts an ansible-playbook output shows running task ``name`` (ok, changed or failed: not skipped)."""
    hosts = set()
    for block in output.split('\nTASK [')[1:]:
        if block.split(']', 1)[0] == name:
            hosts.update(re.findall(r'^(?:ok|changed|failed|fatal): \[([^\]\s]+)', block, re.M))
    return sorted(hosts)


# pytest-xdist runs integration tests in several workers at once (docs/testing.md): each worker owns
# its own block of simulated-host addresses, so tests running at once never ask for the same one.
MAX_WORKERS = 8


def worker_index():
    """0 for ``gw0`` (and without xdist), 1 for ``gw1``, ..."""
    name = os.environ.get('PYTEST_XDIST_WORKER', 'gw0')
    index = int(name[2:]) if name.startswith('gw') and name[2:].isdigit() else 0
    assert index < MAX_WORKERS, 'at most %d pytest-xdist workers have address blocks (%s)' % (MAX_WORKERS, name)
    return index


def host_ips(count):
    """``count`` distinct addresses for tests/world/host.sh hosts on 10.250.0.0/16 from this worker's block
    (third octets 40 + 20 * worker ... + 19; the DigitalOcean simulator's droplets use 201-250)."""
    third = 40 + 20 * worker_index() + random.randrange(20)
    return ['10.250.%d.%d' % (third, last) for last in random.sample(range(2, 251), count)]


def sim_public_range():
    """The public addresses of this worker's DigitalOcean simulators' droplets (``--public-range``)."""
    third = 201 + 6 * worker_index()
    return '10.250.%d.1-10.250.%d.254' % (third, third + 5)


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def ssh_host_vars(key):
    """Inventory variables of a simulated host reached as root with the private key ``key`` (host keys unchecked:
    each host is new)."""
    return {'ansible_user': 'root', 'ansible_ssh_private_key_file': str(key),
            'ansible_python_interpreter': sys.executable,
            'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'}


def ssh_keypair(directory):
    """A new passphrase-less ed25519 key pair in ``directory`` (private key 0600); returns the private key's path."""
    key = os.path.join(str(directory), 'id_ed25519')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'fleet-test', '-f', key],
                   check=True, timeout=30, stdin=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return key


class SteadyLoad(object):
    """GET ``url`` with ``Host: host`` over a new connection ``rate`` times a second in a thread,
    until ``stop()`` (or the end of a ``with`` block) or ``max_seconds``; counts answers by status
    and failures (socket errors)."""

    def __init__(self, address, host, path='/', rate=20, max_seconds=1500, timeout=10, port=80):
        self.address, self.host, self.path, self.port = address, host, path, port
        self.interval, self.max_seconds, self.timeout = 1.0 / rate, max_seconds, timeout
        self.statuses, self.errors = {}, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self):
        conn = http.client.HTTPConnection(self.address, self.port, timeout=self.timeout)
        try:
            conn.request('GET', self.path, headers={'Host': self.host, 'Connection': 'close'})
            resp = conn.getresponse()
            resp.read()
            self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
        except (OSError, http.client.HTTPException) as exc:
            self.errors.append('%s: %s' % (type(exc).__name__, exc))
        finally:
            conn.close()

    def _run(self):
        deadline = time.monotonic() + self.max_seconds
        next_at = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._one()
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(self.timeout + 5)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def total(self):
        return sum(self.statuses.values()) + len(self.errors)

    @property
    def failed(self):
        return sum(n for status, n in self.statuses.items() if status != 200) + len(self.errors)

    def summary(self):
        return 'requests %d, by status %s, socket errors %d %s' % (
            self.total, self.statuses, len(self.errors), self.errors[:5])


def served_certificate(address, name, cafile):
    """The certificate (DER) and its DNS names that ``address``:443 serves for ``name`` (SNI), checked against
    ``cafile``."""
    import ssl
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((address, 443), timeout=15) as sock:
        with context.wrap_socket(sock, server_hostname=name) as tls:
            der = tls.getpeercert(binary_form=True)
            names = [value for kind, value in tls.getpeercert()['subjectAltName'] if kind == 'DNS']
    return der, names
