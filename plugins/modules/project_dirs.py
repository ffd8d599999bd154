#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: project_dirs
short_description: Make a project environment's directories with their modes in one step
version_added: 0.2.0
description:
  - Creates the directories of a project environment under O(path) (the seed's layout C(config/ secrets/ files/ data/
    logs/ backups/ monitoring/), with C(secrets/) and C(backups/) 0700) and corrects the mode of those that exist.
  - One module run instead of one M(ansible.builtin.file) run per directory; nothing else is touched.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  path:
    description: The project environment's directory, C({fleet_root}/{user}/{project}/{env}); made 0755 when missing.
    type: path
    required: true
  layout:
    description:
      - The subdirectories and their modes. Defaults to the project layout of DESIGN.md section 3.
    type: list
    elements: dict
    suboptions:
      name:
        description: A path relative to O(path).
        type: str
        required: true
      mode:
        description: The directory's mode, as an octal string such as V('0700').
        type: str
        required: true
notes:
  - Directories are owned by the user the module runs as (root on servers).
'''

EXAMPLES = r'''
- name: Create the project's directories
  projectdeployer.fleet.project_dirs:
    path: /local/u1/myapp/prod
'''

RETURN = r'''
created:
  description: The directories made (in check mode, that would be made).
  returned: always
  type: list
  elements: str
  sample: [/local/u1/myapp/prod/secrets]
modes_fixed:
  description: The existing directories whose mode was corrected.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common import directories


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            layout=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True), mode=dict(type='str', required=True))),
        ),
        supports_check_mode=True,
    )
    try:
        layout = directories.check_layout(
            [(d['name'], d['mode']) for d in module.params['layout']] if module.params['layout'] is not None
            else directories.PROJECT_LAYOUT)
        todo = directories.plan(module.params['path'], layout)
        if todo and not module.check_mode:
            directories.apply(todo)
    except (ValueError, OSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(todo), created=[p for p, dummy, a in todo if a == 'create'],
                     modes_fixed=[p for p, dummy, a in todo if a == 'chmod'])


if __name__ == '__main__':
    main()
