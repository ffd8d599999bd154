# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The project spec file: the persisted form of a ProjectDeployer, the file a playbook user writes.

Checked by the collection's own validator (``plugins/module_utils/_spec/schema.py``) before it is saved;
written atomically, 0600 (it may hold a ``git_token``), in a directory made 0700.
"""

from __future__ import annotations

import os
import sys
import tempfile

import yaml

from projectdeployer import collection
from projectdeployer.errors import EXIT_USAGE, FleetError

HEADER = ('# A projectdeployer.fleet project spec (docs/spec.md), written by the Python API or `fleet`.\n'
          '# The playbooks read it as it is:  ansible-playbook playbooks/deploy.yml -e @THIS_FILE -e fleet_env=prod\n')


def schema():
    """The collection's spec validator (importable from the collection beside this package)."""
    path = collection.import_path()
    if path not in sys.path:
        sys.path.append(path)
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import schema as spec_schema
    return spec_schema


def load(path):
    """The spec in ``path`` as a dict (FleetError with the fix when it is missing or not a spec)."""
    try:
        with open(path) as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise FleetError('%s: no such project spec; fix: create it (fleet init, or ProjectDeployer.create) or give '
                         'its path with -f/--spec' % path, exit_code=EXIT_USAGE)
    except (OSError, yaml.YAMLError) as exc:
        raise FleetError('%s: the spec cannot be read (%s); fix: correct the file (docs/spec.md)'
                         % (path, ' '.join(str(exc).split())), exit_code=EXIT_USAGE)
    if not isinstance(data, dict):
        raise FleetError('%s: a project spec is a mapping with fleet_user, fleet_project and services; fix: start from '
                         'examples/myapp.yml' % path, exit_code=EXIT_USAGE)
    data.setdefault('services', {})
    if data['services'] is None:
        data['services'] = {}
    return data


def check(spec, source, env=None, allow_no_service=False):
    """Raise the validator's first problem as a FleetError (exit 2); ``allow_no_service`` for a new project."""
    problems = schema().spec_errors(spec, source=source, env=env)
    if allow_no_service and not spec.get('services'):
        problems = [p for p in problems if p.path != 'services']
    if problems:
        raise FleetError(str(problems[0]), exit_code=EXIT_USAGE, key=problems[0].path)


def save(path, spec):
    """Write ``spec`` to ``path`` atomically, 0600 (its directory 0700 when this makes it)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        os.makedirs(folder, 0o700)
    fd, tmp = tempfile.mkstemp(prefix='.spec-', dir=folder)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(HEADER)
            yaml.safe_dump(spec, handle, default_flow_style=False, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
