#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: image_build
short_description: Build the Docker image of a fleet service from its code
version_added: 0.1.0
description:
  - Builds the image of one service of a user's project environment with the Docker engine of the host the
    task runs on, and tags it C({docker_hub_user}/{user}_{project}_{env}_{service}:{version}).
  - Run it on the controller. In the embedded default the controller's engine is the one server; with remote
    servers, delegate the task to C(localhost). The build context is read there, and the Python dependencies are
    downloaded there with C(pip download), where pip trusts the controller's CA bundle and configuration.
    The build itself needs no network.
  - Python services (O(type=python)) get a generated multi-stage Dockerfile. A builder stage creates a virtual
    environment in C(/opt/venv) from the downloaded wheels (dependencies before code, so a code change reuses
    the dependency layers); the runtime stage copies the venv and the code to C(/app), runs as C(appuser)
    (uid 1000) with unbuffered output, exposes O(port) and checks O(health_path) with a C(HEALTHCHECK)
    (an HTTP GET with the image's own Python, healthy below status 400).
  - Wheels are downloaded for the base image's own interpreter, platform and C(glibc) (learnt from a throwaway
    container of the base image) and cached under O(build_root) by the sha256 of the requirements files and the
    base image, so a rebuild with only code changed downloads nothing.
  - The build runs in the isolated temp layout of the seed. The context is copied to
    C({build_root}/build_contexts/{user}/{project}-{env}-{service}/) (code under C(app/), wheels under
    C(.fleet-wheels/)) and the Dockerfile written to C({build_root}/dockerfiles/{user}/Dockerfile.{project}-{env}-{service}.tmp).
    The Dockerfile is always removed afterwards, the copied context unless O(keep_context=true).
  - The image carries the label C(fleet.source_hash), a sha256 over the context files, the Dockerfile and the base
    image. When the tagged image already has the hash of the current source nothing is built (C(changed=false));
    when another tag of the same service has it, that image is tagged instead of rebuilt.
  - Never copied into the image are C(.git), C(.hg), C(.svn), C(__pycache__), C(*.pyc), C(.venv),
    C(.pytest_cache), C(.mypy_cache), C(.tox) and C(.fleet-wheels), nor what the context's own C(.dockerignore)
    excludes (simple patterns with C(*), C(**/) and C(!)).
  - Only O(type=python) is built so far; C(nodejs), C(react) and custom Dockerfiles come later.
author:
  - Fleet Developers (@projectdeployer)
requirements:
  - pip for O(pip_interpreter) on the controller, when the service has requirements
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._tenant.service
  - projectdeployer.fleet._tenant.docker
attributes:
  check_mode:
    support: full
    details: Reports whether an image would be built (or re-tagged); nothing is copied, downloaded or built.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  type:
    description:
      - The kind of service. Only V(python) is supported for now.
    type: str
    default: python
    choices: [python]
  build_context:
    description: Directory with the service's code (on the host the task runs on). It must exist.
    type: path
    required: true
  python_version:
    description: The Python version; picks the default O(base_image).
    type: str
    default: '3.11'
  requirements_files:
    description:
      - Requirements files, relative to O(build_context), installed in the builder stage. Files they include with
        C(-r)/C(-c) are copied too. Every dependency needs a wheel for the base image's platform.
      - Default C(requirements.txt) when the context has one, none otherwise.
    type: list
    elements: str
  command:
    description:
      - The command the container runs, as a shell-like string (split into the exec form with shell quoting
        rules, no shell involved) or a list.
    type: raw
    required: true
  port:
    description: The port the service listens on in its container. Without it there is no C(EXPOSE) and no C(HEALTHCHECK).
    type: int
  health_path:
    description: The HTTP path the image's C(HEALTHCHECK) requests on C(127.0.0.1:port). Default V(/).
    type: str
  base_image:
    description:
      - The Python image both stages start from. Default C(python:{python_version}-slim).
      - It is pulled when not on the engine yet. It must have C(python) on its PATH with C(venv) and C(pip),
        and C(useradd).
    type: str
  docker_hub_user:
    description: Registry user or registry URL prefix of the image name; empty for a local-only name.
    type: str
    default: ''
  version:
    description: The image tag.
    type: str
    default: latest
  build_root:
    description: The root of the isolated temp build layout; also holds the wheel cache. Created 0700.
    type: path
    default: /tmp/deployment_infra
  keep_context:
    description: Keep the copied build context after the build, for debugging.
    type: bool
    default: false
  no_cache:
    description:
      - When a build happens, do not reuse the engine's layer cache (a cold build from the base image).
      - An image that already has the current source hash is still not rebuilt.
    type: bool
    default: false
  pip_interpreter:
    description: The Python on the controller whose pip downloads the wheels. Default the module's interpreter.
    type: path
  build_timeout:
    description: Seconds the Docker engine may take for the build.
    type: int
    default: 1800
'''

EXAMPLES = r'''
- name: Build u1's API image on the controller
  projectdeployer.fleet.image_build:
    user: u1
    project: myapp
    env: prod
    service: api
    build_context: examples/apps/api
    command: python -u app.py
    port: 8000
    health_path: /health
    version: "1"
  delegate_to: localhost
  register: api_image

- name: Build the worker from the same code with the test world's Python image
  projectdeployer.fleet.image_build:
    user: u1
    project: myapp
    env: prod
    service: worker
    build_context: examples/apps/api
    command: python -u worker.py
    base_image: fleet-world/python:3.11
'''

RETURN = r'''
image:
  description: The image name and tag.
  returned: always
  type: str
  sample: u1_myapp_prod_api:1
image_id:
  description: The image id; null in check mode when the image would be built.
  returned: always
  type: str
  sample: sha256:5fbc482abdf6c4a4...
image_size:
  description: The image size in bytes; null when not known yet.
  returned: always
  type: int
  sample: 150000000
built:
  description: Whether an image was built by this run.
  returned: always
  type: bool
  sample: true
retagged:
  description: Present and true when an image of the same source was tagged instead of building.
  returned: when an image was re-tagged
  type: bool
  sample: true
duration:
  description: Seconds the whole task took.
  returned: always
  type: float
  sample: 12.5
build_seconds:
  description: Seconds the Docker build itself took.
  returned: when built
  type: float
  sample: 9.2
source_hash:
  description: The sha256 over the context files, the Dockerfile and the base image; the image's C(fleet.source_hash) label.
  returned: always
  type: str
  sample: 0f4c...
dockerfile:
  description: The generated Dockerfile.
  returned: always
  type: str
base_image:
  description: The base image used.
  returned: always
  type: str
  sample: python:3.11-slim
wheel_cache:
  description: V(hit) when the wheels came from the cache, V(miss) when they were downloaded, V(none) when not needed.
  returned: always
  type: str
  sample: hit
wheels:
  description: The wheel files put into the build.
  returned: always
  type: list
  elements: str
build_context:
  description: The kept copy of the build context (with O(keep_context=true)), else null.
  returned: always
  type: str
build_log:
  description: The last lines of the build output.
  returned: when built, or on a failed build
  type: list
  elements: str
'''

import sys

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.projectdeployer.fleet.plugins.module_utils._docker import (
    DOCKER_HOST_OPTION, DOCKER_IMPORT_ERROR, HAS_DOCKER, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._image_build import (
    ImageBuildError, PythonImageBuild)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._naming import DEFAULT_BUILD_ROOT, tenant_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tenant_argument_spec('required'),
            type=dict(type='str', default='python', choices=['python']),
            build_context=dict(type='path', required=True),
            python_version=dict(type='str', default='3.11'),
            requirements_files=dict(type='list', elements='str'),
            command=dict(type='raw', required=True),
            port=dict(type='int'),
            health_path=dict(type='str'),
            base_image=dict(type='str'),
            docker_hub_user=dict(type='str', default=''),
            version=dict(type='str', default='latest'),
            build_root=dict(type='path', default=DEFAULT_BUILD_ROOT),
            keep_context=dict(type='bool', default=False),
            no_cache=dict(type='bool', default=False),
            pip_interpreter=dict(type='path'),
            build_timeout=dict(type='int', default=1800),
            docker_host=DOCKER_HOST_OPTION,
        ),
        supports_check_mode=True,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)

    def run_pip(argv):
        return module.run_command(argv, environ_update={'PIP_DISABLE_PIP_VERSION_CHECK': '1'})

    try:
        client = get_client(module.params['docker_host'], timeout=module.params['build_timeout'])
        build = PythonImageBuild(client, module.params, run_pip, module.params['pip_interpreter'] or sys.executable,
                                 check_mode=module.check_mode)
        result = build.run()
    except ImageBuildError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    except FleetDockerError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg='image build of %s failed on a file operation: %s' % (module.params['service'], exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
