# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTPS on the shared edge: the TLS settings, a domain's two ``server`` blocks, and the certificate
store inside nginx (Lua, lua-resty-core's ``ngx.ssl``). Pure rendering, no I/O.

A domain with a certificate is served on the edge's port 443; its port 80 answers the ACME HTTP-01
challenges and the edge's health path and redirects everything else to HTTPS. The certificate (its
key and full chain in one PEM file, ``certs/DOMAIN.pem`` in the edge's config dir, 0600 in a 0700
directory, read by nginx's master as root) is named by the domain's ``server`` block, so nginx serves
it from its start. A renewed certificate must not need a reload, which would close every idle
keep-alive client connection (docs/decisions.md, "Toggles without a reload"): the module sends the
new PEM over the control socket into the shared dict ``fleet_certs``, and ``ssl_certificate_by_lua``
serves what the dict holds for the handshake's server name (parsed once per worker and version),
else the file nginx loaded. Unknown names get no certificate at all (``ssl_reject_handshake``).

Control socket (root only, never on a network)::

    POST /cert?name=DOMAIN          body: the PEM (key and chain); an empty body forgets the name
    POST /cert_state?name=DOMAIN    the MD5 of what the dict holds (empty: the file nginx loaded)
"""

from __future__ import annotations

CERTS_DIR = 'certs'
ACME_DIR = 'acme'
CERT_DICT = 'fleet_certs'
CERT_DICT_SIZE = '10m'
EDGE_HTTPS_CONTAINER_PORT = 443
ACME_PATH = '/.well-known/acme-challenge/'
HSTS_MAX_AGE = 63072000  # two years, the value hstspreload.org asks for
# Mozilla's "intermediate" configuration (TLS 1.2 ciphers; TLS 1.3 suites are OpenSSL's defaults).
PROTOCOLS = 'TLSv1.2 TLSv1.3'
CIPHERS = ':'.join([
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
])

SOURCE = r'''
local ssl = require "ngx.ssl"
local C = {}
local certs = ngx.shared.%(dict)s
local NAME = "^[%%w][%%w.-]*$"
local parsed = {}    -- per worker: name -> {md5 = ..., chain = cdata, key = cdata}

local function entry_of(name)
    local entry = certs:get(name)
    if not entry then
        return nil
    end
    local md5 = entry:sub(1, 32)
    local hit = parsed[name]
    if hit and hit.md5 == md5 then
        return hit
    end
    local pem = entry:sub(34)
    local chain, err = ssl.parse_pem_cert(pem)
    local key
    if chain then
        key, err = ssl.parse_pem_priv_key(pem)
    end
    if not key then
        ngx.log(ngx.ERR, "fleet certificate of ", name, " cannot be parsed: ", err)
        return nil
    end
    hit = {md5 = md5, chain = chain, key = key}
    parsed[name] = hit
    return hit
end

-- the handshake: the dict's certificate of the server name, else the file nginx loaded
function C.certificate()
    local name = ssl.server_name()
    local hit = name and entry_of(name:lower())
    if not hit then
        return
    end
    local ok, err = ssl.clear_certs()
    if ok then
        ok, err = ssl.set_cert(hit.chain)
    end
    if ok then
        ok, err = ssl.set_priv_key(hit.key)
    end
    if not ok then
        ngx.log(ngx.ERR, "fleet certificate of ", name, " cannot be set: ", err)
        return ngx.exit(ngx.ERROR)
    end
end

function C.control(verb)
    ngx.header["Content-Type"] = "text/plain"
    local name = ngx.var.arg_name
    if ngx.req.get_method() ~= "POST" or not name or not name:find(NAME) then
        ngx.status = 400
        ngx.say("use POST /cert?name=DOMAIN with the PEM as the body, or POST /cert_state?name=DOMAIN")
        return ngx.exit(400)
    end
    if verb == "cert_state" then
        local entry = certs:get(name)
        ngx.say(entry and entry:sub(1, 32) or "")
        return
    end
    ngx.req.read_body()
    local pem = ngx.req.get_body_data() or ""
    if pem == "" then
        certs:delete(name)
        parsed[name] = nil
        ngx.say("")
        return
    end
    local chain, err = ssl.parse_pem_cert(pem)
    if chain then
        chain, err = ssl.parse_pem_priv_key(pem)
    end
    if not chain then
        ngx.status = 400
        ngx.say(name .. ": not a certificate chain and its key: " .. (err or "?"))
        return ngx.exit(400)
    end
    local md5 = ngx.md5(pem)
    local ok, serr = certs:set(name, md5 .. "\n" .. pem)
    if not ok then
        ngx.status = 400
        ngx.say("the certificate store is full (" .. serr .. ")")
        return ngx.exit(400)
    end
    ngx.say(md5)
end

package.loaded.fleet_certs = C
'''


def source():
    return SOURCE % {'dict': CERT_DICT}


def cert_rel(domain, suffix=''):
    """A domain's PEM file, relative to the edge's config dir."""
    return '%s/%s.pem%s' % (CERTS_DIR, domain, suffix)


def http_settings():
    """The TLS settings of the edge's ``http`` block."""
    return [
        '',
        '# HTTPS (tls.py, docs/tls.md): modern protocols, certificates per server name from the store',
        'ssl_protocols %s;' % PROTOCOLS,
        'ssl_ciphers %s;' % CIPHERS,
        'ssl_prefer_server_ciphers off;',
        'ssl_session_cache shared:fleet_tls:10m;',
        'ssl_session_timeout 1d;',
        'lua_shared_dict %s %s;' % (CERT_DICT, CERT_DICT_SIZE),
    ]


def default_https_server(https_port=EDGE_HTTPS_CONTAINER_PORT):
    """Port 443 for a name no tenant serves: the handshake is refused, no certificate is shown."""
    return [
        'server {',
        '    listen %d ssl default_server;' % https_port,
        '    server_name _;',
        '    ssl_reject_handshake on;',
        '}',
    ]


def acme_location(conf_root):
    """HTTP-01 challenge answers, written by the controller into ``acme/`` (never a secret)."""
    return [
        '    location ^~ %s {' % ACME_PATH,
        '        alias %s/%s/;' % (conf_root, ACME_DIR),
        '        default_type text/plain;',
        '        access_log off;',
        '    }',
    ]


def redirect_server(listen, domain, public_https_port, health_path, conf_root):
    """A TLS domain's port 80: ACME challenges, the edge's health path, and a redirect to HTTPS."""
    port = '' if public_https_port in (None, 443) else ':%d' % public_https_port
    lines = ['server {', '    listen %d;' % listen, '    server_name %s;' % domain]
    lines.extend(acme_location(conf_root))
    lines.extend([
        '    location = %s {' % health_path,
        '        default_type text/plain;',
        '        return 200 "ok\\n";',
        '    }',
        '    location / {',
        '        return 301 https://$host%s$request_uri;' % port,
        '    }',
        '}',
    ])
    return lines


def https_directives(domain, hsts, conf_root, suffix=''):
    """The lines a domain's HTTPS ``server`` adds after ``listen 443 ssl``: its certificate (``suffix``:
    a staged file's, for ``nginx -t``), HSTS."""
    path = '%s/%s' % (conf_root, cert_rel(domain, suffix))
    # (per server: lua-nginx-module refuses the directive where a server of the block has no TLS)
    lines = ['    ssl_certificate %s;' % path, '    ssl_certificate_key %s;' % path,
             '    ssl_certificate_by_lua_block { require("fleet_certs").certificate() }']
    if hsts:
        lines.append('    add_header Strict-Transport-Security "max-age=%d" always;' % HSTS_MAX_AGE)
    return lines
