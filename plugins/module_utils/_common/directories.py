# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A tree of directories with their modes, made in one step (the project layout of DESIGN.md section 3)."""

from __future__ import annotations

import os
import stat

# {fleet_root}/{user}/{project}/{env}/: the seed's layout; secrets and backups are the tenant's alone
PROJECT_LAYOUT = (
    ('config', 0o755), ('config/deploy', 0o755), ('config/nginx', 0o755), ('secrets', 0o700), ('files', 0o755),
    ('data', 0o755), ('logs', 0o755), ('backups', 0o700), ('monitoring', 0o755))


def check_layout(layout):
    """``layout`` as ``[(relative path, mode)]``; a path leaving the base or a bad mode is refused."""
    out = []
    for name, mode in layout:
        parts = str(name).split('/')
        if not name or name.startswith('/') or any(p in ('', '.', '..') for p in parts):
            raise ValueError("directories: '%s' is not a relative path inside the base; fix: name a subdirectory" % name)
        if isinstance(mode, str):
            try:
                mode = int(mode, 8)
            except ValueError:
                raise ValueError("directories: mode '%s' of %s is not octal; fix: write it like '0755'" % (mode, name))
        if not 0 <= int(mode) <= 0o7777:
            raise ValueError("directories: mode %o of %s is out of range" % (mode, name))
        out.append((name, int(mode)))
    return out


def plan(base, layout):
    """What to do: ``[(path, mode, 'create' | 'chmod')]`` for the base (0755 when made) and each entry."""
    todo = []
    for path, mode in [(base, None)] + [(os.path.join(base, name), mode) for name, mode in layout]:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            todo.append((path, 0o755 if mode is None else mode, 'create'))
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise ValueError('%s exists and is not a directory; fix: move it away' % path)
        if mode is not None and stat.S_IMODE(st.st_mode) != mode:
            todo.append((path, mode, 'chmod'))
    return todo


def apply(todo):
    """Carry out ``plan``'s steps (parents first, as planned); a directory made meanwhile is fine."""
    for path, mode, action in todo:
        if action == 'create':
            os.makedirs(path, mode=mode, exist_ok=True)
        os.chmod(path, mode)  # makedirs' mode is filtered by the umask
