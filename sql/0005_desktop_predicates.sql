-- The two desktop predicates, defined once. Both are single-expression SQL functions, which the
-- planner inlines, so a query that says desktop_is_ready(d) is planned exactly as if it spelled
-- the predicate out: the partial index below still matches, and the claim stays an index scan.
-- Every caller (desktop_claim(), the C++ repositories through db::ready_desktop_sql() and
-- db::up_to_date_desktop_sql()) uses these functions; nothing else spells the predicates out.

-- Running the generation it should, and its guest said "desktop ready" for that generation.
-- Never NULL: a desktop not yet confirmed (actual_generation or ready_generation NULL) is false.
CREATE FUNCTION desktop_is_up_to_date(d desktops) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(d.actual_state = 'running' AND d.actual_generation = d.generation
                    AND d.ready_generation = d.generation, false)
$$;

-- Up to date, meant to run, and nobody on it: can be handed to a user now.
CREATE FUNCTION desktop_is_ready(d desktops) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT d.desired_state = 'running' AND desktop_is_up_to_date(d)
       AND d.assigned_user_id IS NULL AND d.owner_user_id IS NULL
$$;

-- the ready set, now defined by the function (0001 spelled the predicate out)
DROP INDEX desktops_ready_idx;
CREATE INDEX desktops_ready_idx ON desktops (pool_id, id) WHERE desktop_is_ready(desktops);

-- Claims a ready desktop of the pool for the user (the one claim, used by broker_connect and by
-- DesktopRepository). With p_protocol, only a desktop whose display server for it is up.
-- desktop_is_ready(r) is the predicate of desktops_ready_idx, which keeps the claim an index scan.
CREATE OR REPLACE FUNCTION desktop_claim(p_pool_id bigint, p_user_id bigint, p_dedicated boolean,
                                         p_protocol display_protocol DEFAULT NULL)
RETURNS SETOF desktops LANGUAGE plpgsql AS $$
DECLARE
    claimed desktops;
BEGIN
    UPDATE desktops d
       SET assigned_user_id = p_user_id,
           owner_user_id = CASE WHEN p_dedicated THEN p_user_id END,
           assigned_at = now(), updated_at = now()
     WHERE d.id = (SELECT r.id FROM desktops r
                    WHERE r.pool_id = p_pool_id AND desktop_is_ready(r)
                      AND (p_protocol IS NULL
                           OR (r.host_id IS NOT NULL
                               AND CASE p_protocol WHEN 'vnc' THEN r.vnc_port ELSE r.rdp_port END IS NOT NULL))
                    ORDER BY r.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING d.* INTO claimed;
    IF FOUND THEN
        RETURN NEXT claimed;
    END IF;
END;
$$;
