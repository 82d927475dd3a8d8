-- E-archive export packages (E-ARK SIP 2.1.0 / FGS Paketstruktur 2.0), built in the background.
CREATE TABLE export_package (
    id           uuid PRIMARY KEY,
    account_id   text NOT NULL,
    period_from  timestamptz NOT NULL,
    period_to    timestamptz NOT NULL,
    requested_by text NOT NULL,
    purpose      text NOT NULL DEFAULT 'request',   -- 'request' or 'capture' (scheduled/closure)
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    items        integer,
    path         text,
    sha256       text,
    error        text,
    requested_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
