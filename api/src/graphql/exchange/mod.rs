//! Exchange with provincial systems (省级数据交换): the change feed, through
//! which a system holding its own copy of the register keeps in step.

pub mod feed;

pub use feed::ExchangeQuery;
