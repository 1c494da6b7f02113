-- SPDX-License-Identifier: Apache-2.0 OR MIT
-- Copyright 2026 the allocators authors.
--
-- Tables and strings, for //bench:compare's programs table.
--
--   lua5.4 tables.lua SCALE
--
-- Every round builds a table of records (each a table with string fields
-- and an array), indexes it by a derived string key, concatenates, formats
-- and pattern-matches strings, sorts an array of keys, and drops most of
-- the records so the garbage collector frees them. Prints one line per
-- round and a final digest that depends only on the work done, never on
-- addresses, so it is the same under every allocator.

local scale = tonumber(arg[1] or "1")
local rounds = math.max(1, math.floor(5 * scale + 0.5))
local n = scale >= 0.25 and 40000 or math.max(1000, math.floor(160000 * scale))

local digest = 0
local function mix(s)
  for i = 1, #s, 7 do
    digest = (digest * 31 + s:byte(i)) % 4294967291
  end
end

local keep = {}
for r = 1, rounds do
  local records, index = {}, {}
  for i = 1, n do
    local id = r * n + i
    local word = string.format("w%x", id * 2654435761 % 4294967296)
    local rec = {id = id, name = word:rep(1 + id % 4), tags = {}}
    for j = 1, id % 6 do rec.tags[j] = word:sub(1, j + 1) .. j end
    records[i] = rec
    index[word .. ":" .. (id % 97)] = rec
  end
  local keys = {}
  for k in pairs(index) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i = 1, #keys, 50 do
    local rec = index[keys[i]]
    parts[#parts + 1] = keys[i] .. "=" .. table.concat(rec.tags, ",")
  end
  local text = table.concat(parts, ";")
  local digits = 0
  for d in text:gmatch("%d+") do digits = digits + #d end
  local upper = text:gsub("w(%x+)", function(h) return "W" .. h:upper() end)
  mix(text)
  mix(upper)
  -- Keep one record in 100 alive to the end, like a cache.
  for i = 1, n, 100 do keep[#keep + 1] = records[i] end
  local line = string.format("round %d: %d records, %d keys, %d bytes, %d digits",
                             r, #records, #keys, #text, digits)
  mix(line)
  print(line)
  records, index, keys, parts = nil, nil, nil, nil
  collectgarbage("step", 0)
end
local kept = 0
for _, rec in ipairs(keep) do kept = kept + #rec.name end
print(string.format("kept %d records, %d name bytes; digest %d", #keep, kept,
                    digest))
