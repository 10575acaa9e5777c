-- Connecting a user to a desktop in one statement (issue 6: the broker's hot path).
--
-- broker_connect() does in one round trip what took the broker seven: it authenticates the API
-- token, checks the entitlement,
-- finds the user's live session in the pool (a reconnect) or claims a desktop (floating: any
-- ready one, SKIP LOCKED; dedicated: the user's own, assigned on first use), opens the session,
-- issues the display ticket (only its hash is stored; the plaintext reaches the host agent in a
-- NOTIFY sent at commit and is stored nowhere) and writes the audit record. A refusal changes
-- nothing and comes back as an outcome, so the broker answers it without a rollback:
--
--   outcome          meaning
--   unauthenticated  the token is unknown, expired or revoked, or its user is disabled
--   assigned         a desktop was claimed and a session opened
--   reconnected      the user's live session in the pool was picked up
--   no_pool          no such pool, disabled, or the user is not entitled (indistinguishable)
--   no_protocol      the pool does not offer the protocol
--   not_running      the user's own desktop (live session or dedicated) is not running its
--                    current generation right now
--   no_display       that desktop has no host or no port for the protocol yet
--   none_ready       nothing to claim; the pool managers are told on 'vdi_pools' (demand)

-- The user a live API token belongs to (none if the token is unknown, expired or revoked, or the
-- user is disabled): every authenticated request's first question. last_used_at is refreshed at
-- most once a minute, so that reading requests do not each write a row.
CREATE FUNCTION api_token_user(p_token_hash bytea) RETURNS SETOF users LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH t AS (SELECT t.id, t.user_id, t.last_used_at FROM api_tokens t
                WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL AND t.expires_at > now()),
    touched AS (UPDATE api_tokens SET last_used_at = now()
                 WHERE id IN (SELECT t.id FROM t WHERE t.last_used_at < now() - interval '60 seconds'))
    SELECT u.* FROM users u JOIN t ON t.user_id = u.id WHERE NOT u.disabled;
END;
$$;

-- Claims a ready desktop of the pool for the user (the one claim, used by broker_connect and by
-- DesktopRepository). With p_protocol, only a desktop whose display server for it is up.
-- The WHERE clause implies the predicate of desktops_ready_idx, which keeps the claim an index
-- scan; DesktopRepository's ready predicate is the same one.
CREATE FUNCTION desktop_claim(p_pool_id bigint, p_user_id bigint, p_dedicated boolean,
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
                    WHERE r.pool_id = p_pool_id
                      AND r.desired_state = 'running' AND r.actual_state = 'running'
                      AND r.actual_generation = r.generation AND r.ready_generation = r.generation
                      AND r.assigned_user_id IS NULL AND r.owner_user_id IS NULL
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

CREATE FUNCTION broker_connect(p_token_hash bytea, p_pool text, p_protocol display_protocol,
                               p_client_address text, p_ticket_hash bytea, p_ticket text, p_ticket_ttl_s integer)
RETURNS TABLE (outcome text, pool_id bigint, session_id bigint, desktop_id bigint, desktop_name text,
               generation bigint, host_address text, port integer, ticket_id bigint,
               ticket_expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_user               users;
    v_pool_id            bigint;
    v_dedicated          boolean;
    v_session_id         bigint;
    v_session_generation bigint;
    v_ticket_id          bigint;
    v_reconnect          boolean := false;
    -- the desktop: id, name, generation, actual_state, actual_generation, port (for p_protocol),
    -- host_id, host_address
    v                    record;
BEGIN
    SELECT u.* INTO v_user FROM api_token_user(p_token_hash) u;
    IF NOT FOUND THEN
        outcome := 'unauthenticated';
        RETURN NEXT;
        RETURN;
    END IF;
    -- the pool (if the user is entitled), and the user's live session in it with its desktop
    SELECT p.id AS pool_id, p.assignment, p_protocol = ANY (p.protocols) AS offered,
           s.id AS session_id, s.desktop_generation, d.id, d.name, d.generation, d.actual_state,
           d.actual_generation, CASE p_protocol WHEN 'vnc' THEN d.vnc_port ELSE d.rdp_port END AS port,
           h.id AS host_id, h.address AS host_address
      INTO v
      FROM pools p
      LEFT JOIN sessions s ON s.user_id = v_user.id AND s.pool_id = p.id AND s.state <> 'ended'
      LEFT JOIN desktops d ON d.id = s.desktop_id
      LEFT JOIN hosts h ON h.id = d.host_id
     WHERE p.name = p_pool AND p.enabled
       AND EXISTS (SELECT 1 FROM entitlements e
                     LEFT JOIN group_members m ON m.group_id = e.group_id AND m.user_id = v_user.id
                    WHERE e.pool_id = p.id AND (e.user_id = v_user.id OR m.user_id IS NOT NULL));
    IF NOT FOUND THEN
        outcome := 'no_pool';
        RETURN NEXT;
        RETURN;
    END IF;
    v_pool_id := v.pool_id;
    pool_id := v_pool_id;
    IF NOT v.offered THEN
        outcome := 'no_protocol';
        RETURN NEXT;
        RETURN;
    END IF;
    v_dedicated := v.assignment = 'dedicated';

    IF v.session_id IS NOT NULL THEN
        v_reconnect := true;
        v_session_id := v.session_id;
        v_session_generation := v.desktop_generation;
    ELSIF v_dedicated THEN
        -- the user's own desktop, once assigned
        SELECT d.id, d.name, d.generation, d.actual_state, d.actual_generation,
               CASE p_protocol WHEN 'vnc' THEN d.vnc_port ELSE d.rdp_port END AS port,
               h.id AS host_id, h.address AS host_address
          INTO v
          FROM desktops d LEFT JOIN hosts h ON h.id = d.host_id
         WHERE d.pool_id = v_pool_id AND d.owner_user_id = v_user.id AND d.desired_state <> 'deleted';
    END IF;
    IF v_reconnect OR (v_dedicated AND FOUND) THEN
        -- (the user's own desktop may be being refreshed right now)
        IF v.actual_state <> 'running'
           OR v.actual_generation IS DISTINCT FROM coalesce(v_session_generation, v.generation) THEN
            outcome := 'not_running';
            RETURN NEXT;
            RETURN;
        END IF;
    ELSE
        SELECT c.id, c.name, c.generation, c.actual_state, c.actual_generation,
               CASE p_protocol WHEN 'vnc' THEN c.vnc_port ELSE c.rdp_port END AS port,
               h.id AS host_id, h.address AS host_address
          INTO v
          FROM desktop_claim(v_pool_id, v_user.id, v_dedicated, p_protocol) c
          LEFT JOIN hosts h ON h.id = c.host_id;
        IF NOT FOUND THEN
            PERFORM pg_notify('vdi_pools', json_build_object('pool_id', v_pool_id, 'event', 'demand')::text);
            outcome := 'none_ready';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    IF v.host_id IS NULL OR v.port IS NULL THEN
        outcome := 'no_display';
        RETURN NEXT;
        RETURN;
    END IF;

    IF v_reconnect THEN
        -- (a logoff may have ended the session since the lookup: then the statement fails as a
        -- serialization failure, and the broker runs it again, which claims as for a first connect)
        UPDATE sessions SET state = 'active', disconnected_at = NULL, last_activity_at = now(),
                            protocol = p_protocol, client_address = coalesce(p_client_address, client_address)
         WHERE id = v_session_id AND state <> 'ended';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'session % ended while the user reconnected', v_session_id
                USING ERRCODE = 'serialization_failure';
        END IF;
    ELSE
        INSERT INTO sessions (user_id, desktop_id, pool_id, desktop_generation, protocol, client_address)
        VALUES (v_user.id, v.id, v_pool_id, v.generation, p_protocol, p_client_address)
        RETURNING id INTO v_session_id;
    END IF;

    -- the ticket (its hash), its plaintext to the host agent and the audit record: one statement
    WITH t AS (
        INSERT INTO display_tickets (session_id, desktop_id, protocol, ticket_hash, expires_at)
        VALUES (v_session_id, v.id, p_protocol, p_ticket_hash, now() + p_ticket_ttl_s * interval '1 second')
        RETURNING id, expires_at),
    n AS (
        SELECT pg_notify('vdi_tickets_' || v.host_id,
                         json_build_object('ticket_id', t.id, 'desktop_id', v.id, 'generation', v.generation,
                                           'protocol', p_protocol, 'ticket', p_ticket, 'ttl_s', p_ticket_ttl_s)::text)
          FROM t),
    a AS (
        INSERT INTO audit_log (actor_user_id, actor, action, target_type, target_id, source_address, details)
        VALUES (v_user.id, v_user.username, CASE WHEN v_reconnect THEN 'session.reconnect' ELSE 'desktop.assign' END,
                'desktop', v.id::text, p_client_address,
                jsonb_build_object('pool', p_pool, 'session_id', v_session_id, 'protocol', p_protocol,
                                   'generation', v.generation)))
    SELECT t.id, t.expires_at INTO v_ticket_id, ticket_expires_at FROM t, n;

    outcome := CASE WHEN v_reconnect THEN 'reconnected' ELSE 'assigned' END;
    session_id := v_session_id;
    desktop_id := v.id;
    desktop_name := v.name;
    generation := v.generation;
    host_address := v.host_address;
    port := v.port;
    ticket_id := v_ticket_id;
    RETURN NEXT;
END;
$$;
