# SPDX-License-Identifier: GPL-3.0-or-later
"""What a droplet runs on: real hosts through tests/world/host.sh, or fake ones.

Both back-ends run the operations on one host strictly in the order they were asked for (a
destroy asked while the host is still starting runs after the start), each host in its own
worker thread, and call ``callback(ok, error_text)`` when an operation is over. ``wait_idle``
waits for every queued operation.

- ``ShellHosts``: ``bash host.sh up NAME IP/16 --private BRIDGE:IP/LEN --authorized-key FILE``
  (tried twice when it fails), ``down NAME [--keep-data]`` and ``bridge-down BRIDGE``; at most
  ``max_parallel`` starts at once. VPC peerings: ``peer BRIDGE_A:GW_A/LEN BRIDGE_B:GW_B/LEN
  --router ID`` and ``unpeer BRIDGE_A BRIDGE_B``, in order on one queue per router (host.sh
  itself adds the routes to the hosts that are up and to every host started later, under each
  host's lock, so these need no ordering with the hosts' own queues).
- ``FakeHosts``: no process at all; a start (and a peering change) takes ``boot_seconds``. For
  fast tests of the API.
"""
import collections
import logging
import os
import subprocess
import threading
import time

LOG = logging.getLogger('do_sim.hosts')

LOAD_TIMEOUT = 600   # host.sh load-images: docker save | the host's docker load
UP_TIMEOUT = 180     # host.sh bounds its own waits: engine 60 s, sshd 10 s, locks 120 s
DOWN_TIMEOUT = 150   # stop 35 s + kill 10 s + removal of the data
BRIDGE_TIMEOUT = 90
PEER_TIMEOUT = 300   # host.sh: network lock 60 s, then each host's lock (120 s at most, seldom held)


class _Serial:
    """Per-key FIFO queues, each drained by its own thread while it has work."""

    def __init__(self):
        self._lock = threading.Condition()
        self._queues = {}
        self._pending = 0

    def submit(self, key, fn, callback):
        with self._lock:
            q = self._queues.get(key)
            start = q is None
            if start:
                q = self._queues[key] = collections.deque()
            q.append((fn, callback))
            self._pending += 1
        if start:
            threading.Thread(target=self._drain, args=(key,), name='host-%s' % key, daemon=True).start()

    def _drain(self, key):
        while True:
            with self._lock:
                q = self._queues[key]
                if not q:
                    del self._queues[key]
                    self._lock.notify_all()
                    return
                fn, callback = q[0]
            try:
                ok, err = fn()
            except Exception as exc:  # noqa: BLE001 - reported through the callback
                LOG.exception('host operation on %s failed', key)
                ok, err = False, '%s: %s' % (type(exc).__name__, exc)
            try:
                if callback is not None:
                    callback(ok, err)
            except Exception:  # noqa: BLE001
                LOG.exception('callback of a host operation on %s failed', key)
            with self._lock:
                q.popleft()
                self._pending -= 1
                self._lock.notify_all()

    def pending(self, keys=None):
        with self._lock:
            if keys is None:
                return self._pending
            return sum(len(self._queues.get(k, ())) for k in keys)

    def wait_idle(self, timeout, keys=None):
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.pending(keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 1.0))
            return True


class ShellHosts:
    kind = 'real'

    def __init__(self, host_sh, max_parallel=4, env=None, images=()):
        self.host_sh = host_sh
        self.env = env
        self.images = list(images)
        self._serial = _Serial()
        self._starts = threading.BoundedSemaphore(max_parallel)

    def _run(self, args, timeout):
        LOG.info('host.sh %s', ' '.join(args))
        start = time.monotonic()
        try:
            proc = subprocess.run(['bash', self.host_sh] + list(args), capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL, check=False, env=self.env)
        except subprocess.TimeoutExpired:
            LOG.error('host.sh %s: no answer within %s s', ' '.join(args), timeout)
            return False, 'host.sh %s: no answer within %s s' % (' '.join(args), timeout)
        out = (proc.stdout + proc.stderr).strip()
        took = time.monotonic() - start
        if proc.returncode != 0:
            LOG.error('host.sh %s failed (exit %s, %.1f s): %s', ' '.join(args), proc.returncode, took, out)
            return False, out[-2000:] or 'exit %s' % proc.returncode
        LOG.info('host.sh %s ok (%.1f s)%s', ' '.join(args), took, (': ' + out.splitlines()[-1]) if out else '')
        return True, None

    def up(self, name, public_cidr, private_specs, keys_file, callback):
        args = ['up', name, public_cidr]
        for spec in private_specs:
            args += ['--private', spec]
        if keys_file and os.path.exists(keys_file) and os.path.getsize(keys_file) > 0:
            args += ['--authorized-key', keys_file]

        def op():
            with self._starts:
                ok, err = self._run(args, UP_TIMEOUT)
                if not ok and 'belongs to running host' not in (err or ''):
                    # host.sh up cleans up after a failed start; one more try hides a flaky
                    # start of the test world (seen: sshd not reachable within 10 s under load)
                    LOG.warning('host %s did not start; trying once more', name)
                    ok, err = self._run(args, UP_TIMEOUT)
                if ok and self.images:
                    ok, err = self._run(['load-images', name] + self.images, LOAD_TIMEOUT)
                return ok, err
        self._serial.submit(name, op, callback)

    def down(self, name, keep_data, callback):
        # an orderly shutdown even for a destroy: host.sh down --abrupt can kill a host's SSH command
        # inside this machine's shared /root/.bashrc (pyenv rehash) and leave its lock stale
        args = ['down', name] + (['--keep-data'] if keep_data else [])
        self._serial.submit(name, lambda: self._run(args, DOWN_TIMEOUT), callback)

    def bridge_down(self, bridge, host_names, callback=None):
        """Delete a VPC's bridge once the hosts ``host_names`` have no operation queued."""
        def op():
            self._serial.wait_idle(DOWN_TIMEOUT + 30, keys=list(host_names))
            return self._run(['bridge-down', bridge], BRIDGE_TIMEOUT)
        self._serial.submit('bridge:' + bridge, op, callback)

    def peer(self, router, spec_a, spec_b, callback):
        """Route between two VPC bridges (``spec``: BRIDGE:GW/LEN) through router ``router``."""
        args = ['peer', spec_a, spec_b, '--router', router]
        self._serial.submit('router:' + router, lambda: self._run(args, PEER_TIMEOUT), callback)

    def unpeer(self, router, bridge_a, bridge_b, callback):
        args = ['unpeer', bridge_a, bridge_b]
        self._serial.submit('router:' + router, lambda: self._run(args, PEER_TIMEOUT), callback)

    def pending(self):
        return self._serial.pending()

    def wait_idle(self, timeout):
        return self._serial.wait_idle(timeout)


class FakeHosts:
    kind = 'fake'

    def __init__(self, boot_seconds=1.0):
        self.boot_seconds = boot_seconds
        self._serial = _Serial()

    def up(self, name, public_cidr, private_specs, keys_file, callback):
        def op():
            time.sleep(self.boot_seconds)
            return True, None
        self._serial.submit(name, op, callback)

    def down(self, name, keep_data, callback):
        self._serial.submit(name, lambda: (True, None), callback)

    def bridge_down(self, bridge, host_names, callback=None):
        self._serial.submit('bridge:' + bridge, lambda: (True, None), callback)

    def _slow(self):
        time.sleep(self.boot_seconds)
        return True, None

    def peer(self, router, spec_a, spec_b, callback):
        self._serial.submit('router:' + router, self._slow, callback)

    def unpeer(self, router, bridge_a, bridge_b, callback):
        self._serial.submit('router:' + router, self._slow, callback)

    def pending(self):
        return self._serial.pending()

    def wait_idle(self, timeout):
        return self._serial.wait_idle(timeout)
