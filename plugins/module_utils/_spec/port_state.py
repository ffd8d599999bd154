# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The persisted port assignments: a JSON file guarded by an exclusive lock.

Layout::

    {"version": 1,
     "host": {"u1_myapp_prod_api_8000": 8357, ...},
     "internal": {"u1_myapp_prod": {"u1_myapp_prod_api_internal": 5234, ...}, ...}}

Written atomically (temporary file, fsync, rename) with mode 0600 in a 0700
directory, so a run killed half-way leaves the previous state intact.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile

STATE_VERSION = 1


def empty_state():
    return {'version': STATE_VERSION, 'host': {}, 'internal': {}}


def _read(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return empty_state()
    except ValueError as exc:
        raise ValueError('port state %s is not valid JSON (%s): restore it from a backup '
                         'or remove it to reassign ports from their hashes' % (path, exc))
    if not isinstance(data, dict) or data.get('version') != STATE_VERSION:
        raise ValueError('port state %s has an unknown layout (expected version %d)' % (path, STATE_VERSION))
    data.setdefault('host', {})
    data.setdefault('internal', {})
    return data


def _write(path, data):
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.ports.', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked_state(path, write=True):
    """Yield the state dict under an exclusive lock; write it back if it changed."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700, exist_ok=True)
    with open(path + '.lock', 'a') as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            data = _read(path)
            before = json.dumps(data, sort_keys=True)
            yield data
            if write and json.dumps(data, sort_keys=True) != before:
                _write(path, data)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
