# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tls_failures filter: certificates that could not be had, as lines a person reads."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.projectdeployer.fleet.plugins.module_utils._tls.failure import failure_lines


def tls_failures(failed, rows=None):
    try:
        return failure_lines(failed, rows or ())
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('tls_failures: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'tls_failures': tls_failures}
