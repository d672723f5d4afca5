//! Whole cards from a provincial file (登记册导入), the bulk variant of
//! `change`: each record is checked by the rules the mutations apply (a status
//! only as its documented history leads through the lifecycle), and written
//! where it differs from the register, with card revisions as the mutations
//! would write them and one audit entry per household holding what changed.
//! Households new to the register are written together, one statement per table. Reading the file, batches and
//! the report are the exchange's (`exchange::import`).

mod check;
mod create;
mod entry;
mod upsert;

pub use check::{Checked, check};
pub use create::all as create_all;
pub use upsert::upsert;

/// What an import did to one household.
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}
