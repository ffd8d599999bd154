# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The secret_lines filter: ansible.builtin.find's files of a secrets folder as lines for people."""

from __future__ import annotations

import os
import time

SAFE_MODES = ('0600', '0400')


def _age(mtime, now):
    days = int(max(0, now - mtime) // 86400)
    return 'today' if days == 0 else '%d day%s ago' % (days, '' if days == 1 else 's')


def secret_lines(files, vaulted=(), now=None):
    """``name  mode  changed N days ago``, A-Z, with a warning on a mode others can read and ``ansible-vault``
    after the files whose paths are in ``vaulted``; never a value."""
    now = time.time() if now is None else now
    if not files:
        return ['no secrets here']
    root = os.path.commonpath([os.path.dirname(f['path']) for f in files])
    lines = []
    for entry in sorted(files, key=lambda f: f['path']):
        name = os.path.relpath(entry['path'], root)
        mode = entry.get('mode', '?')
        line = '%-40s %s  changed %s' % (name, mode, _age(entry.get('mtime', now), now))
        if entry['path'] in vaulted:
            line += '  ansible-vault'
        if mode not in SAFE_MODES:
            line += '  ⚠ readable by others: chmod 600 %s' % entry['path']
        lines.append(line)
    return lines


class FilterModule(object):
    def filters(self):
        return {'secret_lines': secret_lines}
