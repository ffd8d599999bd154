# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """How the DigitalOcean modules reach the API: token, endpoint, TLS, timeouts and retries."""

    DOCUMENTATION = r'''
options:
  api_token:
    description:
      - The DigitalOcean API token (a personal access token with read and write scopes).
      - When not given, the first of the environment variables E(DIGITALOCEAN_API_TOKEN), E(DIGITALOCEAN_TOKEN) and
        E(DO_API_TOKEN) that is set.
      - Set it once for all fleet modules with C(module_defaults) and the C(group/projectdeployer.fleet.fleet) action group.
    type: str
  api_endpoint:
    description:
      - The base URL of the DigitalOcean API.
      - When not given, the environment variable E(DIGITALOCEAN_API_ENDPOINT), then V(https://api.digitalocean.com).
      - Must be V(https://...); plain V(http://) is accepted only for a loopback address (a local test API).
    type: str
    default: https://api.digitalocean.com
  ca_bundle:
    description:
      - A file of CA certificates (PEM) to trust for O(api_endpoint) instead of the system's, for example the test
        CA of an API simulator or a TLS-intercepting proxy.
      - Without it, the system store, or E(REQUESTS_CA_BUNDLE) when set.
    type: path
  validate_certs:
    description:
      - Whether to verify the endpoint's TLS certificate. Only a throw-away test endpoint should set V(false).
    type: bool
    default: true
  request_timeout:
    description:
      - Seconds to wait for a connection and for each answer of the API.
    type: float
    default: 30
  retry_max_attempts:
    description:
      - How many times one API request is tried at most.
      - Rate limiting (HTTP 429, waiting as long as C(Retry-After) or C(ratelimit-reset) asks) and connection failures
        are retried for every request; server errors (5xx) and timeouts only for requests that are safe to repeat
        (never a create, which may have been carried out).
      - Between tries the wait doubles from one second (at most 30 s), with random jitter.
    type: int
    default: 5
  retry_max_seconds:
    description:
      - The most seconds spent retrying one request; a retry that would end later is not tried.
    type: float
    default: 120
requirements:
  - pydo (the official DigitalOcean Python client) on the controller
notes:
  - Errors are reported as one line with the HTTP status, DigitalOcean's error id and message, and what to fix.
'''
