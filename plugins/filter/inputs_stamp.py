# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inputs_stamp filter: a stamp of a module's inputs that tells nothing of the secrets among them."""

from __future__ import annotations

import hashlib
import hmac
import json

from ansible.errors import AnsibleFilterError


def inputs_stamp(value, key):
    """The HMAC-SHA256, keyed by ``key``, of ``value`` as canonical JSON (sorted keys)."""
    if not isinstance(key, str) or not key.strip():
        raise AnsibleFilterError('inputs_stamp: the key is empty; fix: give the secret the stamp is keyed by')
    try:
        text = json.dumps(value, sort_keys=True, separators=(',', ':'), default=str)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('inputs_stamp: the value is not JSON: %s' % exc) from exc
    return hmac.new(key.strip().encode('utf-8'), text.encode('utf-8'), hashlib.sha256).hexdigest()


class FilterModule(object):
    def filters(self):
        return {'inputs_stamp': inputs_stamp}
