-- Each account's organisational unit path (`Sales/EU`: OU names from the root down, '' for
-- an account directly under the root), from the `organization` key that `orgwatch collect
-- --organization` writes; no row while no loaded file said. Viewer OU limits and the pages'
-- `ou=` filter match it: an OU covers itself and every OU nested in it. A table of its own
-- rather than a column of `accounts`: the views select `accounts.*`, which PostgreSQL expands
-- when a view is created and SQLite when it is read, so a new column would differ between them.
CREATE TABLE account_ous (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    ou_path TEXT NOT NULL
);
