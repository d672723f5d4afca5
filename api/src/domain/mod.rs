//! The register's rules, below every caller: GraphQL resolvers, the provincial
//! exchange, the seed and the command line all check and write through here,
//! so that they cannot disagree. Plain Rust in and out: a connection or
//! transaction, the caller, parsed inputs; results or the one error type. This
//! module never names `async_graphql`, `graphql`, `exchange` or `http`
//! (`api/tests/layers.rs` reads its sources to keep it so). One path still
//! leads up indirectly: a stale edit's `current` goes through
//! `permissions::redact`, which shapes it by the GraphQL schema.

pub mod alert;
pub mod assessment;
pub mod asset;
pub mod calendar;
pub mod card;
pub mod closed_year;
pub mod direct_change;
pub mod disclosure;
pub mod enterprise;
pub mod funds;
pub mod household;
pub mod income_line;
pub mod lifecycle;
pub mod microcredit;
pub mod money;
pub mod monitoring;
pub mod node;
pub mod notice;
pub mod pairing;
pub mod plan;
pub mod project;
pub mod proposal;
pub mod publicity;
pub mod region;
pub mod reveal;
pub mod supervision;
pub mod sync;
pub mod tally;
pub mod text;
pub mod village_exit;
pub mod write;
