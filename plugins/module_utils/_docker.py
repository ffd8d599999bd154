# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Docker engine seam: one client factory and the few calls every module shares.

Modules run on the Docker host (the embedded local engine or a server over SSH) and
talk to its engine through the Docker SDK for Python (``docker`` on PyPI,
``python3-docker`` on Debian).
"""

from __future__ import annotations

import traceback

try:
    import docker
    from docker.errors import APIError, DockerException, ImageNotFound, NotFound  # pylint: disable=unused-import
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the modules through missing_required_lib
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

    class DockerException(Exception):
        pass

    APIError = NotFound = ImageNotFound = DockerException

DOCKER_HOST_OPTION = dict(type='str', default='unix:///var/run/docker.sock')


class FleetDockerError(Exception):
    """A failure worth one clear line to the user."""


def get_client(docker_host=None, timeout=120):
    """A client for the engine at ``docker_host`` (default: the local socket)."""
    try:
        client = docker.DockerClient(base_url=docker_host or DOCKER_HOST_OPTION['default'], timeout=timeout)
        client.ping()
    except DockerException as exc:
        raise FleetDockerError('cannot reach the Docker engine at %s: %s; fix: start dockerd or set docker_host'
                               % (docker_host or DOCKER_HOST_OPTION['default'], exc))
    return client


def get_container(client, name):
    """The container called ``name``, or None."""
    try:
        return client.containers.get(name)
    except NotFound:
        return None


def exec_text(container, cmd, user=None, environment=None):
    """Run ``cmd`` (a list) in ``container``; return ``(exit_code, output as text)``."""
    result = container.exec_run(cmd, user=user or '', environment=environment, demux=False)
    output = result.output or b''
    return result.exit_code, output.decode('utf-8', 'replace')


def ensure_network(client, name, labels):
    """The tenant's own bridge network; created once, never recreated."""
    found = client.networks.list(names=[name])
    for net in found:
        if net.name == name:
            return net, False
    return client.networks.create(name, driver='bridge', labels=labels, check_duplicate=True), True
