//! sea-orm entities of the filing-card register: one module per table, and the
//! enumerations they share. Logic lives in `api`; these stay plain data.

pub mod app_user;
pub mod audit_entry;
pub mod card_revision;
pub mod enterprise;
pub mod enums;
pub mod ethnicity;
pub mod helper_pairing;
pub mod helper_unit;
pub mod household;
pub mod household_cause;
pub mod household_income;
pub mod idempotency_key;
pub mod login_attempt;
pub mod measure;
pub mod member;
pub mod monitoring_case;
pub mod monitoring_line;
pub mod monitoring_risk;
pub mod objection;
pub mod poverty_line;
pub mod project;
pub mod project_village;
pub mod proposal;
pub mod refresh_token;
pub mod region;
pub mod reveal;
pub mod status_change;
pub mod unit_pairing;
pub mod village_staff;
pub mod visit;
pub mod visit_help;
