# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's ResourceResolver: where an app deployed by projectdeployer.fleet finds its dependencies.

Installable alone in an application image (`pip install projectdeployer-resolver`, no Ansible); everything
here mirrors what the fleet deploy wires into the container, so the
app can ask the resolver when an environment variable is missing:

- services are reached through the tenant's nginx sidecar, host ``nginx``;
- on the stable internal port ``sha256("{user}_{project}_{env}_{service}_internal") % 1000 + 5000``
  unless the deploy moved it (hash collision) and says so in ``FLEET_PORT_<SERVICE>``;
- passwords are read-only files ``/run/secrets/<service>_password``;
- database ``{project}_{env}`` and role ``{user}_{project}`` (``-`` becomes ``_``).
"""
import hashlib
import os

SECRETS_DIR = os.environ.get("FLEET_SECRETS_DIR", "/run/secrets")
SIDECAR_HOST = "nginx"


def _env_key(service):
    return service.upper().replace("-", "_")


def _quote(value):
    from urllib.parse import quote
    return quote(str(value), safe="")


class ResourceResolver:
    """Static helpers, called with the user id first, like the seed's API."""

    @staticmethod
    def get_service_host(user, project, env, service):
        """The host apps connect to: always the sidecar alias ``nginx``."""
        return SIDECAR_HOST

    @staticmethod
    def hashed_internal_port(user, project, env, service):
        key = "%s_%s_%s_%s_internal" % (user, project, env, service)
        return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 1000 + 5000

    @staticmethod
    def get_service_port(user, project, env, service):
        """The stable internal port; ``FLEET_PORT_<SERVICE>`` wins (collisions can move ports)."""
        override = os.environ.get("FLEET_PORT_%s" % _env_key(service))
        if override:
            return int(override)
        return ResourceResolver.hashed_internal_port(user, project, env, service)

    @staticmethod
    def get_service_password(user, project, env, service):
        """The service's password from its read-only secret file (None when there is none)."""
        path = os.path.join(SECRETS_DIR, "%s_password" % service)
        try:
            with open(path) as handle:
                return handle.read().strip()
        except FileNotFoundError:
            return None

    @staticmethod
    def get_db_name(user, project, env, service="postgres"):
        return ("%s_%s" % (project, env)).replace("-", "_")

    @staticmethod
    def get_db_user(user, project, *rest):
        """``{user}_{project}``; accepts ``(user, project, service)`` and ``(user, project, env, service)``."""
        return ("%s_%s" % (user, project)).replace("-", "_")

    @staticmethod
    def get_postgres_connection_string(user, project, env, service="postgres"):
        r = ResourceResolver
        password = r.get_service_password(user, project, env, service)
        auth = _quote(r.get_db_user(user, project, service))
        if password:
            auth += ":" + _quote(password)
        return "postgresql://%s@%s:%d/%s" % (auth, r.get_service_host(user, project, env, service),
                                             r.get_service_port(user, project, env, service),
                                             r.get_db_name(user, project, env, service))

    @staticmethod
    def get_redis_connection_string(user, project, env, service="redis", db=0):
        r = ResourceResolver
        password = r.get_service_password(user, project, env, service)
        auth = ":%s@" % _quote(password) if password else ""
        return "redis://%s%s:%d/%d" % (auth, r.get_service_host(user, project, env, service),
                                       r.get_service_port(user, project, env, service), db)

    @staticmethod
    def get_container_name(user, project, env, service):
        return "%s_%s_%s_%s" % (user, project, env, service)

    @staticmethod
    def get_image_name(docker_hub_user, user, project, env, service, version="latest"):
        name = "%s_%s_%s_%s" % (user, project, env, service)
        if docker_hub_user:
            name = "%s/%s" % (docker_hub_user.rstrip("/"), name)
        return "%s:%s" % (name, version)

    @staticmethod
    def detect_target_os(server_ip=None, user="root"):
        """``"linux"``: the fleet's servers (droplets and this machine) are Debian; Windows hosts are not served."""
        return "linux"
