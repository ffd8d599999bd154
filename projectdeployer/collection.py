# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the collection this package drives is: its playbooks, inventories and ansible.cfg.

In a checkout or an ``ansible-galaxy`` install the package sits in the collection's own directory (its
parent holds ``playbooks/`` and ``roles/``); after ``pip install`` the collection is
``site-packages/ansible_collections/projectdeployer/fleet`` beside the package. ``FLEET_COLLECTION_DIR``
points at another one.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
INSTALLED = os.path.join('ansible_collections', 'projectdeployer', 'fleet')


def collection_dir():
    """The directory of ``galaxy.yml``, ``playbooks/`` and ``roles/``."""
    if os.environ.get('FLEET_COLLECTION_DIR'):
        return os.path.abspath(os.environ['FLEET_COLLECTION_DIR'])
    for candidate in [os.path.dirname(HERE)] + [os.path.join(entry, INSTALLED) for entry in sys.path if entry]:
        # a checkout has galaxy.yml, a built (galaxy) collection MANIFEST.json: both have the playbooks
        if os.path.isfile(os.path.join(candidate, 'playbooks', 'deploy.yml')) and os.path.isdir(os.path.join(candidate, 'roles')):
            return os.path.abspath(candidate)
    raise RuntimeError('the projectdeployer.fleet collection is not installed beside this package; fix: pip install '
                       'the collection (pip install projectdeployer) or set FLEET_COLLECTION_DIR to its directory')


def playbook(name):
    """The absolute path of ``playbooks/NAME.yml``."""
    return os.path.join(collection_dir(), 'playbooks', '%s.yml' % name)


def ansible_cfg():
    """The collection's ``ansible.cfg`` (readable output, pipelining), when there is one."""
    path = os.path.join(collection_dir(), 'ansible.cfg')
    return path if os.path.isfile(path) else None


def default_inventory():
    """The embedded default: this machine's Docker engine as the one server."""
    return os.path.join(collection_dir(), 'inventory', 'local.yml')


def import_path():
    """The directory to put on ``sys.path`` so that ``ansible_collections.projectdeployer.fleet`` imports.

    Installed by pip or galaxy, the collection is already ``.../ansible_collections/projectdeployer/fleet``;
    a checkout is reached through its ``.ansible/collections`` (made by ``.ci/setup``).
    """
    root = collection_dir()
    parts = root.split(os.sep)
    if parts[-3:] == ['ansible_collections', 'projectdeployer', 'fleet']:
        return os.sep.join(parts[:-3])
    return os.path.join(root, '.ansible', 'collections')
