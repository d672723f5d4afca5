//! Fupin (扶贫): the GraphQL API of a county's precision poverty alleviation register.

pub mod access;
pub mod account;
pub mod app;
pub mod audit;
pub mod auth;
pub mod budget;
pub mod client_app;
pub mod codes;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod exchange;
pub mod graphql;
pub mod http;
pub mod live;
pub mod lockout;
pub mod pages;
pub mod permissions;
pub mod persisted;
pub mod replicas;
pub mod seed;
pub mod telemetry;
