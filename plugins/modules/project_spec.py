#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: project_spec
short_description: Validate a fleet project spec and plan its deployment
version_added: 0.1.0
description:
  - Validates a user's project spec (the YAML file passed with C(-e @examples/myapp.yml)) on the
    controller, before any host is touched, and returns it normalised with every default filled in,
    its startup groups and a readable plan (names, ports, servers, monthly cost).
  - Every problem is reported as one line that names the spec file, the key path and the fix.
  - Values that may be secret (C(git_token), the values of C(env_vars)) are redacted in the result.
  - This is an action plugin; it runs on the controller only.
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  spec:
    description:
      - The spec as a dict with the keys C(fleet_user), C(fleet_project), C(docker_hub_user),
        C(fleet_version) and C(services).
      - When left out, those keys are read from the play's variables, and the C(-e @file) that holds
        them is found so errors can name it.
    type: dict
  env:
    description: The environment to plan for, for example V(prod). Defaults to the C(fleet_env) variable.
    type: str
  source:
    description: The name errors use for the spec; defaults to the spec file's path.
    type: str
  images:
    description: Image templates by kind (C(postgres), C(redis), C(opensearch), C(nginx), C(python), C(node)),
      each with a C({version}) placeholder; they replace the official images in the plan.
    type: dict
  fleet_root:
    description: The root of the per-user directories on servers (default C(/local)).
    type: path
  zones:
    description:
      - The zones of a multi-zone run (the seed's C(deploy(zones=[...]))); defaults to the C(fleet_zones) variable.
      - Web services and workers then run in every one of them (C(servers_count) servers in each); databases and
        scheduled jobs stay in their C(server_zone). Each plan row has the service's C(zones).
      - When neither is given, the zones a run named last are taken from the controller's
        C({controller_root}/{user}/{project}/{env}/config/zones.json) (deploy.yml and provision.yml write it).
    type: list
    elements: str
  controller_root:
    description: The controller's root of the per-user folders; defaults to C(fleet_controller_root), else C(fleet_root), else C(/local).
    type: path
  service:
    description:
      - The one service the run deploys (C(fleet_service)); a name the spec does not have fails the task with
        the services it has.
    type: str
    version_added: 0.7.0
notes:
  - See C(docs/spec.md) in the collection for every spec key.
'''

EXAMPLES = r'''
- name: Validate the project and show the plan
  projectdeployer.fleet.project_spec:
    env: prod
  register: project

- name: Print it
  ansible.builtin.debug:
    msg: "{{ project.plan_text }}"
'''

RETURN = r'''
spec:
  description:
    - The normalised spec; every service has every key, with defaults, its role and startup order.
    - A relative C(build_context) is made absolute from the directory ansible-playbook runs in (with C(git_repo) it
      is a directory of the checkout and stays as written).
  returned: success
  type: dict
plan:
  description: One row per service in startup order, with names, ports, servers and cost, and the totals.
  returned: success
  type: dict
plan_text:
  description: The plan as lines of text.
  returned: success
  type: list
  elements: str
source:
  description: The spec file the spec was read from, when known.
  returned: success
  type: str
zones_file:
  description: Where the controller remembers the zones of the last run that named C(fleet_zones).
  returned: success
  type: str
error_path:
  description: The key path of the first error, for example C(services.api.port).
  returned: failure
  type: str
'''
