//! sea-orm entities of the filing-card register: one module per table, and the
//! enumerations they share. Logic lives in `api`; these stay plain data.

pub mod app_user;
pub mod audit_entry;
pub mod enterprise;
pub mod enums;
pub mod ethnicity;
pub mod helper_pairing;
pub mod household;
pub mod household_cause;
pub mod household_income;
pub mod login_attempt;
pub mod member;
pub mod poverty_line;
pub mod project;
pub mod project_village;
pub mod refresh_token;
pub mod region;
pub mod reveal;
