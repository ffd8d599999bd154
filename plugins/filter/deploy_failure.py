# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy_failure and deploy_failure_summary filters: a failed startup group as one block."""

from __future__ import annotations

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.failure import failure_lines, failure_summary


def deploy_failure(results, group, services=None, error=None, logs_hint=None):
    return failure_lines(results, int(group), services, error or None, logs_hint)


def deploy_failure_summary(results, group, error=None):
    return failure_summary(results, int(group), error or None)


class FilterModule(object):
    def filters(self):
        return {'deploy_failure': deploy_failure, 'deploy_failure_summary': deploy_failure_summary}
