# SPDX-License-Identifier: GPL-3.0-or-later
"""A database's generated password cannot be dropped from the spec (_spec/auth), and server_settings."""
import copy
import os
import shlex

import pytest
import yaml

from ansible_collections.projectdeployer.fleet.plugins.module_utils._deploy.toggle import config_hash
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec import auth, wiring
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.schema import (
    SpecError, collect_errors, validate_project)
from ansible_collections.projectdeployer.fleet.plugins.module_utils._spec.wiring import container_definition

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))))
SOURCE = 'examples/myapp.yml'
SECRETS = '/local/u1/myapp/prod/secrets'


def _example():
    with open(os.path.join(REPO, SOURCE)) as handle:
        return yaml.safe_load(handle)


def _with(service, **keys):
    raw = _example()
    raw['services'][service].update(keys)
    return raw


def _env(service, name, value):
    return _with(service, env_vars={name: value, 'TZ': 'UTC'})


def _mount(service, source, target):
    return _with(service, volumes={source: target})


def _setting(service, name, value):
    return _with(service, server_settings={name: value, 'maxmemory' if service == 'redis' else 'work_mem': '64mb'})


PG_EXAMPLE = 'server_settings: {max_connections: 200, shared_buffers: 256MB}'
REDIS_EXAMPLE = 'server_settings: {maxmemory: 100mb, maxmemory-policy: allkeys-lru}'

# (id, spec, key path, words the line must hold)
REFUSED = [
    # the issue: a compose file's redis command, which ran redis with no password
    ('redis-command-from-compose', _with('redis', command='redis-server --appendonly yes --maxmemory 256mb'),
     'services.redis.command', ['without its generated password', 'server_settings: {appendonly: yes, maxmemory: 256mb}']),
    ('redis-command-keeps-config-drops-password',
     _with('redis', command='redis-server /run/secrets/redis.conf --appendonly yes --requirepass ""'),
     'services.redis.command', ['server_settings: {appendonly: yes}']),
    ('redis-command-same-as-collection', _with('redis', command='redis-server /run/secrets/redis.conf --appendonly yes'),
     'services.redis.command', ['server_settings: {appendonly: yes}']),
    ('redis-command-own-config', _with('redis', command='redis-server /usr/local/etc/redis/redis.conf'),
     'services.redis.command', [REDIS_EXAMPLE]),
    ('redis-command-unbalanced-quote', _with('redis', command='redis-server --save "'),
     'services.redis.command', [REDIS_EXAMPLE]),
    ('postgres-command-hba', _with('postgres', command='postgres -c hba_file=/etc/trust_hba.conf'),
     'services.postgres.command', ['other login rules', PG_EXAMPLE]),
    ('postgres-command-settings', _with('postgres', command='postgres -c max_connections=300 --shared-buffers=1GB'),
     'services.postgres.command', ['server_settings: {max_connections: 300, shared_buffers: 1GB}']),
    ('pg-host-auth-trust', _env('postgres', 'POSTGRES_HOST_AUTH_METHOD', 'trust'),
     'services.postgres.env_vars.POSTGRES_HOST_AUTH_METHOD', ['trust: with no password at all', PG_EXAMPLE]),
    ('pg-host-auth-md5', _env('postgres', 'POSTGRES_HOST_AUTH_METHOD', 'md5'),
     'services.postgres.env_vars.POSTGRES_HOST_AUTH_METHOD', ['remove POSTGRES_HOST_AUTH_METHOD']),
    ('pg-password', _env('postgres', 'POSTGRES_PASSWORD', 'hunter2hunter2'),
     'services.postgres.env_vars.POSTGRES_PASSWORD', ['replace the generated password']),
    ('pg-password-file', _env('postgres', 'POSTGRES_PASSWORD_FILE', '/etc/hostname'),
     'services.postgres.env_vars.POSTGRES_PASSWORD_FILE', ['replace the generated password file']),
    ('pg-user', _env('postgres', 'POSTGRES_USER', 'admin'), 'services.postgres.env_vars.POSTGRES_USER',
     ['rename the role']),
    ('pg-user-file', _env('postgres', 'POSTGRES_USER_FILE', '/x'), 'services.postgres.env_vars.POSTGRES_USER_FILE',
     ['rename the role']),
    ('pg-initdb-args-file', _env('postgres', 'POSTGRES_INITDB_ARGS_FILE', '/x'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS_FILE', ['cannot be checked']),
    ('pg-pgdata', _env('postgres', 'PGDATA', '/srv/old-cluster'), 'services.postgres.env_vars.PGDATA',
     ['data volume']),
    ('pg-initdb-auth-host', _env('postgres', 'POSTGRES_INITDB_ARGS', '--data-checksums --auth-host=trust'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets --auth-host', 'remove --auth-host from']),
    ('pg-initdb-auth', _env('postgres', 'POSTGRES_INITDB_ARGS', '--auth=trust'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets --auth,']),
    ('pg-initdb-auth-local', _env('postgres', 'POSTGRES_INITDB_ARGS', '--auth-local trust'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets --auth-local']),
    ('pg-initdb-auth-prefix', _env('postgres', 'POSTGRES_INITDB_ARGS', '--auth-h=trust'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets --auth-host']),
    ('pg-initdb-short', _env('postgres', 'POSTGRES_INITDB_ARGS', '-A trust'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets -A']),
    ('pg-initdb-short-bundled', _env('postgres', 'POSTGRES_INITDB_ARGS', '-kAtrust'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets -A']),
    ('pg-initdb-pwfile', _env('postgres', 'POSTGRES_INITDB_ARGS', '--pwfile=/run/known-secret'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets --pwfile', 'the first password']),
    ('pg-initdb-username', _env('postgres', 'POSTGRES_INITDB_ARGS', '-U admin'),
     'services.postgres.env_vars.POSTGRES_INITDB_ARGS', ['sets -U']),
    ('redis-allow-empty-password', _env('redis', 'ALLOW_EMPTY_PASSWORD', 'yes'),
     'services.redis.env_vars.ALLOW_EMPTY_PASSWORD', ['without a password', REDIS_EXAMPLE]),
    ('redis-password', _env('redis', 'REDIS_PASSWORD', 'x'), 'services.redis.env_vars.REDIS_PASSWORD',
     ['another password']),
    ('redis-password-file', _env('redis', 'REDIS_PASSWORD_FILE', 'x'), 'services.redis.env_vars.REDIS_PASSWORD_FILE',
     ['another password']),
    ('redis-args', _env('redis', 'REDIS_ARGS', '--requirepass ""'), 'services.redis.env_vars.REDIS_ARGS',
     ['server arguments']),
    ('redis-extra-flags', _env('redis', 'REDIS_EXTRA_FLAGS', 'x'), 'services.redis.env_vars.REDIS_EXTRA_FLAGS',
     ['server arguments']),
    ('redis-aclfile-env', _env('redis', 'REDIS_ACLFILE', 'x'), 'services.redis.env_vars.REDIS_ACLFILE',
     ['users and passwords']),
    ('redis-mount-over-config', _mount('redis', 'files/redis.conf', '/run/secrets/redis.conf:ro'),
     "services.redis.volumes['files/redis.conf']", ['would cover /run/secrets', REDIS_EXAMPLE]),
    ('redis-mount-secrets-dir', _mount('redis', 'conf', '/run/secrets'), 'services.redis.volumes.conf',
     ['would cover /run/secrets']),
    ('redis-mount-above-secrets', _mount('redis', 'run', '/run'), 'services.redis.volumes.run',
     ['would take in /run/secrets']),
    ('redis-mount-unnormalised', _mount('redis', 'conf', '//run/./secrets/'), 'services.redis.volumes.conf',
     ['a mount at /run/secrets would cover']),
    ('pg-mount-hba', _mount('postgres', 'files/pg_hba.conf', '/var/lib/postgresql/data/pg_hba.conf:ro'),
     "services.postgres.volumes['files/pg_hba.conf']", ['pg_hba.conf says how logins are checked', PG_EXAMPLE]),
    ('pg-mount-data-dir', _mount('postgres', 'olddata', '/var/lib/postgresql/data'), 'services.postgres.volumes.olddata',
     ['would cover /var/lib/postgresql/data']),
    ('pg-mount-above-data', _mount('postgres', 'pg', '/var/lib/postgresql'), 'services.postgres.volumes.pg',
     ['would take in /var/lib/postgresql/data']),
    ('pg-mount-socket', _mount('postgres', 'sock', '/var/run/postgresql'), 'services.postgres.volumes.sock',
     ['local socket, which logs in without a password']),
    ('pg-mount-socket-run', _mount('postgres', 'sock', '/run/postgresql'), 'services.postgres.volumes.sock',
     ['would cover /run/postgresql']),
    ('pg-mount-above-socket', _mount('postgres', 'sock', '/var/run'), 'services.postgres.volumes.sock',
     ['would take in /var/run/postgresql']),
    ('pg-mount-above-two', _mount('postgres', 'r', '/run'), 'services.postgres.volumes.r',
     ['would take in /run/postgresql']),
    ('pg-mount-secrets', _mount('postgres', 'files/pw', '/run/secrets/postgres_password'),
     "services.postgres.volumes['files/pw']", ['would cover /run/secrets']),
    ('app-mounts-secrets-dir', _mount('api', 'secrets/', '/app/secrets'), "services.api.volumes['secrets/']",
     ["the project's secrets directory", 'depends_on']),
    ('app-mounts-a-secret', _mount('api', './secrets/redis_redis.conf', '/app/r.conf'),
     "services.api.volumes['./secrets/redis_redis.conf']", ["the project's secrets directory"]),
    ('app-mounts-project-dir', _mount('api', './', '/app/all'), "services.api.volumes['./']",
     ['the project directory with its secrets']),
    ('app-mounts-postgres-data-volume', _mount('api', 'data_postgres', '/pg'), 'services.api.volumes.data_postgres',
     ["the collection's own", 'pg_hba.conf', 'choose another name']),
    ('redis-mounts-a-logs-volume', _mount('redis', 'logs_api', '/logs'), 'services.redis.volumes.logs_api',
     ["the collection's own"]),
    ('redis-setting-requirepass', _setting('redis', 'requirepass', ''), 'services.redis.server_settings.requirepass',
     ['is the password itself', 'remove requirepass from server_settings']),
    ('redis-setting-protected-mode', _setting('redis', 'protected-mode', 'no'),
     'services.redis.server_settings.protected-mode', ["collection's redis.conf"]),
    ('redis-setting-user', _setting('redis', 'user', 'default on nopass ~* +@all'),
     'services.redis.server_settings.user', ['nopass']),
    ('redis-setting-aclfile', _setting('redis', 'aclfile', '/data/users.acl'), 'services.redis.server_settings.aclfile',
     ['users and passwords']),
    ('redis-setting-include', _setting('redis', 'include', '/data/more.conf'), 'services.redis.server_settings.include',
     ['another configuration file']),
    ('redis-setting-rename-command', _setting('redis', 'rename-command', 'CONFIG ""'),
     'services.redis.server_settings.rename-command', ['AUTH, ACL and CONFIG']),
    ('redis-setting-masterauth', _setting('redis', 'masterauth', 'x'), 'services.redis.server_settings.masterauth',
     ['command line']),
    ('redis-setting-smuggles-option', _setting('redis', 'save', '900 1 --requirepass x'),
     'services.redis.server_settings.save', ['starting with --', 'its own key in server_settings']),
    ('pg-setting-hba-file', _setting('postgres', 'hba_file', '/tmp/hba'), 'services.postgres.server_settings.hba_file',
     ['says how logins are checked', 'remove hba_file from server_settings']),
    ('pg-setting-hba-file-dashed', _setting('postgres', 'hba-file', '/tmp/hba'),
     'services.postgres.server_settings.hba-file', ['says how logins are checked']),
    ('pg-setting-ident-file', _setting('postgres', 'ident_file', '/x'), 'services.postgres.server_settings.ident_file',
     ['maps system users']),
    ('pg-setting-config-file', _setting('postgres', 'config_file', '/x'),
     'services.postgres.server_settings.config_file', ['another hba_file']),
    ('pg-setting-data-directory', _setting('postgres', 'data_directory', '/x'),
     'services.postgres.server_settings.data_directory', ['another data directory']),
    ('pg-setting-socket-dir', _setting('postgres', 'unix_socket_directories', '/shared'),
     'services.postgres.server_settings.unix_socket_directories', ['local socket']),
    ('pg-setting-socket-perms', _setting('postgres', 'unix_socket_permissions', '0777'),
     'services.postgres.server_settings.unix_socket_permissions', ['to others']),
    ('pg-setting-socket-group', _setting('postgres', 'unix_socket_group', 'users'),
     'services.postgres.server_settings.unix_socket_group', ['to others']),
]


@pytest.mark.parametrize('raw,path,words', [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_every_form_that_drops_the_password_is_refused_in_one_line(raw, path, words):
    errors = collect_errors(raw, SOURCE, 'prod')
    assert len(errors) == 1, errors
    line = errors[0]
    assert line.startswith('%s: %s: ' % (SOURCE, path)), line
    assert '; fix: ' in line and '\n' not in line, line
    if not path.startswith('services.api.') and 'volumes.logs_' not in path:
        assert 'server_settings' in line.split('; fix: ', 1)[1], line
    for word in words:
        assert word in line, (word, line)
    # env_vars values are never repeated
    for secret in ('hunter2', 'known-secret', 'old-cluster', 'admin'):
        assert secret not in line
    with pytest.raises(SpecError) as info:
        validate_project(raw, SOURCE, 'prod')
    assert info.value.path == path and str(info.value) == line


def test_the_issue_and_trust_messages_word_for_word():
    [line] = collect_errors(_with('redis', command='redis-server --appendonly yes --maxmemory 256mb'), SOURCE, 'prod')
    assert line == (
        'examples/myapp.yml: services.redis.command: a command of its own would start redis without its generated '
        'password; the collection runs redis-server /run/secrets/redis.conf, the file that holds it; fix: remove '
        'command and put the settings in server_settings, for example server_settings: '
        '{appendonly: yes, maxmemory: 256mb}')
    [line] = collect_errors(_env('postgres', 'POSTGRES_HOST_AUTH_METHOD', 'trust'), SOURCE, 'prod')
    assert line == (
        'examples/myapp.yml: services.postgres.env_vars.POSTGRES_HOST_AUTH_METHOD: POSTGRES_HOST_AUTH_METHOD would '
        'change how postgres checks logins over the network (trust: with no password at all), and postgres always '
        'runs with its generated password; fix: remove POSTGRES_HOST_AUTH_METHOD; put settings of the server itself '
        'in server_settings, for example server_settings: {max_connections: 200, shared_buffers: 256MB}')


def test_several_forms_are_all_collected():
    raw = _with('redis', command='redis-server', env_vars={'ALLOW_EMPTY_PASSWORD': 'yes'},
                volumes={'conf': '/run/secrets'}, server_settings={'requirepass': ''})
    raw['services']['postgres'].update(env_vars={'POSTGRES_HOST_AUTH_METHOD': 'trust', 'PGDATA': '/x'})
    paths = [e.split(': ')[1] for e in collect_errors(raw, SOURCE, 'prod')]
    assert paths == ['services.postgres.env_vars.PGDATA', 'services.postgres.env_vars.POSTGRES_HOST_AUTH_METHOD',
                     'services.redis.command', 'services.redis.env_vars.ALLOW_EMPTY_PASSWORD',
                     'services.redis.volumes.conf', 'services.redis.server_settings.requirepass']


@pytest.mark.parametrize('service,keys', [
    ('postgres', {'env_vars': {'POSTGRES_INITDB_ARGS': '--data-checksums --locale=C -E UTF8', 'TZ': 'UTC'}}),
    ('postgres', {'env_vars': {'POSTGRES_DB_COMMENT': 'x', 'PGTZ': 'UTC'}}),
    ('postgres', {'volumes': {'files/init': '/docker-entrypoint-initdb.d:ro', 'pglogs': '/var/log/postgresql'}}),
    ('postgres', {'volumes': {'files/run-postgresql': '/var/lib/postgresql-extra'}}),
    ('redis', {'volumes': {'dumps': '/backup', 'files/secrets': '/secrets-of-the-app'}}),
    ('redis', {'env_vars': {'REDIS_HOST': 'x', 'TZ': 'UTC'}}),
    ('api', {'volumes': {'files/secrets': '/app/not-ours', 'secrets': '/app/named-volume', 'mydata_x': '/x',
                         'files/data_postgres': '/y'}}),
    ('postgres', {'server_settings': {'password_encryption': 'md5', 'listen_addresses': '*', 'port': 5432}}),
    ('redis', {'server_settings': {'maxmemory': '100mb', 'unixsocket': '/tmp/redis.sock', 'save': '',
                                   'slowlog-log-slower-than': -1}}),
])
def test_what_keeps_the_password_is_accepted(service, keys):
    assert collect_errors(_with(service, **keys), SOURCE, 'prod') == []


def test_opensearch_has_no_password_to_keep_yet():
    raw = _example()
    raw['services']['search'] = {'type': 'opensearch', 'command': 'opensearch -Ediscovery.type=single-node',
                                 'env_vars': {'DISABLE_SECURITY_PLUGIN': 'true'}}
    assert collect_errors(raw, SOURCE, 'prod') == []
    assert auth.GUARDS['opensearch'].command is None
    raw['services']['search']['server_settings'] = {'cluster.name': 'shop'}   # settings, as the image reads them
    assert collect_errors(raw, SOURCE, 'prod') == []
    raw['services']['search']['server_settings'] = {'Cluster Name': 'shop'}
    [line] = collect_errors(raw, SOURCE, 'prod')
    assert "services.search.server_settings['Cluster Name']" in line and 'not a server setting name' in line


@pytest.mark.parametrize('settings,path,word', [
    ({'Max Memory': '1mb'}, "services.redis.server_settings['Max Memory']", 'not a server setting name'),
    ({'MAXMEMORY': '1mb'}, 'services.redis.server_settings.MAXMEMORY', 'lowercase'),
    ({'save': ['900 1']}, 'services.redis.server_settings.save', 'got a list'),
    ({'save': None}, 'services.redis.server_settings.save', 'save: ""'),
    ({'maxmemory': '1mb\nrequirepass x'}, 'services.redis.server_settings.maxmemory', 'one line'),
])
def test_malformed_server_settings(settings, path, word):
    errors = collect_errors(_with('redis', server_settings=settings), SOURCE, 'prod')
    assert len(errors) == 1 and errors[0].startswith('%s: %s: ' % (SOURCE, path)) and word in errors[0], errors


def test_server_settings_reach_the_real_command():
    raw = _with('redis', server_settings={'maxmemory': '100mb', 'save': '900 1 300 10', 'appendonly': False,
                                          'maxmemory-policy': 'allkeys-lru', 'slowlog-log-slower-than': -1})
    raw['services']['postgres']['server_settings'] = {'max_connections': 200, 'log_line_prefix': '%m [%p] ',
                                                      'fsync': True, 'auto_explain.log_min_duration': '1s'}
    spec = validate_project(raw, SOURCE, 'prod')
    assert spec['services']['redis']['server_settings']['appendonly'] is False
    ports = {'postgres': 5563, 'redis': 5511, 'api': 5906, 'worker': 5574, 'report': 5610}
    redis = container_definition(spec, 'redis', ports, SECRETS)
    assert redis['command'] == ('redis-server /run/secrets/redis.conf --appendonly yes --appendonly no '
                                '--maxmemory 100mb --maxmemory-policy allkeys-lru --save 900 1 300 10 '
                                '--slowlog-log-slower-than -1')
    pg = container_definition(spec, 'postgres', ports, SECRETS)
    # docker-py splits a string command as shlex does
    assert shlex.split(pg['command']) == ['postgres', '-c', 'auto_explain.log_min_duration=1s', '-c', 'fsync=on',
                                          '-c', 'log_line_prefix=%m [%p] ', '-c', 'max_connections=200']
    # the password stays wired as before
    assert pg['env_vars']['POSTGRES_PASSWORD_FILE'] == '/run/secrets/postgres_password'
    assert {'source': SECRETS + '/redis_redis.conf', 'target': '/run/secrets/redis.conf', 'owner': 999,
            'in_place': True} in redis['secrets']
    empty = _with('redis', server_settings={'save': ''})
    assert shlex.split(container_definition(validate_project(empty, SOURCE, 'prod'), 'redis', ports,
                                            SECRETS)['command'])[-2:] == ['--save', '']


def _hash(raw, name):
    spec = validate_project(raw, env='prod')
    ports = dict((n, 5000 + i) for i, n in enumerate(sorted(spec['services'])))
    definition = container_definition(spec, name, ports, SECRETS, {'postgres': 'fleet-world/postgres:{version}'})
    desired = dict(definition, user=spec['user'], project=spec['project'], env=spec['env'], service=name)
    return definition, config_hash(desired, 'sha256:x', {})


def test_a_spec_without_the_key_keeps_its_containers():
    """The definitions (and so the config hashes) of databases without server_settings are those from before it."""
    pg, pg_hash = _hash(_example(), 'postgres')
    redis, redis_hash = _hash(_example(), 'redis')
    assert pg['command'] is None and pg_hash == '4624a5d56897b51e'
    assert redis['command'] == 'redis-server /run/secrets/redis.conf --appendonly yes'
    assert redis_hash == 'fd12dd504bfd744b'
    assert _hash(_with('redis', server_settings={}), 'redis')[1] == redis_hash
    assert _hash(_with('postgres', server_settings={}), 'postgres')[1] == pg_hash
    assert _hash(_with('redis', server_settings={'maxmemory': '1mb'}), 'redis')[1] != redis_hash
    assert _hash(_with('postgres', server_settings={'work_mem': '8MB'}), 'postgres')[1] != pg_hash


def test_wiring_never_runs_a_spec_command_on_a_database():
    spec = validate_project(_example(), SOURCE, 'prod')
    spec = copy.deepcopy(spec)
    spec['services']['redis']['command'] = 'redis-server'
    spec['services']['postgres']['command'] = 'postgres -c hba_file=/x'
    ports = dict((n, 5000) for n in spec['services'])
    assert container_definition(spec, 'redis', ports, SECRETS)['command'] == wiring.REDIS_COMMAND
    assert container_definition(spec, 'postgres', ports, SECRETS)['command'] is None


def test_the_guarded_paths_are_those_wiring_uses():
    assert auth.SECRETS_DIR == wiring.SECRETS_IN_CONTAINER
    for service_type in ('postgres', 'redis'):
        assert wiring.SECRETS_IN_CONTAINER in auth.GUARDS[service_type].paths
    assert wiring.DATA_PATHS['postgres'] in auth.GUARDS['postgres'].paths
    assert wiring.REDIS_COMMAND.split()[1] == auth.SECRETS_DIR + '/redis.conf'
    assert set(auth.GUARDS) == {'postgres', 'redis', 'opensearch'}


@pytest.mark.parametrize('service_type,command,expected', [
    ('redis', 'redis-server --save "" --appendonly yes', '{save: "", appendonly: yes}'),
    ('redis', 'redis-server --save 900 1 --requirepass x --masterauth y', '{save: "900 1"}'),
    ('redis', 'redis-server --notify-keyspace-events Ex', '{notify-keyspace-events: Ex}'),
    ('postgres', 'postgres -c max_connections=200 -cwork_mem=8MB -c hba_file=/x', '{max_connections: 200, work_mem: 8MB}'),
    ('postgres', 'postgres -c "log_line_prefix=%m [%p] "', '{log_line_prefix: "%m [%p] "}'),
    ('postgres', 'sh -c "exec postgres"', '{max_connections: 200, shared_buffers: 256MB}'),
])
def test_a_refused_command_suggests_its_settings(service_type, command, expected):
    assert auth.suggest_settings(service_type, command) == expected
