# SPDX-License-Identifier: GPL-3.0-or-later
"""Which Dockerfile a service gets, from its parameters and its source directory."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._build import image_recipe as recipe


def params(**over):
    p = dict(user='u1', project='shop', env='prod', service='web', type='python', command='python -u app.py',
             port=8000, health_path=None, base_image=None, python_version='3.11', node_version='18',
             package_manager='npm', build_command=None, output_dir='build', nginx_config=None, nginx_image=None,
             dockerfile=None, dockerfile_content=None, requirements_files=None)
    p.update(over)
    return p


def test_python_without_requirements(tmp_path):
    found = recipe.recipe_for(params(), str(tmp_path))
    assert found.build_type == 'python' and found.base_images == ['python:3.11-slim'] and found.code_dir == 'app'
    assert not found.needs_wheels


def test_python_gets_the_resolver_on_its_path_and_a_new_resolver_rebuilds(tmp_path):
    plain = recipe.recipe_for(params(), str(tmp_path))
    assert plain.files == {} and 'fleet/lib' not in plain.dockerfile
    found = recipe.recipe_for(params(resolver_source='X = 1\n'), str(tmp_path))
    assert found.files == {'fleet-lib/projectdeployer_resolver/__init__.py': 'X = 1\n'}
    assert 'COPY ["fleet-lib/", "/opt/fleet/lib/"]' in found.dockerfile and 'ENV PYTHONPATH=/opt/fleet/lib' in found.dockerfile
    other = recipe.recipe_for(params(resolver_source='X = 2\n'), str(tmp_path))
    assert other.dockerfile != found.dockerfile        # the digest is in the text: the source hash changes
    assert recipe.recipe_for(params(type='nodejs', resolver_source='X = 1\n'), str(_with_package(tmp_path))).files == {}


def _with_package(path):
    (path / 'package.json').write_text('{}')
    return path


def test_nodejs_uses_the_lockfile_and_the_node_image(tmp_path):
    (tmp_path / 'package.json').write_text('{}')
    (tmp_path / 'package-lock.json').write_text('{}')
    found = recipe.recipe_for(params(type='nodejs', command='node server.js', port=3000), str(tmp_path))
    assert found.base_images == ['node:18-slim'] and 'npm ci' in found.dockerfile
    assert 'fleet.build_type="nodejs"' in found.dockerfile


def test_react_has_node_and_nginx_and_defaults_its_build(tmp_path):
    (tmp_path / 'package.json').write_text('{}')
    found = recipe.recipe_for(params(type='react', command=None, port=None, node_version='20',
                                     nginx_image='fleet-world/nginx:1.22'), str(tmp_path))
    assert found.base_images == ['node:20-slim', 'fleet-world/nginx:1.22']
    assert 'npm run build' in found.dockerfile and '/app/build/index.html' in found.dockerfile


SERVER = 'server {\n    listen 80;\n    root /usr/share/nginx/html;\n    location /api/ { return 404; }\n}\n'


def test_react_nginx_config_as_a_file_of_the_build_context(tmp_path):
    (tmp_path / 'package.json').write_text('{}')
    (tmp_path / 'deploy').mkdir()
    (tmp_path / 'deploy' / 'nginx.conf').write_text(SERVER)
    found = recipe.recipe_for(params(type='react', command=None, port=None, nginx_config='deploy/nginx.conf'),
                              str(tmp_path))
    assert 'location /api/ { return 404; }' in found.dockerfile and 'try_files' not in found.dockerfile
    with pytest.raises(recipe.RecipeError, match='web: nginx_config deploy/missing.conf cannot be read from the '
                                                 'build context .*fix: add the file'):
        recipe.recipe_for(params(type='react', command=None, nginx_config='deploy/missing.conf'), str(tmp_path))
    with pytest.raises(recipe.RecipeError, match="nginx_config '../nginx.conf' is outside the build context"):
        recipe.recipe_for(params(type='react', command=None, nginx_config='../nginx.conf'), str(tmp_path))


def test_react_nginx_config_as_text(tmp_path):
    (tmp_path / 'package.json').write_text('{}')
    found = recipe.recipe_for(params(type='react', command=None, port=None, nginx_config=SERVER), str(tmp_path))
    assert 'location /api/ { return 404; }' in found.dockerfile and 'try_files' not in found.dockerfile


def test_node_without_package_json_names_the_fix(tmp_path):
    with pytest.raises(recipe.RecipeError, match='web: the source has no package.json .*fix: point build_context'):
        recipe.recipe_for(params(type='nodejs', command='node s.js'), str(tmp_path))


def test_custom_from_content_and_from_a_file(tmp_path):
    found = recipe.recipe_for(params(type='custom', dockerfile_content={'2': 'CMD ["x"]', '1': 'FROM alpine:3'}),
                              str(tmp_path))
    assert found.code_dir == '' and found.base_images == ['alpine:3']
    assert found.dockerfile.index('FROM alpine:3') < found.dockerfile.index('CMD ["x"]') < \
        found.dockerfile.index('fleet.source_hash')
    (tmp_path / 'ops').mkdir()
    (tmp_path / 'ops' / 'Dockerfile').write_text('FROM golang:1.22 AS build\nRUN go build\nFROM build AS test\n'
                                                 'FROM gcr.io/distroless/static\nCOPY --from=build /x /x\n')
    found = recipe.recipe_for(params(type='custom', dockerfile='ops/Dockerfile'), str(tmp_path))
    assert found.base_images == ['golang:1.22', 'gcr.io/distroless/static']
    with pytest.raises(recipe.RecipeError, match='dockerfile'):
        recipe.recipe_for(params(type='custom', dockerfile='../Dockerfile'), str(tmp_path))
    with pytest.raises(recipe.RecipeError, match='needs dockerfile .* or dockerfile_content'):
        recipe.recipe_for(params(type='custom'), str(tmp_path))


def test_from_images_skips_stages_args_and_scratch():
    text = 'ARG BASE=x\nFROM $BASE AS one\nFROM --platform=linux/amd64 debian:12 AS two\nFROM one\nFROM scratch\n'
    assert recipe.from_images(text) == ['debian:12']
