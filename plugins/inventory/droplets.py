# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
name: droplets
short_description: The fleet's DigitalOcean droplets as a dynamic inventory
version_added: 0.1.0
author:
  - Fleet Developers (@projectdeployer)
description:
  - Lists the DigitalOcean droplets that carry the fleet's tags (C(fleet), C(fleet-user:u1),
    C(fleet-project:u1_myapp), C(fleet-env:u1_myapp_prod), C(fleet-service:u1_myapp_prod_api)) through the
    DigitalOcean API with L(pydo,https://pypi.org/project/pydo/), filtered by tag on the server and read page by
    page, and makes each droplet a host named after the droplet.
  - Every host is in the group C(fleet_servers), in C(fleet_{user}_{project}_{env}) for each environment tag it
    carries and in C(fleet_service_{user}_{project}_{env}_{service}) for each service tag it carries, with C(-)
    turned into C(_) (for example C(fleet_u1_my_app_prod) and C(fleet_service_u1_my_app_prod_api)). A droplet tagged
    C(fleet-surplus) (beyond its service's count; see M(projectdeployer.fleet.droplet)) is also in C(fleet_surplus)
    and has C(fleet_droplet_surplus=true); the deploy role leaves it out and routes around it.
  - Host variables are C(ansible_host) (the public IPv4 address, or the private one with O(use_private_ip)),
    C(fleet_public_ip), C(fleet_private_ip), C(fleet_zone) (region slug), C(fleet_size) (size slug),
    C(fleet_droplet_id), C(fleet_status), C(fleet_vpc_uuid), C(fleet_tags), and C(fleet_droplet_user),
    C(fleet_droplet_project), C(fleet_droplet_env) and C(fleet_droplet_service) read from the fleet tags (from the
    first tag of each kind on a droplet that serves several). They are not named C(fleet_user), C(fleet_env), ...
    on purpose, because those are the run variables of the collection's playbooks (C(-e fleet_env=prod)), and an inventory
    value would silently stand in for a forgotten C(-e).
  - Every value that comes from the API is marked unsafe, so a droplet name or tag is never templated.
  - Droplets that are not C(active) yet (C(new)) or have no address to reach them by are skipped with a warning,
    unless O(include_inactive) is set.
  - "Configuration files must be named C(*.droplets.yml) or C(*.droplets.yaml) and contain
    C(plugin: projectdeployer.fleet.droplets)."
requirements:
  - pydo (the DigitalOcean Python client) on the controller
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; this inventory source is ignored unless it is set to this value.
    type: str
    required: true
    choices: ['projectdeployer.fleet.droplets']
  api_token:
    description:
      - The DigitalOcean API token (read access to droplets is enough). Required, from the file or the environment.
      - Better given through the environment (or an AWX credential that sets it) than written in the file.
        A Jinja2 template (for example a lookup of a vaulted variable file or a password store) is evaluated.
      - It is never written to the inventory, to the cache or to an error message.
    type: str
    aliases: [token]
    env:
      - name: DIGITALOCEAN_API_TOKEN
      - name: DIGITALOCEAN_TOKEN
      - name: DO_API_TOKEN
  api_endpoint:
    description:
      - The DigitalOcean API base URL; a simulator or a proxy can stand in for it.
      - Must be V(https://...); plain V(http://) is accepted only for a loopback address (a local test API).
    type: str
    default: https://api.digitalocean.com
    env:
      - name: DIGITALOCEAN_API_ENDPOINT
    ini:
      - section: digitalocean
        key: api_endpoint
  ca_bundle:
    description: A PEM file of CA certificates to verify the API's certificate with, instead of the system's.
    type: path
    env:
      - name: DIGITALOCEAN_CA_BUNDLE
    ini:
      - section: digitalocean
        key: ca_bundle
  validate_certs:
    description: Verify the API's TLS certificate. Turn off only against a throw-away test endpoint.
    type: bool
    default: true
    env:
      - name: DIGITALOCEAN_VALIDATE_CERTS
  request_timeout:
    description: Seconds to wait for a connection and for each answer of the API.
    type: float
    default: 30
  retry_max_attempts:
    description:
      - How many times one API request is tried at most. Rate limiting (HTTP 429, waiting as long as the API asks),
        connection failures and server errors (5xx) are retried, with a doubling wait and jitter.
    type: int
    default: 5
  retry_max_seconds:
    description: The most seconds spent retrying one request.
    type: float
    default: 120
  tag:
    description:
      - Only droplets that carry this tag.
      - When O(user), O(project), O(env) or O(service) is set, the API is asked for the narrowest of the fleet's
        tags they name and this tag is still required on every droplet.
      - An empty string lists every droplet of the account.
    type: str
    default: fleet
  user:
    description: Only the droplets of this user (tag C(fleet-user:{user})).
    type: str
  project:
    description: Only the droplets of this project of O(user) (tag C(fleet-project:{user}_{project})).
    type: str
  env:
    description: Only the droplets of this environment of O(user)'s O(project) (tag C(fleet-env:{user}_{project}_{env})).
    type: str
  service:
    description:
      - Only the droplets of this service of O(user)'s O(project) in O(env)
        (tag C(fleet-service:{user}_{project}_{env}_{service})).
    type: str
  use_private_ip:
    description:
      - Set C(ansible_host) to the droplet's private (VPC) IPv4 address instead of its public one, for a controller
        (or an AWX execution node) that runs inside the same VPC.
    type: bool
    default: false
  include_inactive:
    description:
      - Also list droplets that are not C(active) or have no address yet. They get no C(ansible_host) when they
        have no address of the kind asked for.
    type: bool
    default: false
notes:
  - "With O(cache=true) the list of droplets is kept by the inventory cache plugin, under a key made of the path of the
    configuration file, O(api_endpoint) and the tag asked for; C(ansible-inventory --flush-cache) or C(meta: refresh_inventory) reads the
    API again."
  - In AWX or Automation Controller, add an inventory source of type "Sourced from a project" that points at the
    configuration file in the project (for example C(inventory/digitalocean.droplets.yml)), and attach a credential
    that exposes the token as the environment variable E(DIGITALOCEAN_API_TOKEN) (a custom credential type with an
    C(env) injector). The execution environment needs this collection and C(pydo).
seealso:
  - name: DigitalOcean API, list droplets
    description: The API call behind this inventory and the droplet fields it returns.
    link: https://docs.digitalocean.com/reference/api/digitalocean/#tag/Droplets/operation/droplets_list
'''

EXAMPLES = r'''
# inventory/digitalocean.droplets.yml: every fleet droplet, the token from DIGITALOCEAN_API_TOKEN
plugin: projectdeployer.fleet.droplets

---
# One user's project environment, reached on the private (VPC) addresses from a controller inside the VPC
plugin: projectdeployer.fleet.droplets
user: u1
project: myapp
env: prod
use_private_ip: true

---
# Extra groups by region and size, a composed variable, and the list cached for an hour
plugin: projectdeployer.fleet.droplets
keyed_groups:
  - key: fleet_zone
    prefix: zone
  - key: fleet_size
    prefix: size
groups:
  fleet_api_servers: "'api' == fleet_droplet_service"
compose:
  ansible_user: "'root'"
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/fleet-inventory
cache_timeout: 3600

---
# AWX / Automation Controller:
#  1. Credential type "DigitalOcean API token" with input api_token (secret) and injector
#       env:
#         DIGITALOCEAN_API_TOKEN: "{{ api_token }}"
#     and a credential of that type.
#  2. Inventory source: Source "Sourced from a project", the project holding this file,
#     Inventory file "inventory/digitalocean.droplets.yml", the credential above,
#     "Update on launch" ticked. The execution environment needs this collection and pydo.
plugin: projectdeployer.fleet.droplets
'''

import hashlib
import re

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.api import DOApi, DOError, make_client
from ansible_collections.projectdeployer.fleet.plugins.module_utils._digitalocean.fleet import SURPLUS_TAG
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.naming import (
    ENV_RE, PROJECT_RE, SERVICE_RE, USER_RE, id_error, prefix)

display = Display()

# The host variables read from the fleet tags.  Not fleet_user/fleet_env/...: those are the
# playbooks' run variables and an inventory value would stand in for a forgotten -e.
TENANT_VARS = ('fleet_droplet_user', 'fleet_droplet_project', 'fleet_droplet_env', 'fleet_droplet_service')


def _bare(pattern):
    return pattern.pattern.lstrip('^').rstrip('$')


# The id patterns allow no "_" in any id, so the "_"-joined tag values split unambiguously.
# Most specific first.
TAG_RES = (
    ('service', re.compile(r'^fleet-service:(%s)_(%s)_(%s)_(%s)$' % (
        _bare(USER_RE), _bare(PROJECT_RE), _bare(ENV_RE), _bare(SERVICE_RE)))),
    ('env', re.compile(r'^fleet-env:(%s)_(%s)_(%s)$' % (_bare(USER_RE), _bare(PROJECT_RE), _bare(ENV_RE)))),
    ('project', re.compile(r'^fleet-project:(%s)_(%s)$' % (_bare(USER_RE), _bare(PROJECT_RE)))),
    ('user', re.compile(r'^fleet-user:(%s)$' % _bare(USER_RE))),
)
TAG_KINDS = tuple(kind for kind, dummy in TAG_RES)


def parse_fleet_tags(tags):
    """The tenants a droplet's tags name.

    Returns ``{'user': [(u,)], 'project': [(u, p)], 'env': [(u, p, e)], 'service': [(u, p, e, s)]}``
    in tag order; tags that are not the fleet's (or not valid ids) are ignored.
    """
    found = dict((kind, []) for kind in TAG_KINDS)
    for tag in tags or ():
        for kind, pattern in TAG_RES:
            match = pattern.match(tag) if isinstance(tag, str) else None
            if match and match.groups() not in found[kind]:
                found[kind].append(match.groups())
                break
    return found


def tenant_vars(found):
    """``fleet_droplet_user`` ... ``fleet_droplet_service`` from the first, most specific tags."""
    values = []
    for depth in range(4):
        # TAG_KINDS[:4 - depth]: the kinds of tag that name this level (a service tag names all four).
        # The most specific tag present wins, so that the four values belong together.
        names = [found[kind][0][depth] for kind in TAG_KINDS[:4 - depth] if found[kind]]
        values.append(names[0] if names else None)
    return dict(zip(TENANT_VARS, values))


def tenant_groups(found):
    """The default groups of one droplet, unsanitised: ``fleet_u1_myapp_prod``, ``fleet_service_u1_myapp_prod_api``."""
    envs = list(found['env']) + [svc[:3] for svc in found['service'] if svc[:3] not in found['env']]
    groups = ['fleet_%s_%s_%s' % env for env in envs]
    groups.extend('fleet_service_%s_%s_%s_%s' % svc for svc in found['service'])
    return groups


def group_name(name):
    """Our own group names are always made valid (ids hold only ``-`` that needs it)."""
    return to_safe_group_name(name, force=True, silent=True)


def _address(droplet, kind):
    for net in ((droplet.get('networks') or {}).get('v4') or ()):
        if isinstance(net, dict) and net.get('type') == kind and net.get('ip_address'):
            return net['ip_address']
    return None


def _slug(value):
    return value.get('slug') if isinstance(value, dict) else value


def reduce_droplet(droplet):
    """The fields of one API droplet the inventory uses: what is cached."""
    return {
        'id': droplet.get('id'),
        'name': droplet.get('name'),
        'status': droplet.get('status'),
        'region': _slug(droplet.get('region')),
        'size': droplet.get('size_slug') or _slug(droplet.get('size')),
        'image': _slug(droplet.get('image')),
        'vpc_uuid': droplet.get('vpc_uuid'),
        'public_ip': _address(droplet, 'public'),
        'private_ip': _address(droplet, 'private'),
        'tags': list(droplet.get('tags') or ()),
    }


def make_api(params):
    """The API client (module_utils/_digitalocean/api.py: pydo with one retry policy and one error shape)."""
    return DOApi(make_client(params), max_attempts=params['retry_max_attempts'],
                 max_seconds=params['retry_max_seconds'])


class FleetInventoryError(Exception):
    """One clear message for the user; turned into a single AnsibleParserError."""


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'projectdeployer.fleet.droplets'

    def __init__(self):
        super(InventoryModule, self).__init__()
        self._path = None

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('.droplets.yml', '.droplets.yaml'))

    # --- options -----------------------------------------------------------------------------------------------

    def _token(self):
        token = self.get_option('api_token')
        if token and self.templar.is_template(token):
            token = self.templar.template(token)
        return token

    def _filter_tags(self):
        """(the tag the API filters on, every tag a droplet must carry)."""
        ids = dict((kind, self.get_option(kind)) for kind in ('user', 'project', 'env', 'service'))
        needs = {'project': ('user',), 'env': ('user', 'project'), 'service': ('user', 'project', 'env')}
        for kind, value in ids.items():
            if value is None:
                continue
            err = id_error(kind, value)
            if err:
                raise FleetInventoryError('%s in %s' % (err, self._path))
            missing = [k for k in needs.get(kind, ()) if not ids[k]]
            if missing:
                raise FleetInventoryError('%s: %s needs %s as well' % (self._path, kind, ' and '.join(missing)))
        required = [self.get_option('tag')] if self.get_option('tag') else []
        user, project, env, service = ids['user'], ids['project'], ids['env'], ids['service']
        if service:
            required.append('fleet-service:%s_%s' % (prefix(user, project, env), service))
        elif env:
            required.append('fleet-env:%s' % prefix(user, project, env))
        elif project:
            required.append('fleet-project:%s_%s' % (user, project))
        elif user:
            required.append('fleet-user:%s' % user)
        if not required:
            return None, []
        return required[-1], required

    def get_cache_key(self, path, server_tag=None):
        """From the configuration file's path, the endpoint and the tag asked for (never the token)."""
        seed = '%s|%s|%s' % (path, self.get_option('api_endpoint'), server_tag or '')
        return '%s_%s' % (self.NAME.replace('.', '_'), hashlib.sha256(seed.encode('utf-8')).hexdigest()[:16])

    # --- the API -----------------------------------------------------------------------------------------------

    def _list_droplets(self, server_tag):
        params = dict((name, self.get_option(name)) for name in (
            'api_endpoint', 'ca_bundle', 'validate_certs', 'request_timeout', 'retry_max_attempts', 'retry_max_seconds'))
        params['api_token'] = self._token()
        kwargs = dict(tag_name=server_tag) if server_tag else {}
        try:
            api = make_api(params)
            droplets = api.list_all(api.client.droplets.list, 'droplets', what='listing droplets', **kwargs)
        except (ValueError, DOError) as exc:
            # ValueError: unusable options (no token, no pydo, a bad endpoint); DOError: the API said no.
            raise FleetInventoryError('%s (inventory source %s)' % (to_native(exc), self._path))
        by_id = {}
        for droplet in droplets:
            if isinstance(droplet, dict) and droplet.get('id') is not None:
                by_id.setdefault(droplet['id'], reduce_droplet(droplet))
        return sorted(by_id.values(), key=lambda d: (to_native(d.get('name')), d['id']))

    # --- the inventory -----------------------------------------------------------------------------------------

    def _populate(self, droplets, required_tags):
        use_private = self.get_option('use_private_ip')
        include_inactive = self.get_option('include_inactive')
        strict = self.get_option('strict')
        self.inventory.add_group('fleet_servers')
        seen = {}
        for droplet in droplets:
            name, tags = droplet.get('name'), droplet.get('tags') or []
            if not name or any(tag not in tags for tag in required_tags):
                continue
            address = droplet.get('private_ip') if use_private else droplet.get('public_ip')
            if not include_inactive and (droplet.get('status') != 'active' or not address):
                why = ('is %s' % droplet.get('status')) if droplet.get('status') != 'active' else (
                    'has no %s IPv4 address' % ('private' if use_private else 'public'))
                display.warning('DigitalOcean droplet %s (id %s) %s: skipped (include_inactive: true lists it)'
                                % (name, droplet.get('id'), why))
                continue
            if name in seen:
                display.warning('two DigitalOcean droplets are named %s (ids %s and %s): only id %s is in the inventory'
                                % (name, seen[name], droplet.get('id'), seen[name]))
                continue
            seen[name] = droplet.get('id')

            found = parse_fleet_tags(tags)
            hostvars = {
                'fleet_droplet_id': droplet.get('id'),
                'fleet_status': droplet.get('status'),
                'fleet_zone': droplet.get('region'),
                'fleet_size': droplet.get('size'),
                'fleet_image': droplet.get('image'),
                'fleet_vpc_uuid': droplet.get('vpc_uuid'),
                'fleet_public_ip': droplet.get('public_ip'),
                'fleet_private_ip': droplet.get('private_ip'),
                'fleet_tags': list(tags),
                'fleet_droplet_surplus': SURPLUS_TAG in tags,
            }
            hostvars.update(tenant_vars(found))
            if address:
                hostvars['ansible_host'] = address
            hostvars = wrap_var(hostvars)
            host = self.inventory.add_host(wrap_var(name), group='fleet_servers')
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            for group in tenant_groups(found) + (['fleet_surplus'] if SURPLUS_TAG in tags else []):
                self.inventory.add_child(self.inventory.add_group(group_name(group)), host)

            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path)
        self._path = path
        self._read_config_data(path)
        try:
            server_tag, required_tags = self._filter_tags()
            cache_key = self.get_cache_key(path, server_tag)
            use_cache = self.get_option('cache')
            droplets = None
            update_cache = False
            if use_cache and cache:
                try:
                    droplets = self._cache[cache_key]
                except KeyError:
                    update_cache = True
            elif use_cache:
                update_cache = True
            if droplets is None:
                droplets = self._list_droplets(server_tag)
            if update_cache:
                self._cache[cache_key] = droplets
        except FleetInventoryError as exc:
            # One line, no traceback and no chained API exception.
            raise AnsibleParserError(to_native(exc)) from None
        self._populate(droplets, required_tags)
