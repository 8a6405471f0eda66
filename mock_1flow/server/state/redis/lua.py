"""The Redis store's operations as Lua scripts: each runs atomically in Redis, so workers and
instances racing on the same ids, devices and users see the in-memory store's invariants
(each ``_id`` stored once, one analytic user per device, identify merges whole).

Layout (``P`` is a project's prefix, ``m1f:p:<key>`` + ``\\x1f``; scripts build the names
they need, so this works on one Redis server, not a Redis Cluster):

=================  =========================================================================
``m1f:schema``     the layout's version; absent = flushed (the mock answers 503 until reset)
``m1f:gen``        bumped by every admin write (instances reload projects, faults, parts); checked by each SDK operation (CHECK)
``m1f:projects``   hash key -> project JSON; ``m1f:plist`` their order
``m1f:parts``      the state parts (stubs, content) as one JSON document
``m1f:keys``       set of project keys that hold data
``m1f:ev``         hash total, bytes, dropped: the event caps across all projects
``m1f:order``      list, one entry per stored call, oldest first: its project's key (CLEAR takes the project's out)
``P m``            hash sessions, seq, bytes, dropped (the events stored: SCARD ``P ids``)
``P U``            zset analytic id -> creation order; ``P u:<id>`` the user (hash), ``P p:<id>`` its parameters (raw JSON values)
``P d`` ``P a``    hashes device id -> analytic id, app user id -> analytic id
``P r``            list of survey responses (JSON)
``P ids`` ``P c``  set of stored event ids; list of calls: ``[user, received, ids]`` JSON, newline, the rows
``m1f:journal``    zset of journal entries (id, size, project); ``m1f:jentries`` hash id -> entry; ``m1f:jseq``, ``m1f:jmeta`` (JOURNAL_TRIM)
``m1f:faults``     list of fault rules; ``m1f:fhits``, ``m1f:fseen`` their counters; ``m1f:fseq`` their ids
``m1f:shits``      hash stub id -> hits; ``m1f:sseq`` stub ids (the rules are in ``m1f:parts``)
``m1f:alock``      the admin lock: one admin write at a time across instances (Shared.lock_admin); a reset keeps it
``m1f:ledger``     the Segment ingest's delivery ledger; ``m1f:lorder``, ``m1f:lmeta``, ``m1f:lc:*`` claims (LEDGER_*)
=================  =========================================================================
"""

from __future__ import annotations

SCHEMA = "mock-1flow redis state 3"  # 3: journal members carry size and project (JOURNAL_TRIM)
FLUSHED = "FLUSHED"

# An SDK operation's script: its first argument is the admin generation this instance's
# copy is of; if Redis moved past it the script changes nothing and answers STALE (the
# instance reloads and answers the request again). This folds the "did an admin write
# happen elsewhere?" check into the operation's own round trip.
STALE = "STALE"
CHECK = r"""
if redis.call('GET', 'm1f:gen') ~= table.remove(ARGV, 1) then return redis.error_reply('STALE') end
"""

# An SDK operation also takes its request's journal id (from the journal's counter) in the
# same round trip: the entry is written later, in a batch, but ordered by when Redis ran
# the operation, so requests to different instances keep their order in the journal.
OP_OPEN = r"""
local jid = redis.call('INCR', 'm1f:jseq')
local function op()
"""
OP_CLOSE = r"""
end
return {jid, op()}
"""

FUNCTIONS = r"""
local function arr(t)
  local out = {}
  for i, v in ipairs(t) do out[i] = cjson.encode(v) end
  return '[' .. table.concat(out, ',') .. ']'
end
local function has(t, value)
  for _, v in ipairs(t) do if v == value then return true end end
  return false
end
local function new_user(P, key, aid, system, at)
  local seq = redis.call('HINCRBY', P .. 'm', 'seq', 1)
  redis.call('HSET', P .. 'u:' .. aid, 'id', aid, 'sys', system, 'ident', '0', 'ctx', 'null', 'created', at,
             'updated', at, 'dev', '[]', 'anon', '[]', 'tok', '[]')
  redis.call('ZADD', P .. 'U', seq, aid)
  redis.call('SADD', 'm1f:keys', key)
end
local function user(P, aid)
  return {redis.call('HGETALL', P .. 'u:' .. aid), redis.call('HGETALL', P .. 'p:' .. aid)}
end
"""
PRELUDE = r"""
if redis.call('EXISTS', 'm1f:schema') == 0 then return redis.error_reply('FLUSHED') end
""" + FUNCTIONS

# An SDK operation's script: the generation check (a flushed Redis has no ``m1f:gen`` either,
# so it answers STALE, and the reload that follows finds the Redis flushed), then the journal id.
OP = FUNCTIONS + CHECK + OP_OPEN

ADD_DEVICE = OP + r"""
local P, key, device, ctx, at, default, system = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local aid = redis.call('HGET', P .. 'd', device)
if (not aid) or redis.call('EXISTS', P .. 'u:' .. aid) == 0 then
  local known = redis.call('HGET', P .. 'a', device)
  if known and redis.call('EXISTS', P .. 'u:' .. known) == 1 then
    aid = known
  else
    aid = default
    if redis.call('EXISTS', P .. 'u:' .. aid) == 0 then new_user(P, key, aid, system, at) end
  end
  local devices = cjson.decode(redis.call('HGET', P .. 'u:' .. aid, 'dev'))
  if not has(devices, device) then
    table.insert(devices, device)
    redis.call('HSET', P .. 'u:' .. aid, 'dev', arr(devices))
  end
  redis.call('HSET', P .. 'd', device, aid)
end
if ctx ~= '' then redis.call('HSET', P .. 'u:' .. aid, 'ctx', ctx) end
return user(P, aid)
""" + OP_CLOSE

IDENTIFY = OP + r"""
local P, key, anon, app, at, default = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local iid = redis.call('HGET', P .. 'a', app) or default
local uk = P .. 'u:' .. iid
if redis.call('EXISTS', uk) == 0 then new_user(P, key, iid, app, at) end
redis.call('HSET', uk, 'uid', app, 'ident', '1')
redis.call('HSET', P .. 'a', app, iid)
if anon ~= iid then
  local ak = P .. 'u:' .. anon
  local u = redis.call('HMGET', uk, 'dev', 'tok', 'ctx', 'anon')
  local devices, tokens, ctx, anons = cjson.decode(u[1]), cjson.decode(u[2]), u[3], cjson.decode(u[4])
  if redis.call('HGET', ak, 'ident') == '0' then
    local a = redis.call('HMGET', ak, 'dev', 'tok', 'ctx')
    for _, device in ipairs(cjson.decode(a[1])) do
      redis.call('HSET', P .. 'd', device, iid)
      if not has(devices, device) then table.insert(devices, device) end
    end
    for _, token in ipairs(cjson.decode(a[2])) do
      if not has(tokens, token) then table.insert(tokens, token) end
    end
    if ctx == 'null' then ctx = a[3] end
    local params = redis.call('HGETALL', P .. 'p:' .. anon)
    for i = 1, #params, 2 do redis.call('HSETNX', P .. 'p:' .. iid, params[i], params[i + 1]) end
    redis.call('DEL', ak, P .. 'p:' .. anon)
    redis.call('ZREM', P .. 'U', anon)
  end
  if not has(anons, anon) then table.insert(anons, anon) end
  redis.call('HSET', uk, 'dev', arr(devices), 'tok', arr(tokens), 'ctx', ctx, 'anon', arr(anons))
end
for i = 7, #ARGV, 2 do redis.call('HSET', P .. 'p:' .. iid, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', uk, 'updated', at)
local sessions = redis.call('HINCRBY', P .. 'm', 'sessions', 1)
return {sessions, iid, user(P, iid)}
""" + OP_CLOSE

APP_USER_ID = OP + r"""
return redis.call('HGET', ARGV[1] .. 'a', ARGV[2]) or ARGV[3]
""" + OP_CLOSE

PUSH_TOKEN = OP + r"""
local P, key, aid, token, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', P .. 'u:' .. aid) == 0 then new_user(P, key, aid, aid, at) end
local tokens = cjson.decode(redis.call('HGET', P .. 'u:' .. aid, 'tok'))
if not has(tokens, token) then
  table.insert(tokens, token)
  redis.call('HSET', P .. 'u:' .. aid, 'tok', arr(tokens))
end
return user(P, aid)
""" + OP_CLOSE

ADD_RESPONSE = OP + r"""
local P, key, doc, placeholder, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local n = redis.call('LLEN', P .. 'r')
if placeholder ~= '' then
  local id = string.sub(redis.sha1hex(prefix .. tostring(n)), 1, 24)
  local at = string.find(doc, placeholder, 1, true)
  doc = string.sub(doc, 1, at - 1) .. id .. string.sub(doc, at + #placeholder)
end
redis.call('RPUSH', P .. 'r', doc)
redis.call('SADD', 'm1f:keys', key)
return doc
""" + OP_CLOSE

# ARGV: P, key, user, received, cap, max_bytes, n, then n ids, then the call as stored when
# every id is new ([user, received, ids] JSON, a newline, the events packed as one JSON array),
# then (only when asked for) the n events packed one by one. The call is stored as it came
# when every id is new (the common case: no per-event strings, no JSON or concatenation in
# Lua, whose every new string costs a hash of each byte); when some ids were known already
# and the events did not come one by one, nothing changes and the answer is {-1, 0}: the
# caller sends them again with the events.
TRACK = OP + r"""
local P, key, caller, received = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cap, max_bytes, n = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local one_by_one = #ARGV > 8 + n
local ids, rows, seen = {}, {}, {}
for first = 1, n, 1000 do  -- one SMISMEMBER per thousand ids (unpack's stack bound)
  local last = math.min(first + 999, n)
  local known = redis.call('SMISMEMBER', P .. 'ids', unpack(ARGV, 7 + first, 7 + last))
  for i = first, last do
    local id = ARGV[7 + i]
    if known[i - first + 1] == 0 and not seen[id] then
      seen[id] = true
      table.insert(ids, id)
      if one_by_one then table.insert(rows, ARGV[8 + n + i]) end
    end
  end
end
if #ids == 0 then return {0, n} end
if #ids < n and not one_by_one then return {-1, 0} end
for first = 1, #ids, 1000 do redis.call('SADD', P .. 'ids', unpack(ids, first, math.min(first + 999, #ids))) end
local call, size = ARGV[8 + n], 0
if #ids < n then
  local packed = '[' .. table.concat(rows, ',') .. ']'
  call = cjson.encode({caller, received, ids}) .. '\n' .. packed
  size = #packed + #caller + 120 + 150 * #ids
else
  size = #call - string.find(call, '\n', 1, true) + #caller + 120 + 150 * #ids
end
redis.call('RPUSH', P .. 'c', call)
if redis.call('HINCRBY', P .. 'm', 'bytes', size) == size then redis.call('SADD', 'm1f:keys', key) end  -- its first events
redis.call('RPUSH', 'm1f:order', key)
local total = redis.call('HINCRBY', 'm1f:ev', 'total', #ids)
local bytes = redis.call('HINCRBY', 'm1f:ev', 'bytes', size)
while total > cap or bytes > max_bytes do
  local owner = redis.call('LPOP', 'm1f:order')
  if not owner then break end
  local Q = 'm1f:p:' .. owner .. '\31'
  local call = redis.call('LPOP', Q .. 'c')
  if call then
    local cut = string.find(call, '\n', 1, true)
    local head = cjson.decode(string.sub(call, 1, cut - 1))
    local gone = head[3]
    for first = 1, #gone, 1000 do redis.call('SREM', Q .. 'ids', unpack(gone, first, math.min(first + 999, #gone))) end
    local freed = (#call - cut) + #head[1] + 120 + 150 * #gone
    redis.call('HINCRBY', Q .. 'm', 'bytes', -freed)
    redis.call('HINCRBY', Q .. 'm', 'dropped', #gone)
    total = redis.call('HINCRBY', 'm1f:ev', 'total', -#gone)
    bytes = redis.call('HINCRBY', 'm1f:ev', 'bytes', -freed)
    redis.call('HINCRBY', 'm1f:ev', 'dropped', #gone)
  end
end
return {#ids, n - #ids}
""" + OP_CLOSE

CLEAR = PRELUDE + r"""
local P, key = ARGV[1], ARGV[2]
local count, size = redis.call('SCARD', P .. 'ids'), tonumber(redis.call('HGET', P .. 'm', 'bytes')) or 0
if count > 0 then redis.call('HINCRBY', 'm1f:ev', 'total', 0 - count) end
if size > 0 then redis.call('HINCRBY', 'm1f:ev', 'bytes', 0 - size) end
redis.call('LREM', 'm1f:order', 0, key)
for _, aid in ipairs(redis.call('ZRANGE', P .. 'U', 0, -1)) do redis.call('DEL', P .. 'u:' .. aid, P .. 'p:' .. aid) end
redis.call('DEL', P .. 'm', P .. 'U', P .. 'd', P .. 'a', P .. 'r', P .. 'ids', P .. 'c')
redis.call('SREM', 'm1f:keys', key)
return 1
"""

# Everything but the journal's and the faults' id counters goes, then the projects file's
# projects come back. ARGV: schema, then project key, JSON pairs. Runs on a flushed Redis too.
RESET = r"""
local keep = {['m1f:jseq'] = true, ['m1f:fseq'] = true, ['m1f:sseq'] = true, ['m1f:gen'] = true, ['m1f:jmeta'] = true,
              ['m1f:alock'] = true}
local cursor = '0'
repeat
  local found = redis.call('SCAN', cursor, 'MATCH', 'm1f:*', 'COUNT', 1000)
  cursor = found[1]
  for _, name in ipairs(found[2]) do
    if not keep[name] then redis.call('DEL', name) end
  end
until cursor == '0'
redis.call('SET', 'm1f:schema', ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('HSET', 'm1f:projects', ARGV[i], ARGV[i + 1])
  redis.call('RPUSH', 'm1f:plist', ARGV[i])
end
return redis.call('INCR', 'm1f:gen')
"""

# At start: seed an empty Redis (atomically: two instances starting at once seed it once).
# Returns {schema found or false, seeded 1/0}.
SEED = r"""
local found = redis.call('GET', 'm1f:schema')
if found then return {found, 0} end
if redis.call('EXISTS', 'm1f:projects') == 1 then return {'(none: partial mock-1flow state)', 0} end
redis.call('SET', 'm1f:schema', ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('HSET', 'm1f:projects', ARGV[i], ARGV[i + 1])
  redis.call('RPUSH', 'm1f:plist', ARGV[i])
end
redis.call('INCR', 'm1f:gen')
return {ARGV[1], 1}
"""

PUT_PROJECT = PRELUDE + r"""
if redis.call('HSET', 'm1f:projects', ARGV[1], ARGV[2]) == 1 then redis.call('RPUSH', 'm1f:plist', ARGV[1]) end
return redis.call('INCR', 'm1f:gen')
"""

DELETE_PROJECT = PRELUDE + r"""
local gone = redis.call('HDEL', 'm1f:projects', ARGV[1])
redis.call('LREM', 'm1f:plist', 0, ARGV[1])
redis.call('INCR', 'm1f:gen')
return gone
"""

REPLACE_PROJECTS = PRELUDE + r"""
redis.call('DEL', 'm1f:projects', 'm1f:plist')
for i = 1, #ARGV, 2 do
  redis.call('HSET', 'm1f:projects', ARGV[i], ARGV[i + 1])
  redis.call('RPUSH', 'm1f:plist', ARGV[i])
end
return redis.call('INCR', 'm1f:gen')
"""

# The admin lock (``m1f:alock``, SET NX PX by :meth:`Shared.lock_admin`): released only by
# the write that holds it (its token in ARGV[1]); an expired lock is another's, left alone.
ADMIN_UNLOCK = r"""
if redis.call('GET', 'm1f:alock') == ARGV[1] then return redis.call('DEL', 'm1f:alock') end
return 0
"""

CHANGED = PRELUDE + r"""
redis.call('SET', 'm1f:parts', ARGV[1])
return redis.call('INCR', 'm1f:gen')
"""

# The journal: ``m1f:journal`` a sorted set of entries (score = id, member "id \31 size \31
# project"), ``m1f:jentries`` a hash id -> entry JSON. Ids come from one counter
# (``m1f:jseq``): an SDK operation takes its request's id in its own script (OP_OPEN); other
# requests get theirs when their entry is written. Entries come in batches (one transaction
# per batch of an instance's queue, see flusher.py), so they may arrive out of id order: a
# sorted set, not a stream. A batch is MULTI, HSET m1f:jentries (the entries as they are: no
# payload passes through Lua, whose strings cost a hash of every byte), ZADD m1f:journal,
# then JOURNAL_TRIM, EXEC. TRIM's ARGV: cap, max_bytes, lost (entries the instance could not
# queue or send), n (entries in the batch), their bytes. Returns n.
JOURNAL_TRIM = r"""
local cap, max_bytes, lost, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if lost > 0 then redis.call('HINCRBY', 'm1f:jmeta', 'lost', lost) end
if n == 0 then return 0 end
redis.call('HINCRBY', 'm1f:jmeta', 'recorded', n)
local bytes = redis.call('HINCRBY', 'm1f:jmeta', 'bytes', ARGV[5])
local length = redis.call('ZCARD', 'm1f:journal')
local freed, dropped = 0, 0
local function drop(count)  -- the oldest count entries, in one ZPOPMIN and one HDEL a thousand
  local popped = redis.call('ZPOPMIN', 'm1f:journal', count)
  local ids = {}
  for i = 1, #popped, 2 do  -- member, score
    local a = string.find(popped[i], '\31', 1, true)
    local b = string.find(popped[i], '\31', a + 1, true)
    table.insert(ids, string.sub(popped[i], 1, a - 1))
    freed = freed + tonumber(string.sub(popped[i], a + 1, b - 1))
  end
  for first = 1, #ids, 1000 do redis.call('HDEL', 'm1f:jentries', unpack(ids, first, math.min(first + 999, #ids))) end
  dropped = dropped + #ids
  length = length - #ids
end
if length > cap then drop(length - cap) end
while bytes - freed > max_bytes and length > 1 do drop(1) end
if dropped > 0 then
  redis.call('HINCRBY', 'm1f:jmeta', 'bytes', -freed)
  redis.call('HINCRBY', 'm1f:jmeta', 'dropped', dropped)
end
return n
"""

# The entries after id ARGV[1] (0: all), oldest first: {id, entry JSON, ...}.
JOURNAL_READ = r"""
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', 'm1f:journal', '(' .. ARGV[1], '+inf')) do
  local id = string.sub(member, 1, string.find(member, '\31', 1, true) - 1)
  local entry = redis.call('HGET', 'm1f:jentries', id)
  if entry then
    table.insert(out, id)
    table.insert(out, entry)
  end
end
return out
"""

JOURNAL_CLEAR = r"""
redis.call('DEL', 'm1f:journal', 'm1f:jentries')
redis.call('HSET', 'm1f:jmeta', 'bytes', 0, 'dropped', 0, 'recorded', 0, 'lost', 0)
return redis.call('HINCRBY', 'm1f:jmeta', 'clears', 1)
"""

JOURNAL_FORGET = r"""
local bytes = 0
for _, member in ipairs(redis.call('ZRANGE', 'm1f:journal', 0, -1)) do
  local a = string.find(member, '\31', 1, true)
  local b = string.find(member, '\31', a + 1, true)
  if string.sub(member, b + 1) == ARGV[1] then
    redis.call('HDEL', 'm1f:jentries', string.sub(member, 1, a - 1))
    redis.call('ZREM', 'm1f:journal', member)
  else
    bytes = bytes + tonumber(string.sub(member, a + 1, b - 1))
  end
end
redis.call('HSET', 'm1f:jmeta', 'bytes', bytes)
return 1
"""

# Faults: rules in a list (JSON with their id), counters in two hashes.
FAULT_ADD = PRELUDE + r"""
local id = 'fault-' .. redis.call('INCR', 'm1f:fseq')
redis.call('RPUSH', 'm1f:faults', cjson.encode({id, ARGV[1]}))
return {id, redis.call('INCR', 'm1f:gen')}
"""

FAULT_HIT = OP + r"""
local id, times = ARGV[1], tonumber(ARGV[2])
redis.call('HINCRBY', 'm1f:fseen', id, 1)
if times and tonumber(redis.call('HGET', 'm1f:fhits', id) or '0') >= times then return 0 end
if ARGV[3] ~= '1' then return 0 end
redis.call('HINCRBY', 'm1f:fhits', id, 1)
return 1
""" + OP_CLOSE

FAULT_REMOVE = PRELUDE + r"""
local gone = 0
for _, entry in ipairs(redis.call('LRANGE', 'm1f:faults', 0, -1)) do
  if cjson.decode(entry)[1] == ARGV[1] then gone = gone + redis.call('LREM', 'm1f:faults', 0, entry) end
end
redis.call('HDEL', 'm1f:fhits', ARGV[1])
redis.call('HDEL', 'm1f:fseen', ARGV[1])
redis.call('INCR', 'm1f:gen')
return gone
"""

FAULTS_FORGET = PRELUDE + r"""
for _, entry in ipairs(redis.call('LRANGE', 'm1f:faults', 0, -1)) do
  local fault = cjson.decode(entry)
  if cjson.decode(fault[2])['project'] == ARGV[1] then
    redis.call('LREM', 'm1f:faults', 0, entry)
    redis.call('HDEL', 'm1f:fhits', fault[1])
    redis.call('HDEL', 'm1f:fseen', fault[1])
  end
end
return redis.call('INCR', 'm1f:gen')
"""

FAULTS_CLEAR = PRELUDE + r"""
redis.call('DEL', 'm1f:faults', 'm1f:fhits', 'm1f:fseen')
return redis.call('INCR', 'm1f:gen')
"""

# The Segment ingest's delivery ledger (ingest/ledger.py's, shared): ``m1f:ledger`` hash
# "write key \31 messageId" -> JSON [project, type, status, reason, http_status, error,
# detail, attempts, updated, size]; ``m1f:lorder`` zset of those fields, least recently
# updated first; ``m1f:lmeta`` hash bytes, dropped, recorded; ``m1f:lc:<field>`` a claim:
# the instance delivering that event now (it expires: an instance that died lets go).
# CLAIM: ARGV lease ms, then fields; per field 1 when this caller is to deliver it, 0 when
# it ended (sent, dropped) or another instance is delivering it.
LEDGER_CLAIM = PRELUDE + r"""
local lease, out, mine = ARGV[1], {}, {}
for i = 2, #ARGV do
  local field = ARGV[i]
  local entry = redis.call('HGET', 'm1f:ledger', field)
  local status = entry and cjson.decode(entry)[3]
  if status == 'sent' or status == 'dropped' then
    out[i - 1] = 0
  elseif mine[field] or redis.call('SET', 'm1f:lc:' .. field, '1', 'NX', 'PX', lease) then
    mine[field] = true
    out[i - 1] = 1
  else
    out[i - 1] = 0
  end
end
return out
"""

# PUT: ARGV cap, max_bytes, now, then per entry: field, head (JSON array of the first seven
# values, unclosed), attempt (0 or 1), the bytes of its strings. Claims on them end.
LEDGER_PUT = PRELUDE + r"""
local cap, max_bytes, now = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
for i = 4, #ARGV, 4 do
  local field, head, attempt, size = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local previous = redis.call('HGET', 'm1f:ledger', field)
  local attempts = attempt
  if previous then
    local old = cjson.decode(previous)
    attempts = old[8] + attempt
    redis.call('HINCRBY', 'm1f:lmeta', 'bytes', -old[10])
  else
    redis.call('HINCRBY', 'm1f:lmeta', 'recorded', 1)
  end
  redis.call('HSET', 'm1f:ledger', field, head .. ',' .. attempts .. ',' .. now .. ',' .. size .. ']')
  redis.call('ZADD', 'm1f:lorder', redis.call('INCR', 'm1f:lseq'), field)
  redis.call('HINCRBY', 'm1f:lmeta', 'bytes', size)
  redis.call('DEL', 'm1f:lc:' .. field)
end
local count = redis.call('ZCARD', 'm1f:lorder')
local bytes = tonumber(redis.call('HGET', 'm1f:lmeta', 'bytes'))
while count > cap or (bytes > max_bytes and count > 1) do
  local oldest = redis.call('ZPOPMIN', 'm1f:lorder')[1]
  local entry = cjson.decode(redis.call('HGET', 'm1f:ledger', oldest))
  redis.call('HDEL', 'm1f:ledger', oldest)
  bytes = redis.call('HINCRBY', 'm1f:lmeta', 'bytes', -entry[10])
  redis.call('HINCRBY', 'm1f:lmeta', 'dropped', 1)
  count = count - 1
end
return count
"""

LEDGER_CLEAR = r"""
redis.call('DEL', 'm1f:ledger', 'm1f:lorder', 'm1f:lmeta')
local cursor = '0'
repeat
  local found = redis.call('SCAN', cursor, 'MATCH', 'm1f:lc:*', 'COUNT', 1000)
  cursor = found[1]
  for _, name in ipairs(found[2]) do redis.call('DEL', name) end
until cursor == '0'
return 1
"""

# PUT /__admin/state, first step (inside the same MULTI as the writes that follow): every
# project's data goes, and the event caps' counters with it. Projects, journal, faults stay.
WIPE_DATA = PRELUDE + r"""
local cursor = '0'
repeat
  local found = redis.call('SCAN', cursor, 'MATCH', 'm1f:p:*', 'COUNT', 1000)
  cursor = found[1]
  for _, name in ipairs(found[2]) do redis.call('DEL', name) end
until cursor == '0'
redis.call('DEL', 'm1f:keys', 'm1f:order', 'm1f:ev')
return 1
"""

# Stubs: the rules travel in the shared parts document (m1f:parts); their hit counts are
# here, counted by the script that lets a stub answer, so ``times`` holds across instances.
# ``m1f:sseq`` numbers new stubs across instances. Returns the hit count, 0 when spent.
STUB_HIT = OP + r"""
local id, times = ARGV[1], tonumber(ARGV[2])
if times and tonumber(redis.call('HGET', 'm1f:shits', id) or '0') >= times then return 0 end
return redis.call('HINCRBY', 'm1f:shits', id, 1)
""" + OP_CLOSE
