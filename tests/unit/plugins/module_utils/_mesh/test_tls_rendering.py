# SPDX-License-Identifier: GPL-3.0-or-later
"""The edge's HTTPS parts: a certified domain's two servers, the refusing default, the store (pure)."""
import pytest

from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh import tls as _tls
from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.mesh import (
    check_routes, render_edge_fragment, render_edge_main)

ROUTES = [{'service': 'api', 'domain': 'api.example.com', 'upstreams': ['10.0.0.5:8100'], 'tls': True, 'hsts': True},
          {'service': 'web', 'domain': 'web.example.com', 'upstreams': [], 'tls': True},
          {'service': 'old', 'domain': 'old.example.com', 'upstreams': []}]


def https(certified, public_port=443):
    return {'listen': 443, 'public_port': public_port, 'certified': certified}


def test_a_certified_domain_is_served_on_443_and_its_port_80_redirects():
    text = render_edge_fragment('u1_app_prod', ROUTES, https=https({'api.example.com': ''}))
    api = text[text.index('# api.example.com'):text.index('# old.example.com')]
    assert 'listen 443 ssl;' in api and 'return 301 https://$host$request_uri;' in api
    assert 'ssl_certificate /etc/nginx/fleet/certs/api.example.com.pem;' in api
    assert 'require("fleet_certs").certificate()' in api
    assert 'Strict-Transport-Security "max-age=63072000" always' in api
    assert 'location ^~ /.well-known/acme-challenge/' in api and 'location = /__fleet_edge_health' in api
    # without a certificate yet (or not tls): HTTP, with the challenges answered
    web = text[text.index('# web.example.com'):]
    assert 'listen 443' not in web and 'return 301' not in web and 'acme-challenge' in web


def test_a_staged_certificate_and_a_public_port_other_than_443():
    text = render_edge_fragment('u1_app_prod', ROUTES, https=https({'api.example.com': '.new'}, 18443))
    assert 'certs/api.example.com.pem.new;' in text
    assert 'return 301 https://$host:18443$request_uri;' in text


def test_without_https_nothing_changes():
    plain = render_edge_fragment('u1_app_prod', ROUTES)
    assert 'ssl' not in plain and 'acme' not in plain
    assert 'fleet_certs' not in render_edge_main()


def test_the_main_file_refuses_unknown_names_and_loads_the_store():
    text = render_edge_main(https_port=443)
    assert 'listen 443 ssl default_server;' in text and 'ssl_reject_handshake on;' in text
    assert 'ssl_protocols TLSv1.2 TLSv1.3;' in text and 'lua_shared_dict fleet_certs' in text
    assert 'package.loaded.fleet_certs = C' in text
    assert 'location ~ ^/(cert|cert_state)$' in text
    with pytest.raises(ValueError, match='https_port'):
        render_edge_main(https_port=0)


def test_tls_and_hsts_need_a_domain_and_booleans():
    with pytest.raises(ValueError, match='tls needs a domain'):
        check_routes([{'service': 'a', 'tls': True}], 'edge')
    with pytest.raises(ValueError, match='hsts must be true or false'):
        check_routes([{'service': 'a', 'domain': 'a.example.com', 'hsts': 'yes'}], 'edge')
    assert _tls.cert_rel('a.example.com', '.new') == 'certs/a.example.com.pem.new'


def test_the_leaf_of_a_key_and_chain_file():
    import base64
    from ansible_collections.projectdeployer.fleet.plugins.module_utils._mesh.nginx import leaf_der
    first, second = base64.b64encode(b'first-der').decode(), base64.b64encode(b'second-der').decode()
    pem = ('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'
           '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n'
           '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % (first, second))
    assert leaf_der(pem) == b'first-der'
    assert leaf_der('no certificate') is None
