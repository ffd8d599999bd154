# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A package registry the build cannot use, told in one line: the registry, the package manager, the fix.

pip runs on the controller with a short timeout and few retries, npm (pnpm, yarn) in the build with the
same (``PIP_NETWORK_ARGS`` and ``NPM_NETWORK``), so an index that does not answer fails the build within
about a minute instead of sitting silent until ``build_timeout``; their output is read here for why.
"""

from __future__ import annotations

import re

# pip on the controller (on its command line, which wins over any PIP_* variable or pip.conf): seconds per
# connection or read, retries per request
PIP_NETWORK_ARGS = ['--timeout', '20', '--retries', '1']
# npm, pnpm and yarn 1 in the build (npm_config_* variables): milliseconds per request, retries
NPM_NETWORK = {'npm_config_fetch_timeout': '30000', 'npm_config_fetch_retries': '1',
               'npm_config_fetch_retry_mintimeout': '2000', 'npm_config_fetch_retry_maxtimeout': '5000'}

UNTRUSTED = ('CERTIFICATE_VERIFY_FAILED', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
             'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED',
             'self-signed certificate', 'self signed certificate', 'certificate verify failed')
SILENT = ('Read timed out', 'ReadTimeoutError', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_TIMEOUT',
          'Socket timeout', 'socket timeout', 'network timeout', 'timeout of', 'Response timeout')
UNREACHABLE = ('ConnectTimeoutError', 'NewConnectionError', 'Failed to establish a new connection',
               'Connection refused', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'Name or service not known',
               'Temporary failure in name resolution', 'ENETUNREACH', 'EHOSTUNREACH')

_POOL_HOST = re.compile(r"HTTP(S?)ConnectionPool\(host='([^']+)', port=(\d+)\)")
_URL_HOST = re.compile(r'(?:request to|GET|fetch(?:ing)?|to) (https?://[^/\s\'"]+)')
_URL = re.compile(r'(https?://[^/\s\'"]+)')

FIXES = {
    ('pip', 'untrusted'): 'give the CA that signed its certificate as fleet_build_ca_bundle',
    ('pip', 'silent'): ('make it answer from the controller, or name one that does in a pip.conf given as '
                        'fleet_build_pip_conf (index-url)'),
    ('pip', 'unreachable'): ('make it reachable from the controller (a proxy: HTTPS_PROXY), or name one that is in '
                             'a pip.conf given as fleet_build_pip_conf (index-url)'),
    ('npm', 'untrusted'): 'give the CA that signed its certificate as fleet_build_ca_bundle',
    ('npm', 'silent'): 'make it answer from the build, or name one that does in an .npmrc given as fleet_build_npmrc '
                       '(registry=)',
    ('npm', 'unreachable'): 'make it reachable from the build, or name one that is in an .npmrc given as '
                            'fleet_build_npmrc (registry=)',
}
WHAT = {'untrusted': 'presents a certificate the build does not trust',
        'silent': 'does not answer (timed out)',
        'unreachable': 'cannot be reached'}


def _kind(text):
    for kind, marks in (('untrusted', UNTRUSTED), ('silent', SILENT), ('unreachable', UNREACHABLE)):
        if any(mark in text for mark in marks):
            return kind
    return None


def _host(text):
    match = _POOL_HOST.search(text)
    if match:
        return 'http%s://%s:%s' % (match.group(1).lower(), match.group(2), match.group(3))
    for pattern in (_URL_HOST, _URL):
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def registry_failure(manager, output):
    """The one line (without the service) for a build whose ``manager`` (pip, npm, pnpm, yarn) could not use its
    registry, or None when ``output`` shows some other failure."""
    tool = 'pip' if manager == 'pip' else 'npm'
    lines = [line for line in (output or '').splitlines()
             if _kind(line) and (tool == 'pip' or 'npm' in line.lower() or 'pnpm' in line.lower()
                                 or 'yarn' in line.lower() or 'request to' in line or 'http' in line)]
    if not lines:
        return None
    kind = _kind(lines[-1]) if tool == 'pip' else _kind('\n'.join(lines))
    host = next((h for h in (_host(line) for line in reversed(lines + output.splitlines())) if h), None)
    registry = 'the package registry %s' % host if host else 'its package registry'
    return '%s cannot use %s: it %s; fix: %s' % (manager, registry, WHAT[kind], FIXES[(tool, kind)])
