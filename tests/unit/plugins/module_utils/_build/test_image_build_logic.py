# SPDX-License-Identifier: GPL-3.0-or-later
"""image_build's logic with the Docker client replaced: source hashing, skip, retag, check mode, failures."""
import os

import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import image_build as ib
from ansible_collections.projectdeployer.fleet.plugins.module_utils._build.image_build import (
    ImageBuildError, ImageBuild)


class NotFound(Exception):
    pass


class FakeImage(object):
    def __init__(self, image_id, labels=None, tags=None):
        self.id = image_id
        self.labels = labels or {}
        self.tags = tags or []
        self.attrs = {'Size': 1234}

    def tag(self, repo, tag):
        self.tags.append('%s:%s' % (repo, tag))

    def reload(self):
        pass


class FakeImages(object):
    def __init__(self):
        self.by_ref = {'python:3.11-slim': FakeImage('sha256:base')}
        self.builds = []
        self.fail_with = None

    def get(self, ref):
        for image in set(self.by_ref.values()):
            if ref in image.tags or ref == image.id:
                return image
        if ref in self.by_ref:
            return self.by_ref[ref]
        raise ib.ImageNotFound('no such image: %s' % ref)

    def pull(self, ref):
        self.by_ref[ref] = FakeImage('sha256:pulled')
        return self.by_ref[ref]

    def list(self, filters=None):
        wanted = dict(f.split('=', 1) for f in filters['label'])
        return [i for i in set(self.by_ref.values()) if all(i.labels.get(k) == v for k, v in wanted.items())]

    def build(self, argv):
        """What `docker build` does, from its argv (the fake CLI below calls it)."""
        ctx = argv[-1]
        opt = dict((argv[i], argv[i + 1]) for i in range(len(argv) - 1) if argv[i].startswith('--')
                   and argv[i] not in ('--no-cache',))
        buildargs = dict(argv[i + 1].split('=', 1) for i, a in enumerate(argv) if a == '--build-arg')
        self.builds.append(dict(path=ctx, dockerfile=opt['--file'], tag=opt['--tag'], buildargs=buildargs,
                                nocache='--no-cache' in argv, argv=list(argv), files=sorted(_walk(ctx)),
                                dockerfile_text=open(opt['--file']).read()))
        if self.fail_with:
            return 1, '', self.fail_with
        labels = {'fleet.service': 'api', 'fleet.user': 'u1', 'fleet.project': 'myapp', 'fleet.env': 'prod',
                  'fleet.source_hash': buildargs['FLEET_SOURCE_HASH']}
        image = FakeImage('sha256:built%d' % len(self.builds), labels, [opt['--tag']])
        self.by_ref[opt['--tag']] = image
        with open(opt['--iidfile'], 'w') as handle:
            handle.write(image.id)
        return 0, '', '#1 [1/2] FROM x\n#2 [2/2] RUN pip install\n#2 CACHED\n#3 DONE 0.1s\n'

    def remove(self, ref, noprune=False):
        image = self.get(ref)
        image.tags.remove(ref)
        self.by_ref.pop(ref, None)


class FakeContainers(object):
    def __init__(self):
        self.runs = 0

    def run(self, image, **kwargs):
        self.runs += 1
        return (b'{"markers": {"implementation_name": "cpython", "platform_machine": "x86_64", '
                b'"python_full_version": "3.11.2"}, "libc": "glibc 2.36", "version": [3, 11]}\n')


class FakeClient(object):
    def __init__(self):
        self.images = FakeImages()
        self.containers = FakeContainers()
        self.scans = []


def _walk(root):
    for dirpath, dummy, files in os.walk(root):
        for name in files:
            yield os.path.relpath(os.path.join(dirpath, name), root)


@pytest.fixture
def code(tmp_path):
    src = tmp_path / 'code'
    src.mkdir()
    (src / 'app.py').write_text('print("hi")\n')
    (src / 'requirements.txt').write_text('redis==5.2.1\n')
    (src / '.git').mkdir()
    (src / '.git' / 'HEAD').write_text('ref: main\n')
    (src / '__pycache__').mkdir()
    (src / '__pycache__' / 'app.cpython-311.pyc').write_text('x')
    return src


@pytest.fixture
def pip_calls():
    return []


def _builder(code, tmp_path, pip_calls, client=None, check_mode=False, **over):
    params = dict(user='u1', project='myapp', env='prod', service='api', type='python', build_context=str(code),
                  python_version='3.11', requirements_files=None, command='python -u app.py', port=8000,
                  health_path='/health', base_image=None, docker_hub_user='', version='1',
                  build_root=str(tmp_path / 'root'), keep_context=False, build_timeout=60)
    params.update(over)

    client = client or FakeClient()

    def run(argv, environ_update=None, **kwargs):
        if argv[:2] == ['/usr/bin/docker', 'buildx']:
            return 1, '', 'unknown command buildx'
        if argv[:2] == ['/usr/bin/docker', '--version']:
            return 0, 'Docker version 20.10.24+dfsg1, build 297e128\n', ''
        if 'build' in argv and '/usr/bin/docker' in argv:
            assert environ_update['DOCKER_BUILDKIT'] == '1'
            return client.images.build(argv)
        if argv[:1] == ['scan']:
            client.scans.append(argv)
            return (0, 'clean', '') if 'ok' in argv else (3, '', 'CRITICAL: CVE-2099-1')
        pip_calls.append(argv)
        dest = argv[argv.index('--dest') + 1]
        open(os.path.join(dest, 'redis-5.2.1-py3-none-any.whl'), 'w').close()
        return 0, '', ''

    params.setdefault('docker_cli', '/usr/bin/docker')
    return ImageBuild(client, params, run, '/usr/bin/python3', check_mode=check_mode)


def test_first_build_then_unchanged(code, tmp_path, pip_calls):
    client = FakeClient()
    first = _builder(code, tmp_path, pip_calls, client).run()
    assert first['changed'] and first['built'] and first['image'] == 'u1_myapp_prod_api:1'
    assert first['wheel_cache'] == 'miss' and first['wheels'] == ['redis-5.2.1-py3-none-any.whl']
    build = client.images.builds[0]
    assert build['path'] == str(tmp_path / 'root' / 'build_contexts' / 'u1' / 'myapp-prod-api')
    assert build['dockerfile'] == str(tmp_path / 'root' / 'dockerfiles' / 'u1' / 'Dockerfile.myapp-prod-api.tmp')
    assert build['files'] == ['.fleet-wheels/redis-5.2.1-py3-none-any.whl', 'app/app.py', 'app/requirements.txt']
    assert build['buildargs'] == {'FLEET_SOURCE_HASH': first['source_hash']}
    assert build['nocache'] is False and first['cached_steps'] == ['[2/2] RUN pip install']
    assert 'fleet.service="api"' in build['dockerfile_text']
    # temp Dockerfile and copied context are gone
    assert not os.path.exists(build['dockerfile']) and not os.path.exists(build['path'])
    second = _builder(code, tmp_path, pip_calls, client).run()
    assert not second['changed'] and not second['built'] and second['image_id'] == first['image_id']
    assert len(client.images.builds) == 1 and len(pip_calls) == 1


def test_code_change_rebuilds_with_cached_wheels(code, tmp_path, pip_calls):
    client = FakeClient()
    first = _builder(code, tmp_path, pip_calls, client).run()
    (code / 'app.py').write_text('print("changed")\n')
    second = _builder(code, tmp_path, pip_calls, client).run()
    assert second['built'] and second['source_hash'] != first['source_hash']
    assert second['wheel_cache'] == 'hit' and len(pip_calls) == 1 and client.containers.runs == 1


def test_no_cache_reaches_the_engine_but_does_not_force_a_build(code, tmp_path, pip_calls):
    client = FakeClient()
    _builder(code, tmp_path, pip_calls, client, no_cache=True).run()
    assert client.images.builds[0]['nocache'] is True
    assert not _builder(code, tmp_path, pip_calls, client, no_cache=True).run()['changed']


def test_ignored_files_do_not_change_the_hash(code, tmp_path, pip_calls):
    client = FakeClient()
    first = _builder(code, tmp_path, pip_calls, client).run()
    (code / '__pycache__' / 'other.pyc').write_text('y')
    (code / '.git' / 'ORIG_HEAD').write_text('z')
    (code / '.dockerignore').write_text('notes/\n')
    (code / 'notes').mkdir()
    (code / 'notes' / 'todo.txt').write_text('x')
    again = _builder(code, tmp_path, pip_calls, client).run()
    assert again['source_hash'] != first['source_hash']  # .dockerignore itself is part of the context
    (code / 'notes' / 'todo.txt').write_text('changed')
    third = _builder(code, tmp_path, pip_calls, client).run()
    assert not third['changed']


def test_check_mode_reports_without_building(code, tmp_path, pip_calls):
    client = FakeClient()
    result = _builder(code, tmp_path, pip_calls, client, check_mode=True).run()
    assert result['changed'] and not result['built'] and result['image_id'] is None
    assert client.images.builds == [] and pip_calls == [] and not (tmp_path / 'root').exists()


def test_same_source_under_another_tag_is_retagged(code, tmp_path, pip_calls):
    client = FakeClient()
    first = _builder(code, tmp_path, pip_calls, client).run()
    second = _builder(code, tmp_path, pip_calls, client, version='2').run()
    assert second['changed'] and not second['built'] and second.get('retagged')
    assert second['image_id'] == first['image_id'] and len(client.images.builds) == 1
    assert 'u1_myapp_prod_api:2' in client.images.get(first['image_id']).tags


def test_missing_build_context_is_one_clear_error(tmp_path, pip_calls):
    with pytest.raises(ImageBuildError, match='build_context .*/nowhere does not exist'):
        _builder(tmp_path / 'nowhere', tmp_path, pip_calls).run()


def test_explicit_missing_requirements_file(code, tmp_path, pip_calls):
    with pytest.raises(ImageBuildError, match='prod.txt does not exist'):
        _builder(code, tmp_path, pip_calls, requirements_files=['prod.txt']).run()


def test_no_requirements_file_means_no_download(code, tmp_path, pip_calls):
    (code / 'requirements.txt').unlink()
    client = FakeClient()
    result = _builder(code, tmp_path, pip_calls, client).run()
    assert result['built'] and result['wheel_cache'] == 'none' and pip_calls == []
    assert 'pip install' not in result['dockerfile']


def test_bad_id_and_bad_command(code, tmp_path, pip_calls):
    with pytest.raises(ImageBuildError, match='reserved'):
        _builder(code, tmp_path, pip_calls, service='nginx').run()
    with pytest.raises(ImageBuildError, match='api: command is empty'):
        _builder(code, tmp_path, pip_calls, command='  ').run()


def test_build_failure_names_the_image_and_shows_the_last_lines(code, tmp_path, pip_calls):
    client = FakeClient()
    log = ['#%d 0.1%02d step %d of something' % (i, i, i) for i in range(40)]
    log.append('ERROR: process "/bin/sh -c pip install" did not complete successfully: exit code: 1')
    client.images.fail_with = '\n'.join(log)
    with pytest.raises(ImageBuildError) as exc:
        _builder(code, tmp_path, pip_calls, client, keep_context=True).run()
    msg = str(exc.value)
    assert msg.startswith('building u1_myapp_prod_api:1 for api failed')
    assert 'did not complete successfully: exit code: 1' in msg.splitlines()[-1]
    assert 'step 39 of something' in msg and '#39' not in msg  # BuildKit's step prefix is dropped
    assert len(exc.value.details['build_log']) == ib.buildkit.LOG_TAIL_LINES
    assert not os.path.exists(str(tmp_path / 'root' / 'dockerfiles' / 'u1' / 'Dockerfile.myapp-prod-api.tmp'))
    assert os.path.isdir(str(tmp_path / 'root' / 'build_contexts' / 'u1' / 'myapp-prod-api' / 'app'))


def test_build_root_owned_by_someone_else_is_refused(tmp_path, monkeypatch):
    root = tmp_path / 'shared'
    root.mkdir()
    monkeypatch.setattr(os, 'getuid', lambda: 4242)
    with pytest.raises(ImageBuildError, match='not owned by this user'):
        ib.ensure_private_dir(str(root))


def test_dockerignore_rules():
    rules = ib.parse_ignore('# comment\n\n/docs\n*.log\n!keep.log\n**/node_modules\n')
    assert ib.is_ignored('docs/index.md', rules)
    assert ib.is_ignored('debug.log', rules) and not ib.is_ignored('keep.log', rules)
    assert ib.is_ignored('web/node_modules/x.js', rules) and ib.is_ignored('node_modules', rules)
    assert not ib.is_ignored('app.py', rules)


def test_source_files_kinds_and_symlinks(code):
    os.symlink('app.py', str(code / 'main.py'))
    (code / 'pkg').mkdir()
    (code / 'pkg' / '__init__.py').write_text('')
    files = ib.source_files(str(code))
    assert files == [('app.py', 'f'), ('main.py', 'l'), ('pkg', 'd'), ('pkg/__init__.py', 'f'),
                     ('requirements.txt', 'f')]


def test_hash_sees_exec_bit_and_base_image(code):
    files = ib.source_files(str(code))
    one = ib.source_hash(str(code), files, 'FROM x', 'sha256:a')
    assert ib.source_hash(str(code), files, 'FROM x', 'sha256:b') != one
    assert ib.source_hash(str(code), files, 'FROM y', 'sha256:a') != one
    os.chmod(str(code / 'app.py'), 0o755)
    assert ib.source_hash(str(code), files, 'FROM x', 'sha256:a') != one


def test_scan_failure_untags_and_fails_and_a_clean_scan_is_reported(code, tmp_path, pip_calls):
    client = FakeClient()
    with pytest.raises(ImageBuildError, match='the scan of u1_myapp_prod_api:1 failed .*exit code 3') as exc:
        _builder(code, tmp_path, pip_calls, client, scan_command='scan {image} --bad').run()
    assert 'CVE-2099-1' in str(exc.value)
    assert client.scans == [['scan', 'u1_myapp_prod_api:1', '--bad']]
    with pytest.raises(ib.ImageNotFound):
        client.images.get('u1_myapp_prod_api:1')  # untagged: the next run builds and scans again
    result = _builder(code, tmp_path, pip_calls, client, scan_command='scan ok').run()
    assert result['scan']['rc'] == 0 and client.scans[-1] == ['scan', 'ok', 'u1_myapp_prod_api:1']


def test_build_secrets_are_paths_and_must_exist(code, tmp_path, pip_calls):
    ca = tmp_path / 'ca.pem'
    ca.write_text('-----BEGIN CERTIFICATE-----\n')
    client = FakeClient()
    _builder(code, tmp_path, pip_calls, client, ca_bundle=str(ca)).run()
    argv = client.images.builds[0]['argv']
    assert 'id=fleet_ca,src=%s' % ca in argv and 'BEGIN' not in ' '.join(argv)
    with pytest.raises(ImageBuildError, match=r'npmrc: .*/none is not a readable file'):
        _builder(code, tmp_path, pip_calls, client, npmrc=str(tmp_path / 'none')).run()


def test_pip_gets_the_ca_bundle_and_pip_conf():
    env = ib.pip_environment({'ca_bundle': '/ca.pem', 'pip_conf': '/pip.conf'})
    assert env['PIP_CERT'] == '/ca.pem' and env['PIP_CONFIG_FILE'] == '/pip.conf'
