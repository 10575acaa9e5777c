-- Draining a host (issue 15): an admin's "no new desktops here" is a flag of its own, not a
-- liveness state, so that it survives the host agent re-registering (a restart or upgrade) and the
-- host being lost and coming back. The pool manager places no new desktop on a drained host;
-- the desktops already there keep running. Hosts marked 'draining' before become drained and online.
ALTER TABLE hosts ADD COLUMN drained boolean NOT NULL DEFAULT false;
UPDATE hosts SET drained = true, state = 'online' WHERE state = 'draining';
