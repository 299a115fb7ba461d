-- 004_change_usage: a claim's or release's change notification carries the
-- node's new usage, so a scheduler applies it without reading the row back
-- (docs/db.md, change feed). An UPDATE of compute_nodes that changes only
-- the columns claims own (usage, running_vms, guest endianness counts,
-- generation, updated_at) and bumps the generation, as claims and
-- releases do, adds "usage": [generation, vcpus_used, memory_mb_used,
-- local_gb_used] to its payload; any other change (a new report,
-- disabling, a column added later, a hand-made UPDATE that leaves the
-- generation) does not, and readers re-read the row as before. The changes
-- table is unchanged: a listener catching up from it re-reads the rows.
-- Applied by `tern-manage db sync` inside a transaction (advisory lock).

CREATE OR REPLACE FUNCTION tern_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    k text;
    cid bigint;
    masked compute_nodes;
    payload json;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_TABLE_NAME IN ('compute_nodes', 'services') THEN
        k := r.host;
    ELSE
        k := r.uuid::text;
    END IF;
    INSERT INTO changes (tbl, key, op) VALUES (TG_TABLE_NAME, k, TG_OP) RETURNING id INTO cid;
    IF TG_TABLE_NAME = 'compute_nodes' AND TG_OP = 'UPDATE' THEN
        -- the old row with the claim-owned columns taken from the new one:
        -- equal to the new row when nothing else changed
        masked := OLD;
        masked.vcpus_used := NEW.vcpus_used;
        masked.memory_mb_used := NEW.memory_mb_used;
        masked.local_gb_used := NEW.local_gb_used;
        masked.running_vms := NEW.running_vms;
        masked.le_guests := NEW.le_guests;
        masked.be_guests := NEW.be_guests;
        masked.generation := NEW.generation;
        masked.updated_at := NEW.updated_at;
        IF NEW.generation > OLD.generation AND masked IS NOT DISTINCT FROM NEW THEN
            payload := json_build_object('id', cid, 'table', TG_TABLE_NAME, 'key', k,
                                         'op', TG_OP,
                                         'usage', json_build_array(NEW.generation, NEW.vcpus_used,
                                                                   NEW.memory_mb_used,
                                                                   NEW.local_gb_used));
        END IF;
    END IF;
    IF payload IS NULL THEN
        payload := json_build_object('id', cid, 'table', TG_TABLE_NAME, 'key', k, 'op', TG_OP);
    END IF;
    PERFORM pg_notify('tern_changes', payload::text);
    RETURN NULL;
END $$;
