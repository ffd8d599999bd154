# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exception the Python API raises, and the exit codes of the ``fleet`` command."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1      # an operation ran and failed (a deploy, a restore, ...)
EXIT_USAGE = 2       # bad arguments or a bad spec: nothing was touched


class FleetError(Exception):
    """A failed operation or a refused spec: ``str(error)`` is the one line the playbooks print (with its fix).

    ``exit_code`` is what ``fleet`` exits with (:data:`EXIT_FAILED` or :data:`EXIT_USAGE`); ``playbook`` the
    playbook that failed, if one ran; ``key`` the spec key a spec error names.
    """

    def __init__(self, message, exit_code=EXIT_FAILED, playbook=None, key=None):
        super(FleetError, self).__init__(message)
        self.message, self.exit_code, self.playbook, self.key = message, exit_code, playbook, key

    def __str__(self):
        return self.message
