# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One lock per project env on a server: a deploy step and the healer never act on its containers at once.

``toggle_deploy`` and ``tenant_remove`` hold it (``held``: waits, bounded) while they start, stop or
remove containers; the health agent and monitor only try it (``attempt``) and leave the env alone for
this round when a deploy holds it. It is ``flock`` on ``{state_dir}/.lock`` (config/deploy/), so a
process that dies lets it go.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time

WAIT_SECONDS = 300


class LockBusy(Exception):
    pass


def _open(state_dir):
    return os.open(os.path.join(state_dir, '.lock'), os.O_RDWR | os.O_CREAT, 0o600)


@contextlib.contextmanager
def held(state_dir, wait=WAIT_SECONDS, clock=time):
    """Hold the lock (no-op without ``state_dir`` or when it does not exist yet: nothing there to heal);
    LockBusy after ``wait`` seconds."""
    if not state_dir or not os.path.isdir(state_dir):
        yield
        return
    fd = _open(state_dir)
    try:
        deadline = clock.time() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if clock.time() >= deadline:
                    raise LockBusy('%s is locked by another deploy or the health agent for more than %d s'
                                   % (state_dir, wait))
                clock.sleep(0.2)
        yield
    finally:
        os.close(fd)


def attempt(state_dir):
    """A context giving True holding the lock, or False at once when someone else holds it (True without
    ``state_dir``)."""
    if not os.path.isdir(state_dir):
        return contextlib.nullcontext(True)
    return try_flock(os.path.join(state_dir, '.lock'))


@contextlib.contextmanager
def try_flock(path):
    """Yield True holding ``flock`` on ``path`` (made 0600 when missing), or False at once when another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
