#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: deploy_history
short_description: Record or read the controller-side deployment history of a fleet project
version_added: 0.1.0
description:
  - Appends one JSON line per service and host to the history file on the controller, from the results of
    M(projectdeployer.fleet.toggle_deploy) (deploys, failed deploys and rollbacks), under an exclusive lock so
    parallel hosts never interleave.
  - With O(state=query), returns the newest records; this is the seed's C(get_deployment_history).
  - This is an action plugin; it runs on the controller only.
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
    support: none
    details: Every call with new results appends records.
options:
  path:
    description: The history file on the controller.
    type: path
    required: true
  state:
    description: V(present) appends, V(query) reads.
    type: str
    choices: [present, query]
    default: present
  user:
    description: The user id recorded with each entry.
    type: str
  project:
    description: The project id recorded with each entry.
    type: str
  env:
    description: The environment recorded with each entry.
    type: str
  host:
    description: The host the results come from.
    type: str
  outcome:
    description:
      - What the results are; a failed result is always recorded as V(failed).
      - V(aborted) marks the services of a group that started fine but were discarded because another failed.
    type: str
    choices: [deployed, aborted, rolled_back]
    default: deployed
  results:
    description: The C(results) of a looped M(projectdeployer.fleet.toggle_deploy) task; unchanged services are not recorded.
    type: list
    elements: dict
  service:
    description: With O(state=query), only this service.
    type: str
  limit:
    description: With O(state=query), how many records.
    type: int
    default: 10
'''

EXAMPLES = r'''
- name: The last 10 deploys of the api
  projectdeployer.fleet.deploy_history:
    path: /local/u1/myapp/prod/monitoring/deploy_history.jsonl
    state: query
    service: api
  register: history
'''

RETURN = r'''
records:
  description: The records appended, or read (newest first).
  returned: always
  type: list
  elements: dict
'''
