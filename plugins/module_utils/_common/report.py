# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lines for people: what the ``report`` action shows, and when it shows them itself.

A task result is printed by the stdout callback in its result format: with Ansible's defaults a
multi-line string is one JSON string full of ``\\n``, so tables and failure blocks are unreadable
unless the user configured ``callback_result_format = yaml``. The ``report`` action prints its
lines itself (as ``ansible.builtin.pause`` prints its prompt), except when the stdout callback
writes a machine format (JSON), whose output a second writer would break; the lines are in the
result (``lines``) either way.
"""

from __future__ import annotations

# stdout callbacks whose output is a document for programs: nothing else may be written to stdout
MACHINE_CALLBACKS = ('json', 'jsonl', 'ansible.posix.json', 'ansible.posix.jsonl', 'community.general.json',
                     'junit', 'ansible.posix.junit', 'community.general.junit')


def shows_text(callback):
    """Whether the report action prints its lines under the stdout callback named ``callback``."""
    name = (callback or 'default').strip()
    return name not in MACHINE_CALLBACKS and not name.endswith(('.json', '.jsonl'))


def report_lines(value):
    """``value`` (a string or a list of strings, lines possibly holding newlines) as a list of lines."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError('lines must be a string or a list of strings, got %s' % type(value).__name__)
    lines = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError('lines must be a string or a list of strings, got an item of type %s'
                             % type(item).__name__)
        lines.extend(item.rstrip('\n').split('\n'))
    return lines
