#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: report
short_description: Show lines to a person as they are (tables, plans, failures), under any output format
version_added: 0.1.0
description:
  - Prints O(lines) on the controller, one per line, exactly as given, whatever the stdout callback's
    result format (Ansible's default JSON format would show a multi-line message as one string full of
    C(\\n)). A table reads as a table with the repository's C(ansible.cfg), without it, and under AWX.
  - Under a machine-readable stdout callback (C(json), C(ansible.posix.json), C(ansible.posix.jsonl), ...) it
    prints nothing itself, so the document stays valid; the lines are in the result either way.
  - With O(failed=true) the lines are printed as one failure block and the task fails with the one-line O(msg).
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
    support: full
options:
  lines:
    description: The lines to show; a string is split at its newlines.
    type: raw
    required: true
  failed:
    description: Fail the task after showing the lines.
    type: bool
    default: false
  msg:
    description: The task's one-line message (with O(failed=true), what the stdout callback prints after the block).
    type: str
'''

EXAMPLES = r'''
- name: Show the plan
  projectdeployer.fleet.report:
    lines: "{{ validated.plan_text }}"
  run_once: true

- name: Stop with one readable block
  projectdeployer.fleet.report:
    lines: "{{ failure_lines }}"
    failed: true
    msg: "api: the new version failed its health check (the block above says why)"
'''

RETURN = r'''
lines:
  description: The lines shown.
  returned: always, except after a failure block that was printed (the callback prints a failed result whole)
  type: list
  elements: str
'''
