# SPDX-License-Identifier: GPL-3.0-or-later
"""The generated Dockerfiles of Node.js services and React sites (pure text)."""
import json
import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile import DockerfileError
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.dockerfile_node import (
    PNPM_VERSION, chosen_lockfile, install_command, nodejs_dockerfile, react_dockerfile)

import dockerfile_text as df

NODE = 'node:18-slim'
NGINX = 'nginx:stable'


def _install_runs(lines):
    return [line for line in lines if line.startswith('RUN --mount=type=secret')]


@pytest.fixture
def api():
    return nodejs_dockerfile(NODE, 'npm', 'node server.js', 3000, health_path='/health',
                             lockfiles=['package-lock.json'], labels={'fleet.service': 'api'})


@pytest.fixture
def built_api():
    return nodejs_dockerfile(NODE, 'npm', ['node', 'dist/server.js'], 8080, build_command='npm run build',
                             lockfiles=['package-lock.json'])


@pytest.fixture
def site():
    return react_dockerfile(NODE, NGINX, 'npm', lockfiles=['package-lock.json'], labels={'fleet.service': 'web'})


# --- nodejs --------------------------------------------------------------------------------------

def test_nodejs_stages(api, built_api):
    assert list(df.stages(api)) == ['prod-deps', 'runtime']
    assert list(df.stages(built_api)) == ['builder', 'prod-deps', 'runtime']
    for name, stage in df.stages(built_api).items():
        assert stage[0] == 'FROM node:18-slim AS %s' % name


def test_builder_installs_before_the_code_then_builds(built_api):
    builder = df.stages(built_api)['builder']
    manifests = df.index(builder, 'COPY ["app/package.json", "app/package-lock.json", "/app/"]')
    install = df.index(builder, 'RUN --mount=type=secret')
    code = df.index(builder, 'COPY ["app/", "/app/"]')
    build = df.index(builder, 'RUN npm run build')
    strip = df.index(builder, 'RUN rm -rf /app/node_modules')
    assert manifests < install < code < build < strip
    assert builder[install].rstrip().endswith('npm ci --no-audit --no-fund'), 'the builder has the dev dependencies'


def test_without_build_command_the_runtime_copies_the_code_from_the_context(api):
    runtime = df.stages(api)['runtime']
    assert 'COPY --chown=1000:1000 ["app/", "/app/"]' in runtime
    assert not any('--from=builder' in line for line in runtime)


def test_prod_deps_has_only_the_manifests_and_production_install(api):
    deps = df.stages(api)['prod-deps']
    copies = [line for line in deps if line.startswith('COPY')]
    assert copies == ['COPY ["app/package.json", "app/package-lock.json", "/app/"]'], 'no code in prod-deps'
    (install,) = _install_runs(deps)
    assert 'npm ci --omit=dev --no-audit --no-fund && mkdir -p node_modules' in install


def test_runtime_layers_deps_then_code_as_non_root(api):
    runtime = df.stages(api)['runtime']
    deps = df.index(runtime, 'COPY --from=prod-deps /app/node_modules /app/node_modules')
    code = df.index(runtime, 'COPY --chown=1000:1000 ["app/", "/app/"]')
    user = df.index(runtime, 'USER ')
    cmd = df.index(runtime, 'CMD ')
    assert deps < code < user < cmd
    assert runtime[user] == 'USER 1000:1000'
    assert json.loads(runtime[cmd][4:]) == ['node', 'server.js']
    env = runtime[df.index(runtime, 'ENV ')]
    assert 'NODE_ENV=production' in env and 'PORT=3000' in env
    assert not any(line.startswith('RUN') for line in runtime), 'the runtime stage runs nothing'


def test_last_user_of_the_image_is_not_root(api, site):
    for text in (api, site):
        users = [line for line in df.instructions(text) if line.startswith('USER ')]
        assert users and users[-1].split()[1].split(':')[0] not in ('0', 'root')


def test_secrets_are_mounted_only_in_install_steps_and_never_kept(api, built_api, site):
    for text in (api, built_api, site):
        lines = df.instructions(text)
        for run in _install_runs(lines):
            assert '--mount=type=secret,id=fleet_ca ' in run and '--mount=type=secret,id=fleet_npmrc ' in run
            assert '--mount=type=cache,id=fleet-npm,target=/root/.npm' in run
            assert 'if [ -f /run/secrets/fleet_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/fleet_ca; fi' in run
            assert ('if [ -f /run/secrets/fleet_npmrc ]; then export NPM_CONFIG_USERCONFIG=/run/secrets/fleet_npmrc; '
                    'fi') in run
        for line in lines:
            if line.startswith(('ENV', 'ARG', 'LABEL', 'COPY', 'HEALTHCHECK', 'CMD')):
                assert 'secrets' not in line and 'NODE_EXTRA_CA_CERTS' not in line and 'USERCONFIG' not in line
            if 'fleet_ca' in line or 'fleet_npmrc' in line:
                assert line.startswith('RUN --mount=type=secret'), line


def test_only_the_built_in_frontend_syntax(api, site):
    for text in (api, site):
        assert not text.startswith('# syntax') and 'syntax=' not in text
        assert '<<' not in text, 'no heredocs in the Docker 20.10 frontend'


def test_healthcheck_iff_port(api):
    runtime = df.stages(api)['runtime']
    assert 'EXPOSE 3000' in runtime
    health = runtime[df.index(runtime, 'HEALTHCHECK ')]
    assert health.startswith('HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ')
    argv = json.loads(health.split(' CMD ', 1)[1])
    assert argv[:2] == ['node', '-e']
    assert 'host: "127.0.0.1", port: 3000, path: "/health"' in argv[2]
    assert 'statusCode < 400' in argv[2]

    worker = nodejs_dockerfile(NODE, 'npm', 'node worker.js', None)
    assert 'EXPOSE' not in worker and 'HEALTHCHECK' not in worker and 'PORT=' not in worker


def test_health_path_defaults_to_root_and_gets_a_slash():
    assert 'path: \\"/\\"' in nodejs_dockerfile(NODE, 'npm', 'node s.js', 9000)
    assert 'path: \\"/ready\\"' in nodejs_dockerfile(NODE, 'npm', 'node s.js', 9000, health_path='ready')


@pytest.mark.skipif(not shutil.which('node'), reason='no node here to parse the health check')
def test_node_health_check_is_valid_javascript(api):
    health = [line for line in df.instructions(api) if line.startswith('HEALTHCHECK')][0]
    code = json.loads(health.split(' CMD ', 1)[1])[2]
    subprocess.check_call(['node', '-e', 'new Function(process.argv[1])', code])


@pytest.mark.parametrize('manager, lockfiles, dev, prod, copied', [
    ('npm', ['package-lock.json'], 'npm ci --no-audit', 'npm ci --omit=dev --no-audit', 'package-lock.json'),
    ('npm', ['npm-shrinkwrap.json', 'package-lock.json'], 'npm ci --no-audit', 'npm ci --omit=dev',
     'npm-shrinkwrap.json'),
    ('npm', [], 'npm install --no-audit', 'npm install --omit=dev --no-audit', None),
    ('npm', ['yarn.lock'], 'npm install --no-audit', 'npm install --omit=dev', None),
    ('yarn', ['yarn.lock', 'package-lock.json'], 'yarn install --frozen-lockfile --non-interactive',
     'yarn install --frozen-lockfile --production --non-interactive', 'yarn.lock'),
    ('yarn', None, 'yarn install --non-interactive', 'yarn install --production --non-interactive', None),
    ('pnpm', ['pnpm-lock.yaml'], 'pnpm install --frozen-lockfile --store-dir',
     'pnpm install --frozen-lockfile --prod --store-dir', 'pnpm-lock.yaml'),
    ('pnpm', [], 'pnpm install --no-frozen-lockfile --store-dir', 'pnpm install --no-frozen-lockfile --prod', None),
])
def test_lockfile_variants(manager, lockfiles, dev, prod, copied):
    text = nodejs_dockerfile(NODE, manager, 'node s.js', 3000, build_command='%s run build' % manager,
                             lockfiles=lockfiles)
    stages = df.stages(text)
    (dev_run,) = _install_runs(stages['builder'])
    (prod_run,) = _install_runs(stages['prod-deps'])
    assert dev in dev_run and '--prod' not in dev_run and '--omit' not in dev_run
    assert prod in prod_run
    manifests = ['app/package.json'] + (['app/%s' % copied] if copied else []) + ['/app/']
    for stage in ('builder', 'prod-deps'):
        assert 'COPY %s' % json.dumps(manifests) in stages[stage]


def test_yarn_and_pnpm_caches():
    yarn = nodejs_dockerfile(NODE, 'yarn', 'node s.js', None, lockfiles=['yarn.lock'])
    run = _install_runs(df.instructions(yarn))[0]
    assert '--mount=type=cache,id=fleet-yarn,target=/root/.cache/yarn,sharing=locked' in run
    assert '--cache-folder /root/.cache/yarn' in run
    pnpm = nodejs_dockerfile(NODE, 'pnpm', 'node s.js', None, lockfiles=['pnpm-lock.yaml'])
    run = _install_runs(df.stages(pnpm)['prod-deps'])[0]
    assert '--mount=type=cache,id=fleet-pnpm,target=/root/.cache/pnpm-store' in run
    assert '--store-dir /root/.cache/pnpm-store' in run


def test_pnpm_is_pinned_in_its_own_stage_and_reaches_the_runtime_only_when_run():
    text = nodejs_dockerfile(NODE, 'pnpm', 'node server.js', 3000, build_command='pnpm run build',
                             lockfiles=['pnpm-lock.yaml'])
    stages = df.stages(text)
    assert list(stages) == ['pnpm', 'builder', 'prod-deps', 'runtime']
    assert stages['pnpm'][0] == 'FROM node:18-slim AS pnpm'
    (install,) = _install_runs(stages['pnpm'])
    assert install.endswith('npm install -g --no-audit --no-fund pnpm@%s' % PNPM_VERSION)
    assert re.match(r'^8\.\d+\.\d+$', PNPM_VERSION)
    assert stages['builder'][0] == 'FROM pnpm AS builder' and stages['prod-deps'][0] == 'FROM pnpm AS prod-deps'
    assert stages['runtime'][0] == 'FROM node:18-slim AS runtime'
    started_by_pnpm = nodejs_dockerfile(NODE, 'pnpm', 'pnpm start', 3000, lockfiles=['pnpm-lock.yaml'])
    assert df.stages(started_by_pnpm)['runtime'][0] == 'FROM pnpm AS runtime'


def test_labels_and_source_hash_in_one_final_step(api):
    lines = df.instructions(api)
    assert lines[-2] == 'ARG FLEET_SOURCE_HASH='
    assert lines[-1] == 'LABEL fleet.service="api" fleet.source_hash="${FLEET_SOURCE_HASH}"'


def test_same_input_same_text():
    one = nodejs_dockerfile(NODE, 'npm', 'node s.js', 1, labels={'b': '2', 'a': '1'}, lockfiles=['package-lock.json'])
    two = nodejs_dockerfile(NODE, 'npm', 'node s.js', 1, labels={'a': '1', 'b': '2'}, lockfiles=['package-lock.json'])
    assert one == two


def test_chosen_lockfile_and_install_command():
    assert chosen_lockfile('npm', ['package-lock.json', 'npm-shrinkwrap.json']) == 'npm-shrinkwrap.json'
    assert chosen_lockfile('yarn', ['package-lock.json']) is None
    assert install_command('npm', None, production=True) == 'npm install --omit=dev --no-audit --no-fund'
    with pytest.raises(DockerfileError, match="lockfile 'bun.lockb' is not one of"):
        chosen_lockfile('npm', ['bun.lockb'])


@pytest.mark.parametrize('kwargs, match', [
    (dict(package_manager='bun'), "package_manager 'bun' is not supported: use one of npm, yarn, pnpm"),
    (dict(command=''), 'command is empty'),
    (dict(command='node "unclosed'), 'cannot be split'),
    (dict(port=0), 'not a TCP port'),
    (dict(port='3000'), 'not a TCP port'),
    (dict(node_image='node 18'), 'node_image must be an image reference'),
    (dict(node_image=''), 'node_image must be an image reference'),
    (dict(health_path='/a b'), 'health_path'),
    (dict(build_command='npm run build\nrm -rf /'), 'must be one line'),
    (dict(build_command='  '), 'build_command must be a shell command'),
    (dict(source_dir='../code'), 'inside the build context'),
    (dict(lockfiles=['Gemfile.lock']), 'is not one of'),
    (dict(labels={'bad key': 'x'}), 'not a plain label'),
    (dict(labels={'fleet.source_hash': 'x'}), 'set by the build'),
])
def test_nodejs_bad_input_is_one_clear_error(kwargs, match):
    args = dict(node_image=NODE, package_manager='npm', command='node server.js', port=3000)
    args.update(kwargs)
    with pytest.raises(DockerfileError, match=re.escape(match) if 'use one of' in match else match):
        nodejs_dockerfile(**args)


# --- react ---------------------------------------------------------------------------------------

def _config_files(text, tmp_path):
    """Run the ``printf`` commands of the runtime's config step with a shell, into ``tmp_path``."""
    runtime = df.stages(text)['runtime']
    run = [line for line in runtime if line.startswith('RUN ')][0]
    files = {}
    for part in re.split(r'\s+&& (?=printf|nginx|rm )', run[4:]):
        if not part.startswith('printf'):
            continue
        target = part.rsplit('> ', 1)[1].strip()
        local = tmp_path / os.path.basename(target)
        subprocess.check_call(['sh', '-c', part.rsplit('> ', 1)[0] + '> "$1"', 'sh', str(local)])
        files[target] = local.read_text()
    return files


def test_react_stages_and_layer_order(site):
    stages = df.stages(site)
    assert list(stages) == ['builder', 'runtime']
    builder, runtime = stages['builder'], stages['runtime']
    assert builder[0] == 'FROM node:18-slim AS builder' and runtime[0] == 'FROM nginx:stable AS runtime'
    manifests = df.index(builder, 'COPY ["app/package.json", "app/package-lock.json", "/app/"]')
    install = df.index(builder, 'RUN --mount=type=secret')
    code = df.index(builder, 'COPY ["app/", "/app/"]')
    build = df.index(builder, 'RUN npm run build')
    check = df.index(builder, 'RUN test -f /app/build/index.html ||')
    assert manifests < install < code < build < check
    assert 'npm ci --no-audit --no-fund' in builder[install]
    config = df.index(runtime, 'RUN rm -rf /etc/nginx/conf.d/* /usr/share/nginx/html/*')
    output = df.index(runtime, 'COPY --from=builder ["/app/build/", "/usr/share/nginx/html/"]')
    user = df.index(runtime, 'USER ')
    assert config < output < user, 'the nginx configuration layer does not depend on the code'
    assert runtime[user] == 'USER 101:101'
    assert runtime[-3] == 'CMD ["nginx", "-g", "daemon off;"]'
    assert 'EXPOSE 80' in runtime


def test_react_nginx_config_is_written_by_the_image_itself(site, tmp_path):
    files = _config_files(site, tmp_path)
    assert sorted(files) == ['/etc/nginx/conf.d/default.conf', '/etc/nginx/nginx.conf']
    main = files['/etc/nginx/nginx.conf']
    assert 'pid /tmp/nginx.pid;' in main and 'include /etc/nginx/conf.d/*.conf;' in main
    for temp in ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'):
        assert re.search(r'^\s+%s_temp_path /tmp/' % temp, main, re.MULTILINE)
    assert not re.search(r'^\s*user\s', main, re.MULTILINE), 'no user directive: nginx runs as uid 101'
    server = files['/etc/nginx/conf.d/default.conf']
    assert '    listen 80;' in server and 'root /usr/share/nginx/html;' in server
    assert 'try_files $uri $uri/ /index.html;' in server
    assert 'location = /fleet-health {' in server
    assert server.count('{') == server.count('}')
    run = [line for line in df.stages(site)['runtime'] if line.startswith('RUN ')][0]
    assert re.search(r'&& nginx -t\s+&& rm -rf /tmp/nginx\.pid /tmp/nginx-\*$', run), \
        'the files nginx -t makes as root are removed'


def test_react_port_and_output_dir(tmp_path):
    text = react_dockerfile(NODE, NGINX, 'yarn', build_command='yarn build', output_dir='dist', port=8080,
                            lockfiles=['yarn.lock'])
    runtime = df.stages(text)['runtime']
    assert 'COPY --from=builder ["/app/dist/", "/usr/share/nginx/html/"]' in runtime
    assert 'EXPOSE 8080' in runtime
    assert '    listen 8080;' in _config_files(text, tmp_path)['/etc/nginx/conf.d/default.conf']
    assert 'yarn install --frozen-lockfile --non-interactive' in _install_runs(df.stages(text)['builder'])[0]
    assert 'RUN yarn build' in df.stages(text)['builder']


def test_react_healthcheck_gets_the_health_location(site):
    runtime = df.stages(site)['runtime']
    argv = json.loads(runtime[df.index(runtime, 'HEALTHCHECK ')].split(' CMD ', 1)[1])
    assert argv[:3] == ['perl', '-MIO::Socket::INET', '-e']
    assert '"127.0.0.1:80"' in argv[3] and 'GET /fleet-health HTTP/1.0' in argv[3] and '$1 < 400' in argv[3]


USER_SERVER = r"""# the user's own server
server {
    listen 8080;
    root /usr/share/nginx/html;
    location /api/ { return 200 '{"from": "user"}'; }
    location ~ \.php$ { return 404; }
    location / { try_files $uri /index.html; }
}"""


def test_react_user_server_block_replaces_the_generated_one(tmp_path):
    text = react_dockerfile(NODE, NGINX, 'npm', port=8080, nginx_config=USER_SERVER)
    files = _config_files(text, tmp_path)
    assert files['/etc/nginx/conf.d/default.conf'] == USER_SERVER + '\n', 'quotes, $ and \\ survive verbatim'
    assert 'pid /tmp/nginx.pid;' in files['/etc/nginx/nginx.conf']
    runtime = df.stages(text)['runtime']
    argv = json.loads(runtime[df.index(runtime, 'HEALTHCHECK ')].split(' CMD ', 1)[1])
    assert '"127.0.0.1:8080"' in argv[3] and 'GET' not in argv[3], 'a TCP probe: the user block has no health location'


def test_no_config_line_can_become_a_dockerfile_comment_or_continuation(tmp_path):
    config = 'server {\n# comment at column 0\n    set $x "a\\";\n    return 200 ok\\\n}'
    text = react_dockerfile(NODE, NGINX, 'npm', nginx_config=config)
    files = _config_files(text, tmp_path)
    assert files['/etc/nginx/conf.d/default.conf'] == config + '\n'
    for line in text.splitlines():
        assert not (line.startswith(' ') and line.lstrip().startswith('#')), line


@pytest.mark.skipif(not shutil.which('perl'), reason='no perl here to compile the health check')
def test_perl_health_checks_compile(site):
    user = react_dockerfile(NODE, NGINX, 'npm', nginx_config=USER_SERVER)
    for text in (site, user):
        health = [line for line in df.instructions(text) if line.startswith('HEALTHCHECK')][0]
        argv = json.loads(health.split(' CMD ', 1)[1])
        subprocess.check_call(['perl', '-c'] + argv[1:], stderr=subprocess.DEVNULL)


def test_react_pnpm_builder_and_labels(site):
    text = react_dockerfile(NODE, NGINX, 'pnpm', build_command='pnpm run build', lockfiles=['pnpm-lock.yaml'])
    stages = df.stages(text)
    assert list(stages) == ['pnpm', 'builder', 'runtime']
    assert 'pnpm install --frozen-lockfile --store-dir' in _install_runs(stages['builder'])[0]
    lines = df.instructions(site)
    assert lines[-2:] == ['ARG FLEET_SOURCE_HASH=', 'LABEL fleet.service="web" fleet.source_hash="${FLEET_SOURCE_HASH}"']


@pytest.mark.parametrize('kwargs, match', [
    (dict(nginx_image='nginx stable'), 'nginx_image must be an image reference'),
    (dict(port=None), 'not a TCP port'),
    (dict(port=70000), 'not a TCP port'),
    (dict(output_dir='../out'), 'inside the build context'),
    (dict(output_dir='/srv/www'), 'inside the build context'),
    (dict(output_dir='node_modules/x'), 'inside node_modules'),
    (dict(build_command=''), 'build_command must be a shell command'),
    (dict(nginx_config='location / { }'), 'full server { ... } block'),
    (dict(nginx_config='server { location / { }'), 'close every block'),
    (dict(nginx_config=42), 'full server { ... } block'),
    (dict(package_manager='bun'), 'package_manager'),
])
def test_react_bad_input_is_one_clear_error(kwargs, match):
    args = dict(node_image=NODE, nginx_image=NGINX, package_manager='npm')
    args.update(kwargs)
    with pytest.raises(DockerfileError, match=re.escape(match)):
        react_dockerfile(**args)
