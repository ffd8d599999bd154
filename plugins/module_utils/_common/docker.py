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

import sys
import traceback

# The SDK imports paramiko (and with it invoke) for ssh:// engines whenever paramiko is installed: a
# quarter of a module run's CPU. Modules only talk to their host's own socket, so the import of
# docker runs with paramiko hidden (the SDK then leaves its ssh transport out); an action plugin's
# controller process gets paramiko back at once.
_HIDE_PARAMIKO = 'paramiko' not in sys.modules
if _HIDE_PARAMIKO:
    sys.modules['paramiko'] = None  # type: ignore[assignment]
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
finally:
    if _HIDE_PARAMIKO:
        del sys.modules['paramiko']

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


def missing_images(client, image_ids):
    """Those of ``image_ids`` the engine lacks, in their order (one inspect each, by id)."""
    lacking = []
    for image_id in image_ids:
        try:
            client.api.inspect_image(image_id)
        except NotFound:
            lacking.append(image_id)
    return lacking


STDERR_TAIL = 4096


def _tail(data, limit=STDERR_TAIL):
    """The line of a tool's output that says what went wrong: the last naming an error (and the one after it,
    pg_restore's "Command was: ..."), else the last line."""
    lines = [line.strip() for line in bytes(data[-limit:]).decode('utf-8', 'replace').splitlines() if line.strip()]
    for index in range(len(lines) - 1, -1, -1):
        if 'error' in lines[index].lower() or 'fatal' in lines[index].lower():
            return ' '.join(lines[index:index + 2])
    return lines[-1] if lines else ''


def exec_stream(client, container, cmd, user=None, what=None):
    """Run ``cmd`` in ``container`` and yield its standard output in chunks, as it comes.

    Standard error is kept apart (never mixed into the data) and its last line
    goes into the FleetDockerError raised after the output ends if the command
    exited non-zero. Nothing is held in memory but one chunk and the error tail.
    """
    exec_id = client.api.exec_create(container.id, cmd, stdout=True, stderr=True, user=user or '')['Id']
    errors = bytearray()
    for out, err in client.api.exec_start(exec_id, stream=True, demux=True):
        if err:
            errors.extend(err)
            del errors[:-STDERR_TAIL]
        if out:
            yield out
    code = client.api.exec_inspect(exec_id).get('ExitCode')
    if code != 0:
        raise FleetDockerError('%s failed in %s (exit %s): %s' % (what or cmd[0], container.name, code,
                                                                  _tail(errors) or 'no message'))


def exec_checked(container, cmd, user=None, what=None):
    """Run ``cmd`` in ``container``; its output as text, or FleetDockerError naming its last line."""
    code, output = exec_text(container, cmd, user=user)
    if code != 0:
        raise FleetDockerError('%s failed in %s (exit %s): %s' % (what or cmd[0], container.name, code,
                                                                  _tail(output.encode('utf-8')) or 'no message'))
    return output


def run_helper(client, image, cmd, name, labels, mounts=(), network=None, user=None, environment=None,
               timeout=3600, what=None):
    """Run a short-lived helper container to its end and remove it; its output as text.

    ``mounts`` are ``docker.types.Mount`` objects. A helper left by an earlier
    run that died (same name) is removed first. Raises FleetDockerError with
    the helper's last output line if it exits non-zero or outlives ``timeout``.
    """
    stale = get_container(client, name)
    if stale is not None:
        stale.remove(force=True, v=True)
    # The command is the entrypoint itself: an image's own entrypoint script has no say in a helper.
    container = client.containers.create(image, list(cmd[1:]), entrypoint=[cmd[0]], name=name, labels=labels,
                                         mounts=list(mounts), network=network, user=user or '',
                                         environment=environment or {}, detach=True)
    try:
        container.start()
        try:
            status = container.wait(timeout=timeout)
        except Exception as exc:  # requests' ReadTimeout and ConnectionError: the helper ran too long
            raise FleetDockerError('%s did not finish within %s s (%s); fix: raise timeout'
                                   % (what or cmd[0], timeout, type(exc).__name__))
        output = container.logs(stdout=True, stderr=True).decode('utf-8', 'replace')
        if status.get('StatusCode') != 0:
            raise FleetDockerError('%s failed (exit %s): %s' % (
                what or cmd[0], status.get('StatusCode'), _tail(output.encode('utf-8')) or 'no message'))
        return output
    finally:
        container.remove(force=True, v=True)


def bind_mount(source, target, read_only=True):
    """A bind mount of a host path for a helper (read-only unless asked)."""
    return docker.types.Mount(target=target, source=source, type='bind', read_only=read_only)


def volume_mount(name, target):
    """A named volume mounted writable for a helper."""
    return docker.types.Mount(target=target, source=name, type='volume')
