#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: tls_certificate
short_description: Decide which of a tenant's certificates to issue or renew and keep them on the controller
version_added: 0.3.0
description:
  - The controller's store of a tenant's certificates (docs/tls.md) holds per domain C(DOMAIN.pem) (the private key
    and the full chain, 0600 in a 0700 directory) and C(DOMAIN.json) (the last attempt).
  - O(state=planned) says for each domain whether to ask the CA now, by lifetime fraction (due when a third of
    the lifetime or less is left), by the CA's renewal information (O(early)), and by the backoff
    of failed attempts (5 minutes doubling to 6 hours). It reads files only; no CA is asked.
  - O(state=installed) puts an issuance's C(DOMAIN.new.key) and C(DOMAIN.new.crt) in place as C(DOMAIN.pem) in
    one rename, after checking that the key is the certificate's.
  - O(state=failed) records a failed attempt; the current certificate stays.
  - This is an action plugin; it runs on the controller only. It needs the Python library C(cryptography).
author:
  - Fleet Developers (@projectdeployer)
extends_documentation_fragment:
  - projectdeployer.fleet._attributes
attributes:
  check_mode:
    support: full
    details: O(state=planned) changes nothing; the other states only say they would change.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: O(state=planned) is; O(state=installed) and O(state=failed) record an attempt each time.
options:
  path:
    description: The tenant's certificate directory on the controller, C({controller_root}/{user}/{project}/{env}/tls).
    type: path
    required: true
  state:
    description: V(planned), V(installed) or V(failed), see the description.
    type: str
    choices: [planned, installed, failed]
    default: planned
  domains:
    description: With O(state=planned), the domains served over HTTPS and how each gets its certificate.
    type: list
    elements: dict
    default: []
    suboptions:
      domain:
        description: The domain (the certificate's one name).
        type: str
        required: true
      mode:
        description: The service's C(ssl_mode).
        type: str
        required: true
        choices: [letsencrypt, self-signed]
  domain:
    description: With O(state=installed) or O(state=failed), the domain.
    type: str
  mode:
    description: With O(state=installed) or O(state=failed), the domain's C(ssl_mode).
    type: str
    choices: [letsencrypt, self-signed]
  error:
    description: With O(state=failed), what went wrong, in one line (shown by C(status.yml)).
    type: str
    default: ''
  early:
    description:
      - With O(state=planned), the domains whose CA asked for an early renewal (its renewal information, RFC 9773,
        as M(community.crypto.acme_certificate_renewal_info) reads it); they are due now, after their backoff.
    type: list
    elements: str
    default: []
  events:
    description:
      - With O(state=installed) or O(state=failed), a JSON-lines file on the controller to which the attempt is
        appended (time, domain, mode, C(issued) with serial and expiry, or C(failed) with the error and the next
        attempt) for monitoring; the deploy role uses C({controller_root}/{user}/{project}/{env}/monitoring/tls.jsonl).
    type: path
  force:
    description:
      - With O(state=planned), every domain is due now, whatever its lifetime and backoff (a key that may have
        leaked, a changed CA). Each forced renewal is an order at the CA, so mind its rate limits.
    type: bool
    default: false
seealso:
  - module: community.crypto.acme_certificate
  - module: community.crypto.x509_certificate
'''

EXAMPLES = r'''
- name: Which certificates are due
  projectdeployer.fleet.tls_certificate:
    path: /home/ops/.fleet/u1/myapp/prod/tls
    domains:
      - {domain: api.example.com, mode: letsencrypt}
  register: tls_plan
'''

RETURN = r'''
certificates:
  description: With O(state=planned), one row per domain.
  returned: state is planned
  type: list
  elements: dict
  sample:
    - {domain: api.example.com, mode: letsencrypt, action: keep, why: valid until 2027-02-01 10:00 UTC,
       next: '2027-01-02T10:00:00Z', issuer: CN=R11,O=Let's Encrypt,C=US, not_after: '2027-02-01T10:00:00Z',
       serial: 3a9f..., days_left: 57.1, failures: 0, last_error: '', path: /home/ops/.fleet/u1/myapp/prod/tls/api.example.com.pem}
table:
  description: With O(state=planned), the rows as a table a person reads (domain, mode, issuer, not after, days left,
    next renewal, last error).
  returned: state is planned
  type: list
  elements: str
due:
  description: With O(state=planned), the domains to issue or renew now.
  returned: state is planned
  type: list
  elements: str
  sample: [api.example.com]
serial:
  description: With O(state=installed), the new certificate's serial number (hex).
  returned: state is installed
  type: str
not_after:
  description: With O(state=installed), when the new certificate expires.
  returned: state is installed
  type: str
issuer:
  description: With O(state=installed), the new certificate's issuer.
  returned: state is installed
  type: str
failures:
  description: With O(state=failed), the consecutive failed attempts so far.
  returned: state is failed
  type: int
next:
  description: With O(state=failed), the earliest time of the next attempt.
  returned: state is failed
  type: str
'''
