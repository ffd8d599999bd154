# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's ``add_*`` arguments as a spec's service entry.

Only what differs from the spec's defaults is written (the file stays the one a person would write);
every key goes to the collection's validator unchanged, so an unknown or wrong one is refused there
with its fix, before the file is saved.
"""

from __future__ import annotations

import os

from projectdeployer import spec_file

PATH_KEYS = ('build_context', 'dockerfile')


def entry(service_type, values):
    """The service entry of ``service_type`` for the given seed arguments (None and defaults left out)."""
    schema = spec_file.schema()
    defaults = dict((key, spec.default) for key, spec in schema.SERVICE_KEYS.items())
    defaults.update(schema.type_defaults(service_type))
    found = {'type': service_type}
    for key, value in values.items():
        if value is None or (key in defaults and value == defaults[key]):
            continue
        if key in PATH_KEYS and not values.get('git_repo') and not os.path.isabs(value):
            value = os.path.abspath(value)   # the spec file may be read from another directory
        found[key] = value
    return found


def updated(current, values):
    """``current`` with ``values`` set (None removes a key, as the seed's update_service(name, key=None))."""
    result = dict(current)
    for key, value in values.items():
        if value is None:
            result.pop(key, None)
        else:
            if key in PATH_KEYS and not (values.get('git_repo') or current.get('git_repo')) and not os.path.isabs(value):
                value = os.path.abspath(value)
            result[key] = value
    return result
