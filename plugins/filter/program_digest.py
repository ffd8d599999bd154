# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The program_digest filter: the sources digest of a program the collection installs on its servers."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import program as backup_program

PROGRAMS = {'backup': backup_program.sources_digest}


def program_digest(name):
    """The sha256 of the sources of program ``name`` (``backup``: the scheduled backups' zip), as its zip's
    comment holds it on a server where it is current."""
    if name not in PROGRAMS:
        raise AnsibleFilterError('program_digest: no program %r; fix: one of %s' % (name, ', '.join(sorted(PROGRAMS))))
    return PROGRAMS[name]()


class FilterModule(object):
    def filters(self):
        return {'program_digest': program_digest}
