# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A thin layer over the official ``cloudflare`` SDK (5.x) for the collection's Cloudflare modules.

- :func:`make_client` builds a ``cloudflare.Cloudflare`` from the module options: the token from the option or
  ``CLOUDFLARE_API_TOKEN``, the endpoint (``base_url``; the test world's simulator) from the option or
  ``CLOUDFLARE_API_ENDPOINT``, a CA bundle, the SDK's own bounded retries (429 and 5xx, with backoff);
- :func:`call` runs one SDK call and turns every failure into one :class:`CfApiError` whose message is one
  line: what was being done, the HTTP status, Cloudflare's error codes and messages, and the fix;
- :func:`find_zone` finds the zone a name belongs to (the longest suffix that is a zone of the account).

The module can be imported without the SDK; :data:`HAS_CLOUDFLARE` says whether it is there.
"""

from __future__ import annotations

import os
import ssl
import traceback

try:
    import cloudflare
    HAS_CLOUDFLARE = True
    CLOUDFLARE_TRACEBACK = None
except ImportError:  # pragma: no cover - depends on the controller
    cloudflare = None
    HAS_CLOUDFLARE = False
    CLOUDFLARE_TRACEBACK = traceback.format_exc()

DEFAULT_ENDPOINT = 'https://api.cloudflare.com/client/v4'
TOKEN_ENV = 'CLOUDFLARE_API_TOKEN'
ENDPOINT_ENV = 'CLOUDFLARE_API_ENDPOINT'
FIXES = {
    401: 'check the token (cloudflare_api_token or CLOUDFLARE_API_TOKEN)',
    403: 'give the token the permissions it needs (Zone:Read, DNS:Edit; Load Balancers:Edit for load balancers)',
    429: 'wait and run again: the account is rate limited',
}


class CfApiError(Exception):
    """One failed Cloudflare call, said in one line."""


def argument_spec():
    """The options every Cloudflare module takes (their own names: the DigitalOcean modules' api_token differs)."""
    return dict(
        cloudflare_api_token=dict(type='str', no_log=True),
        cloudflare_endpoint=dict(type='str'),
        cloudflare_ca_bundle=dict(type='path'),
        cloudflare_max_retries=dict(type='int', default=3),
        cloudflare_timeout=dict(type='float', default=30),
    )


def settings(params, environ=None):
    """``(token, endpoint, ca_bundle)`` from the options, else the environment; CfApiError without a token."""
    environ = os.environ if environ is None else environ
    token = params.get('cloudflare_api_token') or environ.get(TOKEN_ENV)
    if not token:
        raise CfApiError('no Cloudflare API token; fix: set CLOUDFLARE_API_TOKEN or cloudflare_api_token '
                         '(a token with Zone:Read and DNS:Edit on the zone)')
    endpoint = params.get('cloudflare_endpoint') or environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT
    return token, endpoint.rstrip('/'), params.get('cloudflare_ca_bundle')


def make_client(params, environ=None):
    token, endpoint, ca_bundle = settings(params, environ)
    http_client = None
    if ca_bundle:
        http_client = cloudflare.DefaultHttpxClient(verify=ssl.create_default_context(cafile=ca_bundle))
    return cloudflare.Cloudflare(api_token=token, base_url=endpoint, http_client=http_client,
                                 max_retries=params.get('cloudflare_max_retries', 3),
                                 timeout=params.get('cloudflare_timeout', 30))


def describe(exc, what):
    """The one line of a failed call."""
    status = getattr(exc, 'status_code', None)
    body = getattr(exc, 'body', None)
    errors = body.get('errors') if isinstance(body, dict) else None
    said = '; '.join('%s (%s)' % (e.get('message'), e.get('code')) for e in errors or [] if isinstance(e, dict))
    if status is None:
        return 'Cloudflare: %s failed: %s; fix: check the endpoint and the network' % (what, exc)
    fix = FIXES.get(status, 'see the message')
    return 'Cloudflare: %s failed: HTTP %s %s; fix: %s' % (what, status, said or str(exc), fix)


def error_codes(exc):
    body = getattr(exc, 'body', None)
    return [e.get('code') for e in (body.get('errors') or []) if isinstance(e, dict)] if isinstance(body, dict) else []


def call(what, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except cloudflare.CloudflareError as exc:
        error = CfApiError(describe(exc, what))
        error.codes = error_codes(exc)
        raise error from None


def dump(obj):
    """An SDK model as a plain dict (None values left out)."""
    return obj.model_dump(exclude_none=True) if hasattr(obj, 'model_dump') else dict(obj)


def find_zone(client, name):
    """``{'id', 'name', 'name_servers'}`` of the account's zone that holds ``name`` (the longest matching suffix);
    CfApiError."""
    labels = name.lower().rstrip('.').split('.')
    for start in range(len(labels) - 1):
        candidate = '.'.join(labels[start:])
        found = call('list zones named %s' % candidate, lambda: list(client.zones.list(name=candidate)))
        if found:
            return {'id': found[0].id, 'name': found[0].name, 'name_servers': list(found[0].name_servers or [])}
    raise CfApiError('Cloudflare: %s is in no zone of this account; fix: add its zone to the account (or use a '
                     'token that sees it), or use a domain of one of its zones' % name)
