# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""New secrets, and the files derived from one (the secret module writes them; rotation rewrites them in place)."""

from __future__ import annotations

import secrets
import string

FORMATS = ('raw', 'redis_conf', 'pgpass')
ALPHABET = string.ascii_letters + string.digits  # safe in URLs and configuration files
MIN_LENGTH = 16


def length_error(length):
    """Why ``length`` is too short for a secret, or None."""
    if length < MIN_LENGTH:
        return 'length %d is too short for a secret: use %d or more' % (length, MIN_LENGTH)
    return None


def generate(length):
    """A new random secret of ``length`` letters and digits."""
    return ''.join(secrets.choice(ALPHABET) for dummy in range(length))


def render(secret, fmt):
    """The content of a file of format ``fmt`` for ``secret``."""
    if fmt == 'redis_conf':
        return 'requirepass %s\nprotected-mode no\n' % secret
    if fmt == 'pgpass':
        return '*:*:*:*:%s\n' % secret
    return secret
