-- 002_guest_endianness: the PowerKVM rule (docs/fleet.md §4). Each
-- allocation of a POWER guest records its byte order (ppc64 = big,
-- ppc64le = little; NULL for every other arch), and each compute node
-- counts its allocations of each order. A claim that keeps one endianness
-- per host checks and bumps these counters in its own UPDATE of the node's
-- row, so the row lock serialises racing claims of opposite endianness.
-- Applied by `tern-manage db sync` inside a transaction (advisory lock).

ALTER TABLE allocations
    ADD COLUMN guest_endianness text CHECK (guest_endianness IN ('little', 'big'));

ALTER TABLE compute_nodes
    ADD COLUMN le_guests bigint NOT NULL DEFAULT 0 CHECK (le_guests >= 0),
    ADD COLUMN be_guests bigint NOT NULL DEFAULT 0 CHECK (be_guests >= 0);

-- Existing allocations: from the consumer instance's arch (a migration's
-- hold from its instance's).
UPDATE allocations a SET guest_endianness =
    CASE i.arch WHEN 'ppc64' THEN 'big' WHEN 'ppc64le' THEN 'little' END
  FROM instances i
 WHERE i.arch IN ('ppc64', 'ppc64le')
   AND (i.uuid = a.consumer_uuid
        OR i.uuid = (SELECT m.instance_uuid FROM migrations m WHERE m.uuid = a.consumer_uuid));

UPDATE compute_nodes n SET
    le_guests = (SELECT count(*) FROM allocations a
                  WHERE a.node_id = n.id AND a.guest_endianness = 'little'),
    be_guests = (SELECT count(*) FROM allocations a
                  WHERE a.node_id = n.id AND a.guest_endianness = 'big');
