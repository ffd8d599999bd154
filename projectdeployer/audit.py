# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who ran what on a project env: ``{controller root}/{user}/{project}/{env}/monitoring/audit.jsonl``.

One JSON line per ``fleet`` command that changes something: when, who (user@host), the command line, how it
ended and how long it took. Arguments are the command's own (no secret is ever one: secrets live in files).
"""

from __future__ import annotations

import json
import os
import time

from projectdeployer.lock import holder


def path_of(controller_root, user, project, env):
    return os.path.join(controller_root, user, project, env, 'monitoring', 'audit.jsonl')


def record(path, argv, outcome, seconds):
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    line = {'at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'who': holder(), 'command': ' '.join(argv),
            'outcome': outcome, 'seconds': round(seconds, 1)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, 'a') as handle:
        handle.write(json.dumps(line) + '\n')


def read(path, limit=20):
    """The last ``limit`` records, oldest first."""
    try:
        with open(path) as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        return []
    found = []
    for line in lines[-limit:]:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found
