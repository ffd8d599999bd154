# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy lock of a project env, as Kamal's: one holder at a time, with a message saying why.

``{controller root}/{user}/{project}/{env}/config/fleet.lock`` (JSON: holder, host, pid, message, since),
created with O_EXCL so two commands cannot both take it. A command holds it for its run (pid set) and
releases it at the end; ``fleet lock acquire -m MSG`` holds it until ``fleet lock release``. A command's
lock whose process is gone (same host) is stale and taken over.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import time

from projectdeployer.errors import EXIT_FAILED, FleetError


def path_of(controller_root, user, project, env):
    return os.path.join(controller_root, user, project, env, 'config', 'fleet.lock')


def holder():
    return '%s@%s' % (getpass.getuser(), socket.gethostname())


def read(path):
    """The lock's record, or None when nobody holds it."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {'holder': '?', 'message': 'an unreadable lock file (%s)' % path, 'since': os.path.getmtime(path)}


def describe(record):
    when = time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(record.get('since', 0)))
    pid = ' (pid %s)' % record['pid'] if record.get('pid') else ''
    return 'held by %s since %s%s: %s' % (record.get('holder', '?'), when, pid, record.get('message') or 'no message')


def _stale(record):
    if not record.get('pid') or record.get('host') != socket.gethostname():
        return False
    try:
        os.kill(int(record['pid']), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def acquire(path, message, pid=None):
    """Take the lock (``pid``: for this command's run only); FleetError naming the holder when it is held."""
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    record = {'holder': holder(), 'host': socket.gethostname(), 'pid': pid, 'message': message, 'since': time.time()}
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            held = read(path)
            if held is not None and _stale(held):
                os.unlink(path)
                continue
            if held is None:
                continue
            raise FleetError('the deploy lock of %s is %s; fix: wait for it, or run `fleet lock release` if that '
                             'run is gone' % (_env_of(path), describe(held)), exit_code=EXIT_FAILED)
        with os.fdopen(fd, 'w') as handle:
            json.dump(record, handle)
        return record
    raise FleetError('the deploy lock of %s could not be taken (%s changes under it); fix: try again'
                     % (_env_of(path), path), exit_code=EXIT_FAILED)


def release(path, pid=None):
    """Give the lock back (only this run's when ``pid`` is given); True when one was released."""
    record = read(path)
    if record is None or (pid is not None and record.get('pid') != pid):
        return False
    os.unlink(path)
    return True


def _env_of(path):
    parts = os.path.abspath(path).split(os.sep)
    return '/'.join(parts[-5:-2])
