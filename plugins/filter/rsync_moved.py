# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rsync_moved filter: the files a looped ansible.posix.synchronize moved, as ``folder/path`` lines."""

from __future__ import annotations


def rsync_moved(results):
    """``folder/path`` for each file rsync itemised (``<f+++++++++ path``) in ``results`` (a registered loop over
    folders, ``item.item`` naming each), directories left out; ``['nothing changed']`` when none moved."""
    moved = []
    for result in results or ():
        folder = result.get('item', {}).get('item', '') if isinstance(result.get('item'), dict) else result.get('item')
        for line in result.get('stdout_lines') or ():
            if not line or ' ' not in line or line.startswith('.d') or line[1:2] == 'd':
                continue
            moved.append('%s/%s' % (folder, line.split(' ', 1)[1]))
    return moved or ['nothing changed']


class FilterModule(object):
    def filters(self):
        return {'rsync_moved': rsync_moved}
