# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The program_digest filter: the sources digest of a program the collection installs on its servers."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

PROGRAMS = ('backup', 'health')


def program_digest(name):
    """The sha256 of the sources of program ``name`` (``backup``: the scheduled backups' zip, ``health``: the
    health agent's and monitor's), as its zip's comment holds it on a server where it is current."""
    if name not in PROGRAMS:
        raise AnsibleFilterError('program_digest: no program %r; fix: one of %s' % (name, ', '.join(sorted(PROGRAMS))))
    # Imported here, not at the top: Ansible finds a collection's filter by importing every filter file of the
    # collection that sorts before it, in each task's own worker process, and the backup program imports the
    # backup engine and the Docker SDK (about 0.25 s of CPU in every task that used a later filter).
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._backup import program as backup
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._health import program as health
    return {'backup': backup, 'health': health}[name].sources_digest()


class FilterModule(object):
    def filters(self):
        return {'program_digest': program_digest}
