//! Black-box API tests: the real router on a free port, a fresh database per test. Run on SQLite
//! by default and on PostgreSQL with `TENDERHALL_TEST_DATABASE_URL=postgres://...`.

mod accounts;
mod auctions;
mod audit;
mod bids;
mod clarifications;
mod deadlines;
mod deposit_batches;
mod deposits;
mod documents;
mod draws;
mod evaluation;
mod experts;
mod guarantees;
mod helpers;
mod http;
mod ids;
mod ledger_props;
mod mail;
mod organizations;
mod platform;
mod portal;
mod refunds;
mod scoring;
mod sessions;
mod tender_list;
mod tenders;
mod visitor;
