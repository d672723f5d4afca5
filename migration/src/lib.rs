//! Schema migrations, one module per change, applied in order by `fupin serve`
//! and `fupin migrate`.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261129_000001_create_filing_card;
mod m20261129_000002_create_auth;
mod m20261129_000003_create_reveal;
mod m20261129_000004_create_audit_entry;
mod m20261129_000005_create_helper_pairing;
mod m20261129_000006_create_dynamic_management;
mod m20261129_000007_create_industry_and_funds;
mod m20261129_000008_create_policy_publicity;
mod m20261129_000009_create_supervision;
mod m20261129_000010_create_assessment;
mod m20261129_000011_create_village_tally;
mod m20261129_000012_create_webhook;
mod m20261201_000013_login_source;
mod m20261201_000014_create_client_app;
mod m20261202_000015_documented_changes;
mod m20261203_000016_audit_append_only;
mod m20261204_000017_statistics_reads;
mod m20261205_000018_tally_triggers_summed;
mod m20261206_000019_returns_in_tally;
mod m20261207_000020_audit_lz4;
mod m20261208_000021_closed_years;
mod m20261209_000022_two_notices;
mod m20261210_000023_retired_villages;
mod m20261211_000024_create_microcredit;
mod m20261212_000025_village_exit;
mod m20261213_000026_create_project_assets;
mod m20261214_000027_provincial_poverty_lines;
mod m20261215_000028_measure_overdue_alerts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_filing_card::Migration),
            Box::new(m20261129_000002_create_auth::Migration),
            Box::new(m20261129_000003_create_reveal::Migration),
            Box::new(m20261129_000004_create_audit_entry::Migration),
            Box::new(m20261129_000005_create_helper_pairing::Migration),
            Box::new(m20261129_000006_create_dynamic_management::Migration),
            Box::new(m20261129_000007_create_industry_and_funds::Migration),
            Box::new(m20261129_000008_create_policy_publicity::Migration),
            Box::new(m20261129_000009_create_supervision::Migration),
            Box::new(m20261129_000010_create_assessment::Migration),
            Box::new(m20261129_000011_create_village_tally::Migration),
            Box::new(m20261129_000012_create_webhook::Migration),
            Box::new(m20261201_000013_login_source::Migration),
            Box::new(m20261201_000014_create_client_app::Migration),
            Box::new(m20261202_000015_documented_changes::Migration),
            Box::new(m20261203_000016_audit_append_only::Migration),
            Box::new(m20261204_000017_statistics_reads::Migration),
            Box::new(m20261205_000018_tally_triggers_summed::Migration),
            Box::new(m20261206_000019_returns_in_tally::Migration),
            Box::new(m20261207_000020_audit_lz4::Migration),
            Box::new(m20261208_000021_closed_years::Migration),
            Box::new(m20261209_000022_two_notices::Migration),
            Box::new(m20261210_000023_retired_villages::Migration),
            Box::new(m20261211_000024_create_microcredit::Migration),
            Box::new(m20261212_000025_village_exit::Migration),
            Box::new(m20261213_000026_create_project_assets::Migration),
            Box::new(m20261214_000027_provincial_poverty_lines::Migration),
            Box::new(m20261215_000028_measure_overdue_alerts::Migration),
        ]
    }
}
