//! The end-to-end suite: one test binary (linking one per file cost CI minutes),
//! one module per area, each driving the real server over HTTP or the real schema.

mod assessment;
mod audit;
mod bulk;
mod dataloader;
mod disclosure;
mod editing;
mod enterprises;
mod exchange;
mod external;
mod funds;
mod graphiql;
mod headers;
mod http;
mod introspection;
mod lifecycle;
mod limits;
mod oversight;
mod pairing;
mod permissions;
mod plan;
mod policy;
mod projects;
mod publicity;
mod quality;
mod readme;
mod register;
mod schema;
mod seed;
mod statistics;
mod supervision;
mod tokens;
mod visits;
mod webhooks;
