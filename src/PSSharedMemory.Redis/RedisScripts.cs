namespace PSSharedMemory.Redis
{
    /// <summary>
    /// The Lua scripts that make each operation one atomic step on the server. Every script of a segment
    /// touches only that segment's keys, which share one hash slot (the '{name}' hash tag), so they run on
    /// Redis Cluster too. KEYS[1] is the segment's hash, KEYS[2] its lock, KEYS[3] its queue list.
    /// </summary>
    /// <remarks>
    /// The hash's fields: id (a random id per creation, so a handle tells its segment from one re-created
    /// under the same name), kind (0 value, 1 queue), size, max, grow, ver, type, data, wpid, whost, wtime
    /// (Unix ms), cpid, chost, ctime, qbytes (bytes a queue's messages take). The lock's value is
    /// "token|host|pid". A queue message is "type:version:" followed by its bytes.
    /// </remarks>
    internal static class RedisScripts
    {
        /// <summary>Checks, inside a script, that the caller may act under the lock. Leaves 'lockerr' nil when it may.</summary>
        private const string LockCheck = @"
local lock = redis.call('GET', KEYS[2])
local lockerr = nil
if token ~= '' then
  if (not lock) or string.sub(lock, 1, #token + 1) ~= (token .. '|') then lockerr = {'lost'} end
elseif lock then
  lockerr = {'locked', lock}
end
";

        /// <summary>ARGV: id, kind, size, max, grow, time, pid, host, channel. Returns 1 when created, 0 when the name is taken.</summary>
        public const string Create = @"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'kind', ARGV[2], 'size', ARGV[3], 'max', ARGV[4], 'grow', ARGV[5],
  'ver', 0, 'type', 0, 'data', '', 'wpid', 0, 'whost', '', 'wtime', ARGV[6], 'ctime', ARGV[6], 'cpid', ARGV[7], 'chost', ARGV[8], 'qbytes', 0)
redis.call('PUBLISH', ARGV[9], 'created')
return 1
";

        /// <summary>
        /// ARGV: id, data, type, ifVersion (-1: none), append (0/1), pid, host, time, lock token ('' when not
        /// held), channel. Returns {'ok', version} or the reason it did not write.
        /// </summary>
        public const string Write = @"
local token = ARGV[9]
local h = redis.call('HMGET', KEYS[1], 'id', 'ver', 'type', 'size', 'max', 'grow', 'kind')
if (not h[1]) or h[1] ~= ARGV[1] then return {'removed'} end
if h[7] ~= '0' then return {'kind'} end
" + LockCheck + @"
if lockerr then return lockerr end
local ver = tonumber(h[2])
if ARGV[4] ~= '-1' and tonumber(ARGV[4]) ~= ver then return {'version', ver} end
local data = ARGV[2]
local t = ARGV[3]
if ARGV[5] == '1' then
  if h[3] ~= '0' and h[3] ~= t then return {'type', h[3]} end
  data = redis.call('HGET', KEYS[1], 'data') .. data
end
local size = tonumber(h[4])
if #data > size then
  if h[6] == '1' and #data <= tonumber(h[5]) then
    size = #data + math.floor(#data / 4)
    if size > tonumber(h[5]) then size = tonumber(h[5]) end
  else
    return {'large', size, #data}
  end
end
ver = ver + 1
redis.call('HSET', KEYS[1], 'data', data, 'type', t, 'ver', ver, 'wpid', ARGV[6], 'whost', ARGV[7], 'wtime', ARGV[8], 'size', size)
redis.call('PUBLISH', ARGV[10], ver)
return {'ok', ver}
";

        /// <summary>ARGV: id. Returns {id, type, ver, data, kind, lock} from one moment.</summary>
        public const string Read = @"
local h = redis.call('HMGET', KEYS[1], 'id', 'type', 'ver', 'data', 'kind')
return {h[1] or '', h[2] or '0', h[3] or '0', h[4] or '', h[5] or '0', redis.call('GET', KEYS[2]) or ''}
";

        /// <summary>Returns every field but the payload, the payload's length, the lock's value and the queue's length.</summary>
        public const string Info = @"
local h = redis.call('HMGET', KEYS[1], 'id', 'kind', 'size', 'max', 'grow', 'ver', 'type', 'wpid', 'whost', 'wtime', 'cpid', 'chost', 'ctime', 'qbytes')
if not h[1] then return {} end
local r = {}
for i = 1, 14 do r[i] = h[i] or '' end
r[15] = redis.call('HSTRLEN', KEYS[1], 'data')
r[16] = redis.call('GET', KEYS[2]) or ''
r[17] = redis.call('LLEN', KEYS[3])
return r
";

        /// <summary>ARGV: value ('token|host|pid'), lease in ms, id. Returns 1 when taken, 0 when the segment is gone, else the holder's value.</summary>
        public const string Lock = @"
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[3] then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return redis.call('GET', KEYS[2]) or ''
";

        /// <summary>ARGV: value, lease in ms. Extends the lease when the value is still this holder's: 1, else 0.</summary>
        public const string Renew = @"
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) return 1 end
return 0
";

        /// <summary>ARGV: value, channel. Deletes the lock when the value is still this holder's (compare and delete): 1, else 0.</summary>
        public const string Unlock = @"
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[2], 'unlocked')
  return 1
end
return 0
";

        /// <summary>ARGV: channel. Deletes the segment's keys and wakes its waiters; 1 when it existed.</summary>
        public const string Remove = @"
local existed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('PUBLISH', ARGV[1], 'removed')
return existed
";

        /// <summary>
        /// ARGV: id, data, type, pid, host, time, lock token, channel. Appends one message when it fits:
        /// {'ok', version}, {'full', free bytes}, or the reason it did not.
        /// </summary>
        public const string Send = @"
local token = ARGV[7]
local h = redis.call('HMGET', KEYS[1], 'id', 'ver', 'size', 'qbytes', 'kind')
if (not h[1]) or h[1] ~= ARGV[1] then return {'removed'} end
if h[5] ~= '1' then return {'kind'} end
" + LockCheck + @"
if lockerr then return lockerr end
local need = 16 + math.floor((#ARGV[2] + 7) / 8) * 8
local used = tonumber(h[4])
local size = tonumber(h[3])
if used + need > size then return {'full', size - used} end
local ver = tonumber(h[2]) + 1
redis.call('RPUSH', KEYS[3], ARGV[3] .. ':' .. ver .. ':' .. ARGV[2])
redis.call('HSET', KEYS[1], 'ver', ver, 'qbytes', used + need, 'wpid', ARGV[4], 'whost', ARGV[5], 'wtime', ARGV[6])
redis.call('PUBLISH', ARGV[8], ver)
return {'ok', ver}
";

        /// <summary>
        /// ARGV: id, max, peek (0/1), lock token, channel. Takes (or copies) up to max of the oldest messages in
        /// one step, so each is taken by one receiver only: {'ok', message...}, or the reason it did not.
        /// </summary>
        public const string Receive = @"
local token = ARGV[4]
local h = redis.call('HMGET', KEYS[1], 'id', 'kind', 'qbytes')
if (not h[1]) or h[1] ~= ARGV[1] then return {'removed'} end
if h[2] ~= '1' then return {'kind'} end
" + LockCheck + @"
if lockerr then return lockerr end
local items = redis.call('LRANGE', KEYS[3], 0, tonumber(ARGV[2]) - 1)
if #items > 0 and ARGV[3] == '0' then
  redis.call('LTRIM', KEYS[3], #items, -1)
  local freed = 0
  for i = 1, #items do
    local first = string.find(items[i], ':', 1, true)
    local second = string.find(items[i], ':', first + 1, true)
    freed = freed + 16 + math.floor((#items[i] - second + 7) / 8) * 8
  end
  redis.call('HSET', KEYS[1], 'qbytes', tonumber(h[3]) - freed)
  redis.call('PUBLISH', ARGV[5], 'received')
end
table.insert(items, 1, 'ok')
return items
";
    }
}
