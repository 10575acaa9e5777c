-- Display-ticket delivery (issue 6): the broker issues a ticket, sends its plaintext to the
-- desktop's host agent in a NOTIFY on 'vdi_tickets_<host id>' (never stored), and waits for the
-- agent's acknowledgement on 'vdi_ticket_acks' before answering the client. The agent checks the
-- plaintext against ticket_hash, hands it to the VMM and records the outcome here.
ALTER TABLE display_tickets
    ADD COLUMN delivered_at   timestamptz,
    ADD COLUMN delivery_error text,
    ADD CONSTRAINT display_tickets_delivery CHECK (delivered_at IS NULL OR delivery_error IS NULL);
