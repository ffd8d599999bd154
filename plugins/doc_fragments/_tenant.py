# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """The options that name a tenant's project environment, a service, and the Docker engine."""

    DOCUMENTATION = r'''
options:
  user:
    description: The user id (tenant), for example V(u1).
    type: str
    required: true
  project:
    description: The project id, for example V(myapp).
    type: str
    required: true
  env:
    description: The environment id, for example V(prod).
    type: str
    required: true
'''

    SERVICE = r'''
options:
  service:
    description: The service name, for example V(api).
    type: str
    required: true
'''

    DOCKER = r'''
options:
  docker_host:
    description: The Docker engine to talk to, on the host the task runs on.
    type: str
    default: unix:///var/run/docker.sock
requirements:
  - docker (the Docker SDK for Python) on the Docker host
'''
