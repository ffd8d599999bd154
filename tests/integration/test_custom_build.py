# SPDX-License-Identifier: GPL-3.0-or-later
"""Custom services: the user's Dockerfile (a path in the source) and the seed's dockerfile_content,
built for real with the fleet labels appended, a build secret used by a custom step, and a
dockerfile path outside the source refused before anything is built."""
import json
import os
import shutil
import subprocess

import pytest

from helpers import REPO, run_playbook, task_results

pytestmark = pytest.mark.usefixtures('world')

FLASK = os.path.join(REPO, 'tests', 'fixtures', 'apps', 'flask_api')
PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: build
      projectdeployer.fleet.image_build: "{{ build }}"
      ignore_errors: true
"""


def _build(tmp_path, options):
    play = tmp_path / 'play.yml'
    play.write_text(PLAY)
    varfile = tmp_path / 'vars.json'
    varfile.write_text(json.dumps({'build': options}))
    proc = run_playbook(str(play), '-e', '@%s' % varfile, json_output=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return task_results(proc, 'build')['localhost']


def _inspect(image):
    out = subprocess.run(['docker', 'image', 'inspect', image], capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


def test_custom_dockerfile_and_dockerfile_content(tmp_path, unique_prefix):
    src = tmp_path / 'src'
    shutil.copytree(FLASK, str(src))
    (src / 'deploy').mkdir()
    (src / 'deploy' / 'Dockerfile').write_text(
        'FROM fleet-world/python:3.11-slim\n'
        'WORKDIR /app\n'
        'COPY app.py .\n'
        '# a custom step that needs the CA: the secret is there, and only for this step\n'
        'RUN --mount=type=secret,id=fleet_ca test -s /run/secrets/fleet_ca && echo ca-seen > /app/ca-check\n'
        'USER 1000\n'
        'CMD ["python", "-c", "print(open(\'/app/ca-check\').read().strip())"]\n')
    common = dict(user=unique_prefix, project='cust', env='test', type='custom', build_context=str(src),
                  version='1', build_root=str(tmp_path / 'build'), ca_bundle='/etc/ssl/certs/ca-certificates.crt')
    result = _build(tmp_path, dict(common, service='byfile', dockerfile='deploy/Dockerfile'))
    assert result.get('built'), result
    image = _inspect(result['image'])
    labels = image['Config']['Labels']
    assert labels['fleet.service'] == 'byfile' and labels['fleet.build_type'] == 'custom'
    assert labels['fleet.source_hash'] == result['source_hash']
    out = subprocess.run(['docker', 'run', '--rm', result['image']], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'ca-seen'
    history = subprocess.run(['docker', 'history', '--no-trunc', result['image']], capture_output=True, text=True,
                             check=True).stdout
    assert 'BEGIN CERTIFICATE' not in history
    again = _build(tmp_path, dict(common, service='byfile', dockerfile='deploy/Dockerfile'))
    assert again['changed'] is False

    content = {'1': 'FROM fleet-world/python:3.11-slim', '2': 'WORKDIR /app', '3': 'COPY app.py .',
               '10': 'USER 1000', '4': 'RUN python -m py_compile app.py', '11': 'CMD ["python", "-u", "app.py"]'}
    result = _build(tmp_path, dict(common, service='bycontent', dockerfile_content=content))
    assert result.get('built'), result
    lines = [line for line in result['dockerfile'].splitlines() if line and not line.startswith('#')]
    assert lines[:6] == ['FROM fleet-world/python:3.11-slim', 'WORKDIR /app', 'COPY app.py .',
                         'RUN python -m py_compile app.py', 'USER 1000', 'CMD ["python", "-u", "app.py"]']
    assert _inspect(result['image'])['Config']['User'] == '1000'

    outside = _build(tmp_path, dict(common, service='outside', dockerfile='../Dockerfile'))
    assert outside.get('failed') and 'dockerfile' in outside['msg'] and 'Traceback' not in outside['msg']
    assert not (tmp_path / 'build' / 'build_contexts' / unique_prefix / 'cust-test-outside').exists()
