# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    """How the Cloudflare modules reach the API: token, endpoint, TLS, timeouts and retries."""

    DOCUMENTATION = r'''
options:
  cloudflare_api_token:
    description:
      - The Cloudflare API token (Zone:Read and DNS:Edit on the zones; Load Balancers:Edit for load balancers).
      - When not given, the environment variable E(CLOUDFLARE_API_TOKEN).
      - Set it once for all Cloudflare modules with C(module_defaults) and the C(group/projectdeployer.fleet.cloudflare)
        action group.
    type: str
  cloudflare_endpoint:
    description:
      - The base URL of the API, V(https://api.cloudflare.com/client/v4) by default.
      - When not given, the environment variable E(CLOUDFLARE_API_ENDPOINT), then the default (the test world's
        simulator is reached this way).
    type: str
  cloudflare_ca_bundle:
    description:
      - A file of CA certificates (PEM) to trust for O(cloudflare_endpoint) instead of the system's, for example the
        test CA of the simulator.
    type: path
  cloudflare_max_retries:
    description:
      - How many times the SDK retries a request that failed with a connection error, 408, 409, 429 or a 5xx
        (exponential backoff, honouring C(Retry-After)).
    type: int
    default: 3
  cloudflare_timeout:
    description:
      - Seconds to wait for each answer of the API.
    type: float
    default: 30
requirements:
  - cloudflare (the official Cloudflare Python SDK, 5.x) on the controller
'''
