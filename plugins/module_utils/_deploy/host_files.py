# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files a project environment keeps on its server, written only when they differ (project_host)."""

from __future__ import annotations

import fcntl
import os
import socket
import stat
import struct

from ansible_collections.projectdeployer.fleet.plugins.module_utils._common.atomic_file import write_atomic

SIOCGIFADDR = 0x8915


def env_file_text(service, variables):
    """A service's own environment file: the spec's env_vars, one ``KEY=VALUE`` line each."""
    lines = ['# %s: the env_vars of the spec (managed by projectdeployer.fleet)' % service]
    lines.extend('%s=%s' % (key, value) for key, value in (variables or {}).items())
    return '\n'.join(lines) + '\n'


def differs(path, content, mode):
    """Whether ``path`` lacks ``content`` (text) or ``mode``."""
    try:
        st = os.stat(path)
        with open(path, 'rb') as handle:
            current = handle.read()
    except FileNotFoundError:
        return True
    return current != content.encode('utf-8') or stat.S_IMODE(st.st_mode) != mode


def ensure_file(path, content, mode=0o600, check_mode=False):
    """Write ``content`` to ``path`` (atomically, ``mode``) when it differs; whether it did."""
    if not differs(path, content, mode):
        return False
    if not check_mode:
        write_atomic(path, content, mode)
    return True


def interface_address(name):
    """The IPv4 address of the network interface ``name`` (as the ``ansible_facts`` of that interface)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack('256s', name[:15].encode()))
        except OSError as exc:
            raise ValueError('interface %s has no IPv4 address here (%s); fix: start the Docker engine, or set '
                             'fleet_private_address' % (name, exc.strerror))
    return socket.inet_ntoa(packed[20:24])
