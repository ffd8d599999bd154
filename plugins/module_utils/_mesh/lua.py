# -*- coding: utf-8 -*-
# Copyright (c) 2026, projectdeployer.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mesh's route table inside nginx: the Lua side (lua-nginx-module with lua-resty-core).

A toggle changes which host port serves a service. nginx would need a reload to learn it from its
configuration, and a reload closes every idle keep-alive client connection (docs/decisions.md,
"Toggles without a reload"). So the HTTP upstreams are not in the configuration: every web route's
``server`` block names its route (``set $fleet_route "TENANT/SERVICE";``) and proxies to the one
upstream ``fleet_routes``, whose ``balancer_by_lua`` picks a peer from the **route table**, a
shared dict that every worker sees at once.

The table's source of truth is one file per tenant, ``routes/TENANT.routes`` in the config dir
(mounted read-only), one line per service::

    # any comment
    api 10.110.0.5:8120 10.110.0.6:8120
    web

(a service with no peer answers 503). The module writes the file, then asks nginx to load it over
the control socket (``/run/fleet-mesh/control.sock``, a unix socket in a root-only directory of the
host, never on a network)::

    POST /check?tenant=T&file=T.routes.new   parse a staged file, change nothing
    POST /apply?tenant=T                      load routes/T.routes into the table
    POST /state?tenant=T                      the MD5 of what the table holds (empty: not loaded)

Both answer ``200`` with the MD5 of the text they read, or ``400`` with the parse error (the table
keeps what it had). After a start or a restart the table is empty: the first request of a tenant
loads its file. Per worker, a tenant's parsed routes are cached by the MD5 of its table entry, so
a request costs one shared-dict read of 32 bytes.
"""

from __future__ import annotations

SHARED_DICT = 'fleet_routes'
# One tenant's table in a sidecar; every tenant of a server in the edge (a line is ~30 bytes per peer).
SIDECAR_DICT_SIZE = '1m'
EDGE_DICT_SIZE = '10m'
UPSTREAM = 'fleet_routes'
ROUTE_VARIABLE = 'fleet_route'
ROUTES_DIR = 'routes'
# Where the control directory is mounted (read-write) in the nginx containers.
CONTROL_ROOT = '/run/fleet-mesh'
CONTROL_SOCKET = 'control.sock'
UPSTREAM_KEEPALIVE = 32
# A peer that could not be reached is passed over this long by every worker (nginx's default fail_timeout).
FAIL_SECONDS = 10

# The module, loaded once by the master (init_by_lua) and inherited by the workers.
SOURCE = r'''
local balancer = require "ngx.balancer"
local M = {}
local table_dict = ngx.shared.%(dict)s
local ROOT = "%(conf_root)s/%(routes_dir)s/"
local NAME = "^[%%w][%%w_.-]*$"
local FAIL_SECONDS = %(fail_seconds)d
local parsed = {}    -- per worker: tenant -> {md5 = ..., routes = {service = {{host, port}, ...}}}
local turns = {}     -- per worker: route -> requests sent so far (round robin)

local function parse(text)
    local routes = {}
    local number = 0
    for line in text:gmatch("[^\n]+") do
        number = number + 1
        if line:find("%%S") and not line:find("^%%s*#") then
            local words = {}
            for word in line:gmatch("%%S+") do
                words[#words + 1] = word
            end
            local service = table.remove(words, 1)
            if not service:find(NAME) then
                return nil, "line " .. number .. ": invalid service name " .. service
            end
            if routes[service] then
                return nil, "line " .. number .. ": service " .. service .. " is listed twice"
            end
            local peers = {}
            for i, word in ipairs(words) do
                local host, port = word:match("^(%%d+%%.%%d+%%.%%d+%%.%%d+):(%%d+)$")
                if not host then
                    host, port = word:match("^(%%[[%%x:.]+%%]):(%%d+)$")
                end
                port = tonumber(port)
                if not host or not port or port < 1 or port > 65535 then
                    return nil, "line " .. number .. ": peer " .. word .. " of " .. service
                                .. " is not ADDRESS:PORT (IPv4 or [IPv6])"
                end
                peers[i] = {host, port}
            end
            routes[service] = peers
        end
    end
    return routes
end

local function read(name)
    local handle = io.open(ROOT .. name, "rb")
    if not handle then
        return nil
    end
    local text = handle:read("*a")
    handle:close()
    return text
end

-- Two keys per tenant: TENANT holds "MD5\nTEXT", TENANT# the MD5 alone (what a request reads).
local function store(tenant, text)
    local md5 = ngx.md5(text)
    local ok, err = table_dict:set(tenant, md5 .. "\n" .. text)
    if ok then
        ok, err = table_dict:set(tenant .. "#", md5)
    end
    if not ok then
        return nil, "the route table is full (" .. err .. ")"
    end
    return true
end

local function routes_of(tenant)
    local cached = parsed[tenant]
    local md5 = table_dict:get(tenant .. "#")
    if cached and cached.md5 == md5 then
        return cached.routes
    end
    local entry = table_dict:get(tenant)
    if not entry then
        -- first request since nginx started: the file holds what was applied last
        local text = read(tenant .. ".routes") or ""
        if not parse(text) or not store(tenant, text) then
            return nil
        end
        entry = table_dict:get(tenant)
    end
    local routes = parse(entry:sub(34))
    parsed[tenant] = {md5 = entry:sub(1, 32), routes = routes}
    return routes
end

-- access phase: choose the route's peers (503 when it has none)
function M.route()
    local route = ngx.var.%(variable)s
    local tenant, service = route:match("^([^/]+)/(.+)$")
    local routes = tenant and routes_of(tenant)
    local peers = routes and routes[service]
    if not peers or #peers == 0 then
        return ngx.exit(503)
    end
    local turn = (turns[route] or 0) + 1
    turns[route] = turn
    local ctx = ngx.ctx
    ctx.fleet_peers = peers
    ctx.fleet_turn = turn
    ctx.fleet_tries = 0
end

-- the edge's /healthz of a domain, for load balancer monitors: 200 while the route has a peer here, else 503
function M.health()
    local route = ngx.var.%(variable)s
    local tenant, service = route:match("^([^/]+)/(.+)$")
    local routes = tenant and routes_of(tenant)
    local peers = routes and routes[service]
    ngx.header["Content-Type"] = "text/plain"
    if not peers or #peers == 0 then
        ngx.status = 503
        ngx.say("no serving replica of ", service, " here")
        return ngx.exit(503)
    end
    ngx.say("ok")
end

-- A peer that could not be reached (connect error or timeout, a broken connection) sits out FAIL_SECONDS
-- for every worker, as nginx's own max_fails=1 fail_timeout does for static upstreams: a server that
-- vanished costs one failed try, not one in every round of the round robin. Keys start with "~", which
-- no tenant name does.
local function sits_out(peer)
    return table_dict:get("~" .. peer[1] .. ":" .. peer[2])
end

-- balancer phase: the next peer not tried yet for this request (retries move on, once each), passing
-- over peers sitting out unless only those are left
function M.balance()
    local ctx = ngx.ctx
    local peers = ctx.fleet_peers
    local count = #peers
    if ctx.fleet_tries == 0 then
        if count > 1 then
            balancer.set_more_tries(count - 1)
        end
        ctx.fleet_tried = {}
    elseif balancer.get_last_failure() == "failed" then
        local last = ctx.fleet_last
        table_dict:set("~" .. last[1] .. ":" .. last[2], true, FAIL_SECONDS)
    end
    local pick, spare
    for k = 0, count - 1 do
        local i = (ctx.fleet_turn + k) %% count + 1
        if not ctx.fleet_tried[i] then
            if not sits_out(peers[i]) then
                pick = i
                break
            end
            spare = spare or i
        end
    end
    pick = pick or spare
    if not pick then
        return ngx.exit(502)
    end
    local peer = peers[pick]
    ctx.fleet_tried[pick] = true
    ctx.fleet_last = peer
    ctx.fleet_tries = ctx.fleet_tries + 1
    local ok, err = balancer.set_current_peer(peer[1], peer[2])
    if not ok then
        ngx.log(ngx.ERR, "fleet route ", ngx.var.%(variable)s, ": cannot use peer ", peer[1], ":", peer[2], ": ", err)
        return ngx.exit(500)
    end
end

-- the control socket: /check parses a staged file, /apply loads routes/TENANT.routes, /state tells
-- the MD5 of what the table holds for a tenant (empty: nothing yet, its file is loaded on first use)
function M.control(verb)
    ngx.header["Content-Type"] = "text/plain"
    local tenant = ngx.var.arg_tenant
    local name = ngx.var.arg_file or ((tenant or "") .. ".routes")
    if ngx.req.get_method() ~= "POST" or not tenant or not tenant:find(NAME) or not name:find(NAME) then
        ngx.status = 400
        ngx.say("use POST /check?tenant=T&file=F, POST /apply?tenant=T or POST /state?tenant=T")
        return ngx.exit(400)
    end
    if verb == "state" then
        ngx.say(table_dict:get(tenant .. "#") or "")
        return
    end
    local apply = verb == "apply"
    local text = read(name)
    if not text then
        if not apply then
            ngx.status = 400
            ngx.say("no file " .. ROOT .. name)
            return ngx.exit(400)
        end
        text = ""    -- the tenant left: an empty table
    end
    local routes, err = parse(text)
    if routes and apply then
        routes, err = store(tenant, text)
    end
    if not routes then
        ngx.status = 400
        ngx.say(ROOT .. name .. ": " .. err)
        return ngx.exit(400)
    end
    ngx.say(ngx.md5(text))
end

package.loaded.fleet_routes = M
'''


def source(conf_root):
    """The Lua module's source for nginx configurations mounted at ``conf_root``."""
    return SOURCE % {'dict': SHARED_DICT, 'conf_root': conf_root, 'routes_dir': ROUTES_DIR,
                     'variable': ROUTE_VARIABLE, 'fail_seconds': FAIL_SECONDS}


def render_table(tenant, routes):
    """The text of ``routes/TENANT.routes``: one line per http route, ``SERVICE PEER...``.

    ``routes`` are checked routes (``mesh.check_routes``); tcp routes are not in the table.
    """
    lines = ['# route table of %s: SERVICE then its peers (docs/mesh.md)' % tenant]
    for route in sorted((r for r in routes if r['protocol'] == 'http'), key=lambda r: r['service']):
        lines.append(' '.join([route['service']] + list(route['upstreams'])))
    return '\n'.join(lines) + '\n'


def table_name(tenant):
    return '%s.routes' % tenant
