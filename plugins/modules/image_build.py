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
    servers, delegate the task to C(localhost) and deliver the image with a registry or over SSH
    (see the C(deploy) role). The source is read there, and Python dependencies are downloaded there.
  - The source is O(build_context), a directory on the controller, or O(git_repo), C(URL@ref) (a branch, tag or
    commit), cloned with O(git_token) into C({build_root}/git_repos/{user}/) and removed after the build. The
    token reaches git through its environment only, never a command line, the clone's C(.git/config), the build
    context, the image or the module's output.
  - Builds use BuildKit through the docker CLI (C(docker buildx build), or C(DOCKER_BUILDKIT=1 docker build) with a
    20.10-22.x client), so that build secrets (O(ca_bundle), O(npmrc), O(pip_conf), O(build_secrets)) are visible to
    the steps that install dependencies and are never stored in a layer or the image history.
  - V(python) services get a multi-stage Dockerfile. A builder stage creates a virtual environment in C(/opt/venv)
    from wheels downloaded on the controller for the base image's own interpreter, platform and C(glibc), cached
    under O(build_root) by the sha256 of the requirements files and the base image (a code-only change downloads
    nothing and reuses the dependency layers); the runtime stage copies the venv and the code to C(/app), runs as
    C(appuser) (uid 1000) with unbuffered output, exposes O(port) and checks O(health_path) with a C(HEALTHCHECK).
  - V(nodejs) services get a multi-stage Dockerfile that installs the dependencies from C(package.json) and the
    lockfile before copying the code (C(npm ci), C(yarn install --frozen-lockfile) or C(pnpm install
    --frozen-lockfile)), runs O(build_command), and runs O(command) as the image's C(node) user with production
    dependencies only.
  - V(react) services are built with node (O(build_command), default C(npm run build)) and served from
    O(output_dir) by nginx running as a non-root user, with the SPA fallback to C(index.html), or with the
    server block of O(nginx_config).
  - V(custom) services build the user's O(dockerfile) (a path inside the source) or O(dockerfile_content) (the
    seed's numbered lines) with the source as the context; the fleet labels are appended to the last stage.
  - The image carries the label C(fleet.source_hash), a sha256 over the source files, the Dockerfile and the base
    images. When the tagged image already has the hash of the current source nothing is built (C(changed=false));
    when another tag of the same service has it, that image is tagged instead of rebuilt.
  - Never copied into the image are C(.git), C(.hg), C(.svn), C(__pycache__), C(*.pyc), C(.venv),
    C(.pytest_cache), C(.mypy_cache), C(.tox) and C(.fleet-wheels), nor what the source's own C(.dockerignore)
    excludes (simple patterns with C(*), C(**/) and C(!)).
  - With O(scan_command) the new image is scanned after the build; a failing scan untags the image and fails the
    task, so a deploy stops before any host runs it.
author:
  - Fleet Developers (@projectdeployer)
requirements:
  - a docker CLI that builds with BuildKit (the buildx plugin, or a 20.10-22.x client) on the host the task runs on
  - pip for O(pip_interpreter) on the controller, when a Python service has requirements
  - git on the controller, for O(git_repo)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
  - projectdeployer.fleet._tenant
  - projectdeployer.fleet._tenant.service
  - projectdeployer.fleet._tenant.docker
attributes:
  check_mode:
    support: full
    details:
      - Reports whether an image would be built (or re-tagged); nothing is copied, downloaded or built.
      - With O(git_repo) the repository is still cloned (into the temp layout, removed afterwards) to hash its files.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  type:
    description: The kind of service, which decides the Dockerfile.
    type: str
    default: python
    choices: [python, nodejs, react, custom]
  build_context:
    description:
      - Directory with the service's code on the controller. It must exist.
      - With O(git_repo), the directory of the checkout to build (a monorepo's service), relative to the
        repository's root.
      - One of O(build_context) and O(git_repo) is required.
    type: str
  git_repo:
    description:
      - The repository to build, C(URL@ref); the ref is a branch, a tag or a commit (default the remote's default
        branch). C(https://), C(http://), C(ssh://), C(git://), C(file://) and C(user@host:path) URLs.
      - The URL must not carry credentials; give O(git_token) instead.
    type: str
  git_token:
    description: A token with read access to O(git_repo) over HTTP(S), sent as HTTP basic auth (C(x-access-token)).
    type: str
  git_timeout:
    description: Seconds the clone may take.
    type: int
    default: 300
  python_version:
    description: The Python version (V(python)); picks the default O(base_image).
    type: str
    default: '3.11'
  node_version:
    description: The Node.js version (V(nodejs), V(react)); picks the default O(base_image).
    type: str
    default: '18'
  package_manager:
    description: The package manager of a V(nodejs) or V(react) service.
    type: str
    default: npm
    choices: [npm, yarn, pnpm]
  build_command:
    description:
      - For V(nodejs) and V(react), the command that builds the app after the dependencies are installed
        (V(react) default C({package_manager} run build)).
    type: str
  output_dir:
    description: For V(react), the directory the build writes, relative to the source.
    type: str
    default: build
  nginx_config:
    description: For V(react), an nginx C(server {}) block to serve the app with, instead of the generated one.
    type: str
  nginx_image:
    description: For V(react), the nginx image of the runtime stage.
    type: str
    default: nginx:stable
  dockerfile:
    description: For V(custom), the Dockerfile's path, relative to the source; it must be inside it.
    type: str
  dockerfile_content:
    description: 'For V(custom), the Dockerfile as the seed''s numbered lines, C({"1": "FROM ...", "2": "..."}).'
    type: dict
  requirements_files:
    description:
      - For V(python), requirements files, relative to the source, installed in the builder stage. Files they include
        with C(-r)/C(-c) are copied too. Every dependency needs a wheel for the base image's platform.
      - Default C(requirements.txt) when the source has one, none otherwise.
    type: list
    elements: str
  command:
    description:
      - The command the container runs (V(python), V(nodejs)), as a shell-like string (split into the exec form with
        shell quoting rules, no shell involved) or a list.
    type: raw
  port:
    description:
      - The port the service listens on in its container (V(react) default 80). Without it there is no C(EXPOSE)
        and no C(HEALTHCHECK).
    type: int
  health_path:
    description: The HTTP path the image's C(HEALTHCHECK) requests on C(127.0.0.1:port). Default V(/).
    type: str
  base_image:
    description:
      - The image the generated Dockerfile starts from. Default C(python:{python_version}-slim) for V(python),
        C(node:{node_version}-slim) for V(nodejs) and V(react).
      - It is pulled when not on the engine yet.
    type: str
  docker_hub_user:
    description: Registry user or registry host prefix of the image name; empty for a local-only name.
    type: str
    default: ''
  version:
    description: The image tag. Default the short commit of O(git_repo), else V(latest).
    type: str
  ca_bundle:
    description:
      - A PEM CA bundle the dependency downloads must trust (a TLS-intercepting proxy, a private index). Given to
        the build as the BuildKit secret C(fleet_ca) and to the controller's pip as C(PIP_CERT); never stored in
        the image.
    type: path
  npmrc:
    description: An npm configuration file (registry, auth tokens) given to V(nodejs) and V(react) builds as the
      BuildKit secret C(fleet_npmrc); never stored in the image.
    type: path
  pip_conf:
    description: A pip configuration file (index-url, extra-index-url) for the controller's C(pip download) of
      V(python) dependencies, and the BuildKit secret C(fleet_pipconf) for custom Dockerfiles.
    type: path
  build_secrets:
    description: More BuildKit secrets for custom Dockerfiles, secret id to file path
      (C(RUN --mount=type=secret,id=NAME)).
    type: dict
  build_network:
    description: The network of the build's C(RUN) steps (C(--network)), for example V(host). Default the engine's.
    type: str
  scan_command:
    description:
      - A command that scans the new image, for example C(trivy image --exit-code 1 --severity CRITICAL {image}).
        C({image}) is replaced by the image name (appended when absent). No shell is involved.
      - A non-zero exit untags the image and fails the task.
    type: str
  docker_cli:
    description: The docker client to build with. Default the first of C(docker) on PATH, C(/usr/bin/docker) and
      C(/usr/local/bin/docker) that builds with BuildKit.
    type: path
  build_root:
    description: The root of the isolated temp build layout; also holds the wheel cache. Created 0700.
    type: path
    default: /tmp/deployment_infra
  keep_context:
    description: Keep the copied build context after the build, for debugging.
    type: bool
    default: false
  resolver_source:
    description:
      - With O(type=python), the Python source of the C(projectdeployer_resolver) module, put in the image under
        C(/opt/fleet/lib) (on E(PYTHONPATH)) so that the app can C(from projectdeployer_resolver import ResourceResolver).
      - The action fills it from the collection's C(resolver/) directory; an empty string leaves it out.
    type: str
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
    description:
      - Seconds the build may take. A package registry that does not answer fails it long before (pip on the
        controller and npm, pnpm, yarn in the build give up after about a minute), with one line naming the
        registry, the package manager and the fix.
    type: int
    default: 1800
  progress_file:
    description:
      - A file the module keeps up to date with what it does (cloning, downloading the dependencies, building,
        scanning). The module's action sets it on the controller and shows it with the time elapsed every 30 s.
    type: path
    version_added: 0.3.0
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

- name: Build a React front end from a tag of its repository, trusting a proxy's CA in the build
  projectdeployer.fleet.image_build:
    user: u1
    project: myapp
    env: prod
    service: web
    type: react
    git_repo: https://git.example.com/u1/frontend.git@v1.4.0
    git_token: "{{ vault_git_token }}"
    ca_bundle: /etc/ssl/certs/ca-certificates.crt
    scan_command: trivy image --exit-code 1 --severity CRITICAL {image}
  delegate_to: localhost

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
  description: The first base image of the Dockerfile.
  returned: always
  type: str
  sample: python:3.11-slim
base_images:
  description: Every external image the Dockerfile starts from.
  returned: always
  type: list
  elements: str
  sample: [node:18-slim, nginx:stable]
build_type:
  description: The kind of Dockerfile built.
  returned: always
  type: str
  sample: react
version:
  description: The image tag used.
  returned: always
  type: str
  sample: 3f2a9c1d0b7e
commit:
  description: The full commit built from O(git_repo); null for a local build context.
  returned: always
  type: str
  sample: 3f2a9c1d0b7e5a...
cached_steps:
  description: The build steps BuildKit served from its cache (a code-only change lists the dependency steps).
  returned: when built
  type: list
  elements: str
  sample: ['[builder 3/6] COPY [app/package.json, app/package-lock.json, /app/]']
scan:
  description: The scan's command, exit code, seconds and last output lines.
  returned: when O(scan_command) ran
  type: dict
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

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, FleetDockerError, get_client)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.image_build import (
    IMAGE_BUILD_CONSTRAINTS, IMAGE_BUILD_OPTIONS, ImageBuild, ImageBuildError)


def main():
    module = AnsibleModule(
        argument_spec=IMAGE_BUILD_OPTIONS,
        supports_check_mode=True,
        **IMAGE_BUILD_CONSTRAINTS
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)

    try:
        client = get_client(module.params['docker_host'], timeout=module.params['build_timeout'])
        build = ImageBuild(client, module.params, module.run_command,
                           module.params['pip_interpreter'] or sys.executable, check_mode=module.check_mode)
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
