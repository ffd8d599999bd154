# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection details of postgres and redis, shared by app.py, worker.py and report.py.

Only environment variables set by the deploy are read (POSTGRES_HOST, POSTGRES_PORT,
POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD_FILE, REDIS_HOST, REDIS_PORT,
REDIS_PASSWORD_FILE); anything missing comes from the ResourceResolver with the ids in
FLEET_USER, FLEET_PROJECT and FLEET_ENV. Passwords are read from read-only files and
never printed.
"""
import os
import socket

from projectdeployer_resolver import ResourceResolver  # given to every Python app by the fleet (resolver/)


class ConfigError(RuntimeError):
    """A connection detail that neither the environment nor the resolver can give."""


def _ids():
    ids = [os.environ.get(k) for k in ("FLEET_USER", "FLEET_PROJECT", "FLEET_ENV")]
    if not all(ids):
        raise ConfigError("set FLEET_USER, FLEET_PROJECT and FLEET_ENV (or the *_HOST/_PORT/... variables)")
    return ids


def _resolve(var, resolver_call, service):
    value = os.environ.get(var)
    if value:
        return value
    user, project, env = _ids()
    return resolver_call(user, project, env, service)


def _secret(var, service):
    path = os.environ.get(var)
    if path:
        try:
            with open(path) as handle:
                return handle.read().strip()
        except OSError as exc:
            raise ConfigError("cannot read the password file %s named by %s: %s" % (path, var, exc.strerror))
    user, project, env = _ids()
    return ResourceResolver.get_service_password(user, project, env, service)


def postgres_params(service="postgres"):
    r = ResourceResolver
    return {
        "host": _resolve("POSTGRES_HOST", r.get_service_host, service),
        "port": int(_resolve("POSTGRES_PORT", r.get_service_port, service)),
        "dbname": _resolve("POSTGRES_DB", r.get_db_name, service),
        "user": os.environ.get("POSTGRES_USER") or r.get_db_user(*_ids()[:2], service),
        "password": _secret("POSTGRES_PASSWORD_FILE", service),
    }


def redis_params(service="redis"):
    r = ResourceResolver
    return {
        "host": _resolve("REDIS_HOST", r.get_service_host, service),
        "port": int(_resolve("REDIS_PORT", r.get_service_port, service)),
        "password": _secret("REDIS_PASSWORD_FILE", service),
    }


def describe():
    """One line per target, without passwords, for the startup log."""
    lines = []
    for name, getter in (("postgres", postgres_params), ("redis", redis_params)):
        try:
            p = getter()
        except ConfigError as exc:
            lines.append("%s: not configured (%s)" % (name, exc))
            continue
        where = "%s:%s" % (p["host"], p["port"])
        if name == "postgres":
            where = "%s@%s/%s" % (p["user"], where, p["dbname"])
        lines.append("%s: %s (password %s)" % (name, where, "from file" if p["password"] else "none"))
    return lines


def postgres_connect():
    import psycopg2
    p = postgres_params()
    return psycopg2.connect(connect_timeout=5, application_name=socket.gethostname(), **p)


def redis_client():
    import redis
    p = redis_params()
    return redis.Redis(host=p["host"], port=p["port"], password=p["password"] or None, socket_timeout=10,
                       socket_connect_timeout=5, decode_responses=True, health_check_interval=30)
