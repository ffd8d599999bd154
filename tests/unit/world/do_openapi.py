# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON schemas of DigitalOcean API answers, taken from the official OpenAPI spec.

The spec (``../shared/specs/digitalocean-openapi/specification`` next to the checkout, or
``$DO_OPENAPI_SPEC``) is many YAML files joined by ``$ref``s; ``response_schema(path, method,
status)`` inlines them into one schema that ``jsonschema`` checks (OpenAPI 3.0's ``nullable``
becomes a ``null`` type). YAML is read with YAML 1.2 booleans, so an enum value ``off`` stays
the string "off".
"""
import functools
import os
import re

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SPEC_DIR = os.environ.get('DO_OPENAPI_SPEC') or os.path.normpath(
    os.path.join(REPO, '..', 'shared', 'specs', 'digitalocean-openapi', 'specification'))
ROOT = os.path.join(SPEC_DIR, 'DigitalOcean-public.v2.yaml')


class _Loader(yaml.SafeLoader):
    pass


# YAML 1.2 booleans only (true/false), not YAML 1.1's on/off/yes/no
_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != 'tag:yaml.org,2002:bool']
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver('tag:yaml.org,2002:bool', re.compile(r'^(?:true|True|TRUE|false|False|FALSE)$'),
                              list('tTfF'))


def available():
    return os.path.exists(ROOT)


@functools.lru_cache(None)
def _doc(path):
    with open(path, encoding='utf-8') as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def _follow(doc, pointer):
    node = doc
    for part in [p for p in pointer.split('/') if p]:
        node = node[part.replace('~1', '/').replace('~0', '~')]
    return node


def _target(ref, file):
    path, _sep, pointer = ref.partition('#')
    target = os.path.normpath(os.path.join(os.path.dirname(file), path)) if path else file
    return _follow(_doc(target), pointer), target


def resolve(node, file, depth=0):
    if depth > 80:
        return {}
    if isinstance(node, list):
        return [resolve(n, file, depth + 1) for n in node]
    if not isinstance(node, dict):
        return node
    if '$ref' in node:
        target, tfile = _target(node['$ref'], file)
        return resolve(target, tfile, depth + 1)
    out = {k: resolve(v, file, depth + 1) for k, v in node.items()
           if k not in ('example', 'examples', 'description', 'discriminator')}
    if out.pop('nullable', False):
        if 'type' in out:
            out['type'] = [out['type'], 'null']
            if 'enum' in out:
                out['enum'] = list(out['enum']) + [None]
        else:
            out = {'anyOf': [out, {'type': 'null'}]}
    return out


def response_schema(path, method, status):
    """The schema of the JSON answer ``status`` of ``method path`` (e.g. '/v2/droplets', 'get', 200)."""
    op = _doc(ROOT)['paths'][path][method]
    opfile = ROOT
    if '$ref' in op:
        op, opfile = _target(op['$ref'], ROOT)
    resp = op['responses'][str(status)]
    if '$ref' in resp:
        resp, opfile = _target(resp['$ref'], opfile)
    return resolve(resp['content']['application/json']['schema'], opfile)


def error_schema():
    f = os.path.join(SPEC_DIR, 'shared', 'models', 'error.yml')
    return resolve(_doc(f), f)
