-- The council's votes (issue 20, G9, G10): the seventeen voting seats with their
-- representative and deputies, the Königsteiner Schlüssel per year, the kind of a draft
-- resolution, and votes — in a session or in writing by a deadline (Umlaufverfahren) —
-- with one row per seat's ballot. A closed vote keeps its computed result (the tally as
-- JSON, konvent_core::gremien::majority::Tally), also on its resolution. Timestamps are
-- Unix microseconds (UTC).

-- Who sits for a seat ('bund' or a Land's code): one representative, any deputies. An
-- account holds one seat at most.
CREATE TABLE council_seats (
    seat       TEXT    NOT NULL CHECK (seat IN ('bund', 'bw', 'by', 'be', 'bb', 'hb', 'hh', 'he',
                                               'mv', 'ni', 'nw', 'rp', 'sl', 'sn', 'st', 'sh', 'th')),
    account_id INTEGER NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('representative', 'deputy')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (seat, account_id)
);
CREATE UNIQUE INDEX council_seats_one_representative ON council_seats (seat)
    WHERE role = 'representative';

-- The Königsteiner Schlüssel: the sixteen Länder's shares of a year in 1/100,000 percent.
CREATE TABLE key_shares (
    year        INTEGER NOT NULL,
    seat        TEXT    NOT NULL CHECK (seat <> 'bund'),
    share       INTEGER NOT NULL CHECK (share >= 0),
    modified_at INTEGER NOT NULL,
    PRIMARY KEY (year, seat)
);

ALTER TABLE resolutions ADD COLUMN kind TEXT NOT NULL DEFAULT 'binding'
    CHECK (kind IN ('binding', 'territorial', 'recommendation', 'procedural'));
-- The result of the vote that decided it (a Tally as JSON), set when that vote closes.
ALTER TABLE resolutions ADD COLUMN vote_result TEXT;

CREATE TABLE council_votes (
    id             INTEGER PRIMARY KEY,
    resolution_id  INTEGER NOT NULL REFERENCES resolutions (id) ON DELETE CASCADE,
    procedure      TEXT    NOT NULL CHECK (procedure IN ('session', 'written')),
    session_id     INTEGER REFERENCES council_sessions (id) ON DELETE CASCADE,
    agenda_item_id INTEGER REFERENCES agenda_items (id) ON DELETE SET NULL,
    -- The draft's kind and the key's year, frozen when the vote opens.
    kind           TEXT    NOT NULL,
    key_year       INTEGER NOT NULL,
    deadline       INTEGER,
    opened_by      INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    opened_at      INTEGER NOT NULL,
    closed_at      INTEGER,
    result         TEXT,
    -- Counts every change of a ballot: the live region's version.
    version        INTEGER NOT NULL DEFAULT 0,
    CHECK ((procedure = 'session') = (session_id IS NOT NULL)),
    CHECK ((procedure = 'written') = (deadline IS NOT NULL)),
    CHECK ((closed_at IS NULL) = (result IS NULL))
);
-- One open vote per draft.
CREATE UNIQUE INDEX council_votes_one_open ON council_votes (resolution_id) WHERE closed_at IS NULL;
CREATE INDEX council_votes_by_session ON council_votes (session_id);
CREATE INDEX council_votes_due ON council_votes (deadline) WHERE closed_at IS NULL;

-- One row per seat and vote, named: who cast it, changed in place until the vote closes.
CREATE TABLE council_ballots (
    vote_id    INTEGER NOT NULL REFERENCES council_votes (id) ON DELETE CASCADE,
    seat       TEXT    NOT NULL,
    ballot     TEXT    NOT NULL CHECK (ballot IN ('yes', 'no', 'abstain')),
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    by_deputy  INTEGER NOT NULL DEFAULT 0,
    changes    INTEGER NOT NULL DEFAULT 0,
    cast_at    INTEGER NOT NULL,
    PRIMARY KEY (vote_id, seat)
);
