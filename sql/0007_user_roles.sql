-- Roles for the admin console (issue 15): besides `admin`, `helpdesk` reads everything the admin
-- API shows and acts only on sessions (message, disconnect, log off), and `auditor` only reads.
-- The broker enforces them per route (docs/api.md "Roles"). The new labels are not used in this
-- transaction (PostgreSQL allows adding them inside one only then).
ALTER TYPE user_role ADD VALUE IF NOT EXISTS 'helpdesk';
ALTER TYPE user_role ADD VALUE IF NOT EXISTS 'auditor';
