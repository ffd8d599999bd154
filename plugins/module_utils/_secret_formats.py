# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files derived from a secret (the secret module writes them; rotation rewrites them in place)."""

from __future__ import annotations

FORMATS = ('raw', 'redis_conf', 'pgpass')


def render(secret, fmt):
    """The content of a file of format ``fmt`` for ``secret``."""
    if fmt == 'redis_conf':
        return 'requirepass %s\nprotected-mode no\n' % secret
    if fmt == 'pgpass':
        return '*:*:*:*:%s\n' % secret
    return secret
