//! Tenderhall's schema: one file per change, `mYYYYMMDD_HHMMSS_verb_noun.rs`, never edited once
//! landed. Money columns are integer minor units (fen), never floating point; times are
//! `TIMESTAMPTZ` on PostgreSQL and RFC 3339 text on SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_organizations;
mod m20261128_000002_create_accounts;
mod m20261128_000003_create_sessions;
mod m20261128_000004_create_login_failures;
mod m20261128_000005_create_platform_keys;
mod m20261128_000006_create_audit_chains;
mod m20261128_000007_create_audit_entries;
mod m20261128_000008_create_audit_heads;
mod m20261128_000009_create_signing_keys;
mod m20261128_000010_create_tenders;
mod m20261128_000011_create_lots;
mod m20261128_000012_create_holidays;
mod m20261128_000013_create_jobs;
mod m20261128_000014_add_account_language;
mod m20261128_000015_create_notifications;
mod m20261128_000016_create_password_resets;
mod m20261128_000017_create_mail_log;
mod m20261128_000018_create_documents;
mod m20261128_000019_create_document_downloads;
mod m20261128_000020_create_tender_questions;
mod m20261128_000021_create_tender_amendments;
mod m20261128_000022_create_registrations;
mod m20261128_000023_create_ledger;
mod m20261128_000024_create_bank_notifications;
mod m20261128_000025_create_refunds;
mod m20261128_000026_create_guarantees;
mod m20261128_000027_index_payer_accounts;
mod m20261128_000028_create_deposit_payers;
mod m20261128_000029_index_postings_balance;
mod m20261128_000030_create_opening_keys;
mod m20261128_000031_create_bids;
mod m20261128_000032_create_bid_openings;
mod m20261129_000033_index_payers_by_tender;
mod m20261201_000034_index_notifications_by_time;
mod m20261203_000035_registrations_again_after_withdrawal;
mod m20261203_000036_create_agency_mandates;
mod m20261203_000037_create_experts;
mod m20261203_000038_create_draws;
mod m20261204_000039_create_evaluation_setup;
mod m20261204_000040_create_evaluation_sheets;
mod m20261204_000041_create_evaluation_reports;
mod m20261204_000042_create_candidates;
mod m20261204_000043_create_lot_awards;
mod m20261204_000044_create_clarifications;
mod m20261204_000045_create_complaints;
mod m20261204_000046_create_quote_rounds;
mod m20261205_000047_add_tender_region;
mod m20261207_000048_add_lot_auction_terms;
mod m20261207_000049_create_auctions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_organizations::Migration),
            Box::new(m20261128_000002_create_accounts::Migration),
            Box::new(m20261128_000003_create_sessions::Migration),
            Box::new(m20261128_000004_create_login_failures::Migration),
            Box::new(m20261128_000005_create_platform_keys::Migration),
            Box::new(m20261128_000006_create_audit_chains::Migration),
            Box::new(m20261128_000007_create_audit_entries::Migration),
            Box::new(m20261128_000008_create_audit_heads::Migration),
            Box::new(m20261128_000009_create_signing_keys::Migration),
            Box::new(m20261128_000010_create_tenders::Migration),
            Box::new(m20261128_000011_create_lots::Migration),
            Box::new(m20261128_000012_create_holidays::Migration),
            Box::new(m20261128_000013_create_jobs::Migration),
            Box::new(m20261128_000014_add_account_language::Migration),
            Box::new(m20261128_000015_create_notifications::Migration),
            Box::new(m20261128_000016_create_password_resets::Migration),
            Box::new(m20261128_000017_create_mail_log::Migration),
            Box::new(m20261128_000018_create_documents::Migration),
            Box::new(m20261128_000019_create_document_downloads::Migration),
            Box::new(m20261128_000020_create_tender_questions::Migration),
            Box::new(m20261128_000021_create_tender_amendments::Migration),
            Box::new(m20261128_000022_create_registrations::Migration),
            Box::new(m20261128_000023_create_ledger::Migration),
            Box::new(m20261128_000024_create_bank_notifications::Migration),
            Box::new(m20261128_000025_create_refunds::Migration),
            Box::new(m20261128_000026_create_guarantees::Migration),
            Box::new(m20261128_000027_index_payer_accounts::Migration),
            Box::new(m20261128_000028_create_deposit_payers::Migration),
            Box::new(m20261128_000029_index_postings_balance::Migration),
            Box::new(m20261128_000030_create_opening_keys::Migration),
            Box::new(m20261128_000031_create_bids::Migration),
            Box::new(m20261128_000032_create_bid_openings::Migration),
            Box::new(m20261129_000033_index_payers_by_tender::Migration),
            Box::new(m20261201_000034_index_notifications_by_time::Migration),
            Box::new(m20261203_000035_registrations_again_after_withdrawal::Migration),
            Box::new(m20261203_000036_create_agency_mandates::Migration),
            Box::new(m20261203_000037_create_experts::Migration),
            Box::new(m20261203_000038_create_draws::Migration),
            Box::new(m20261204_000039_create_evaluation_setup::Migration),
            Box::new(m20261204_000040_create_evaluation_sheets::Migration),
            Box::new(m20261204_000041_create_evaluation_reports::Migration),
            Box::new(m20261204_000042_create_candidates::Migration),
            Box::new(m20261204_000043_create_lot_awards::Migration),
            Box::new(m20261204_000044_create_clarifications::Migration),
            Box::new(m20261204_000045_create_complaints::Migration),
            Box::new(m20261204_000046_create_quote_rounds::Migration),
            Box::new(m20261205_000047_add_tender_region::Migration),
            Box::new(m20261207_000048_add_lot_auction_terms::Migration),
            Box::new(m20261207_000049_create_auctions::Migration),
        ]
    }
}
