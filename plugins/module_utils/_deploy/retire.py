# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retiring an old slot's container on the server after the deploy run moved on (toggle_deploy O(retire)).

Once every sidecar and edge routes to the new slot, the old container only finishes what it has in flight: the
drain and its ``docker stop`` need not hold up the deploy. A detached process on the server waits the drain,
stops and removes that container - by its id, so a new container of the same name is never touched - and a
marker file (``{state_dir}/{service}.retiring.json``: the id and a deadline) says meanwhile that the container is
on its way out: a later deploy counts it as gone (it changes nothing, restarts nothing), and a toggle that needs
the slot back waits for it (bounded by the deadline) instead of cutting its drain short. A retire that failed
leaves the container and, after the deadline, a deploy retires it again.

Over several servers the routing run of each hands its old slots over before the others' routes switched: such a
retire waits for its go file (``{marker}.go``, touched by the deploy once every server routes to the new slots;
one older than the retire is not a go) before its drain, bounded; never told, it leaves the container to the next
deploy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import read_json_dict, write_atomic
from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.docker import get_container
from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.active_slot import read_active
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import naming

# seconds a retire may take beyond the drain and the stop timeout before a deploy stops waiting for it
GRACE_SECONDS = 30

# the detached process: python -c PROGRAM CONTAINER_ID DRAIN STOP_TIMEOUT DOCKER_HOST MARKER [GO GO_TIMEOUT]
PROGRAM = '''
import json, os, sys, time
cid, drain, stop_timeout, docker_host, marker = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
go, go_timeout = (sys.argv[6], float(sys.argv[7])) if len(sys.argv) > 7 else ('', 0.0)


def forget():
    try:
        with open(marker) as handle:
            mine = json.load(handle).get('container_id') == cid
        if mine:
            os.unlink(marker)
    except (OSError, ValueError):
        pass


if go:
    # told once every server's routes switched: a file touched after this start
    begun = time.time()
    while True:
        try:
            told = os.stat(go).st_mtime >= begun - 1
        except OSError:
            told = False
        if told:
            break
        if time.time() - begun > go_timeout:
            forget()        # never told: routes elsewhere may still lead here; the next deploy sees the slot
            sys.exit(0)
        time.sleep(0.2)
    try:
        os.unlink(go)
    except OSError:
        pass
time.sleep(drain)
try:
    import docker
    client = docker.DockerClient(base_url=docker_host or None, timeout=stop_timeout + 60)
    container = client.containers.get(cid)
    try:
        container.stop(timeout=stop_timeout)
    except Exception:
        pass
    container.remove(force=True, v=True)
except Exception:
    pass
forget()
'''


def marker_path(state_dir, service):
    return os.path.join(state_dir, '%s.retiring.json' % service)


def go_path(state_dir, service):
    """The file whose touch tells a retire handed over with ``go_timeout`` to begin its drain."""
    return marker_path(state_dir, service) + '.go'


def read_marker(state_dir, service):
    """``{container_id, until}`` of the retire in progress, or {}."""
    return read_json_dict(marker_path(state_dir, service)) if state_dir else {}


def is_retiring(state_dir, service, container_id, clock=time):
    """Whether ``container_id`` is being retired and its retire has not outlived its deadline."""
    return retire_deadline(read_marker(state_dir, service), container_id, clock) is not None


def retire_deadline(marker, container_id, clock=time):
    """The deadline of ``marker``'s retire when it is ``container_id``'s and not past, else None."""
    until = float(marker.get('until') or 0)
    if container_id and marker.get('container_id') == container_id and clock.time() < until:
        return until
    return None


def deadline(drain_seconds, stop_timeout, clock=time):
    return clock.time() + float(drain_seconds) + int(stop_timeout) + GRACE_SECONDS


def write_marker(state_dir, service, container_id, until):
    write_atomic(marker_path(state_dir, service), json.dumps({'container_id': container_id, 'until': until},
                                                             sort_keys=True), mode=0o644, dir_mode=0o755)


def spawn(container_id, drain_seconds, stop_timeout, docker_host, marker, python=None, go=None, go_timeout=0):
    """Start the detached retire of ``container_id`` (its own session, no terminal, nothing inherited), at once;
    with ``go``, its drain begins only once that file is touched, within ``go_timeout`` seconds (else it leaves the
    container)."""
    told = [go, str(float(go_timeout))] if go else []
    with open(os.devnull, 'r+b') as devnull:
        subprocess.Popen(  # pylint: disable=consider-using-with
            [python or sys.executable, '-c', PROGRAM, container_id, str(float(drain_seconds)), str(int(stop_timeout)),
             docker_host or '', marker] + told,
            stdin=devnull, stdout=devnull, stderr=devnull, close_fds=True, start_new_session=True, cwd='/')


def old_slot(client, state_dir, ids):
    """``(serving slot, old container)`` of service ``ids`` (user, project, env, service): the slot its promotion
    recorded and the container of the other slot, None when there is none or it is being retired already.
    ValueError when no slot is recorded."""
    recorded = read_active(state_dir, ids[3]).get('slot')
    if recorded not in naming.SLOTS:
        raise ValueError('%s: no promoted slot is recorded in %s; fix: deploy again' % (ids[3], state_dir))
    other = get_container(client, naming.container_name(*ids, slot=naming.other_slot(recorded)))
    if other is not None and is_retiring(state_dir, ids[3], other.id):
        other = None
    return recorded, other


def hand_over(container, state_dir, service, drain_seconds, stop_timeout, docker_host, go_timeout=None):
    """Mark ``container`` (the old slot of ``service``) as retiring and start its detached retire; with
    ``go_timeout``, one that waits that long for its go file (go_path) before it drains."""
    until = deadline(drain_seconds, stop_timeout) + float(go_timeout or 0)
    write_marker(state_dir, service, container.id, until)
    spawn(container.id, drain_seconds, stop_timeout, docker_host, marker_path(state_dir, service),
          go=go_path(state_dir, service) if go_timeout else None, go_timeout=go_timeout or 0)


def retire_old_slots(client, ids, services, state_dir, drain_seconds, stop_timeout, docker_host, check_mode=False,
                     go_timeout=None):
    """Hand the old slot of each of ``services`` (of the env ``ids``: user, project, env) over to its detached
    retire; the services that had one. Their routes must no longer lead to the old slots, or, with
    ``go_timeout``, no longer once the go file of each is touched (the deploy role does it when every server's
    routes switched)."""
    retiring = []
    for service in services:
        naming.check_ids(user=ids[0], project=ids[1], env=ids[2], service=service)
        old = old_slot(client, state_dir, tuple(ids) + (service,))[1]
        if old is not None:
            retiring.append(service)
            if not check_mode:
                hand_over(old, state_dir, service, drain_seconds, stop_timeout, docker_host, go_timeout)
    return retiring


def wait_gone(exists, until, clock=time, step=0.2):
    """Wait, until the deadline ``until``, for ``exists()`` to be false; whether it is gone."""
    while exists():
        if clock.time() >= until:
            return False
        clock.sleep(step)
    return True
