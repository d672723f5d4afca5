//! Per-client budgets: how many requests, and how many cost points, a client
//! may spend per minute. A client is the account behind a token (a person, a
//! provincial system, an app's user) or, without one, the source address
//! (an IPv6 client by its /64, which one subscriber usually holds whole).
//!
//! Buckets live in each replica's memory and refill continuously; with
//! `replicas` set, each replica allows its share of the budget, so a client
//! spread by the load balancer over every replica gets the whole budget and
//! no more. Nothing here is data: a restart forgets who spent what, which
//! only ever lets a client start afresh.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use entity::enums::Role;
use sea_orm::{ActiveEnum, Iterable};

use crate::access::Viewer;

/// How much a kind of client may spend per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub requests: u32,
    pub cost: u32,
}

/// The defaults per role; the public is every caller without a token.
const DEFAULTS: &[(&str, Allowance)] = &[
    (
        PUBLIC,
        Allowance {
            requests: 300,
            cost: 60_000,
        },
    ),
    (
        "provincial_system",
        Allowance {
            requests: 3_000,
            cost: 1_000_000,
        },
    ),
];

/// Any signed-in person: officers, cadres, enterprises, auditors.
const STAFF: Allowance = Allowance {
    requests: 600,
    cost: 200_000,
};

const PUBLIC: &str = "public";

/// Buckets are swept of idle ones when there are more clients than this.
const SWEEP_ABOVE: usize = 10_000;

/// Who is spending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    Account(i64),
    Source(IpAddr),
}

impl Client {
    pub fn of(viewer: &Viewer, source: IpAddr) -> Client {
        match viewer {
            Viewer::User(user) => Client::Account(user.id),
            Viewer::Public => Client::source(source),
        }
    }

    /// A source address as one client: IPv4 as it is, IPv6 by its /64.
    pub fn source(address: IpAddr) -> Client {
        let address = match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(prefix.into())
                }
            },
            v4 => v4,
        };
        Client::Source(address)
    }
}

/// A continuously refilling bucket of `capacity`, refilled in a minute. Its
/// level may go below zero: a request that cost more than was left is a debt
/// the client waits off.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

impl Bucket {
    fn full(capacity: f64, now: Instant) -> Bucket {
        Bucket {
            level: capacity,
            at: now,
        }
    }

    fn refill(&mut self, capacity: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + elapsed * capacity / 60.0).min(capacity);
        self.at = now;
    }

    /// How long until the bucket holds `wanted`.
    fn wait_for(&self, wanted: f64, capacity: f64) -> Duration {
        if self.level >= wanted || capacity <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((wanted - self.level) * 60.0 / capacity)
    }
}

struct Buckets {
    requests: Bucket,
    cost: Bucket,
}

/// What a client has left after a request was let in, in this replica.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    /// Requests a minute this replica allows the client.
    pub request_capacity: u32,
    /// Cost points a minute this replica allows the client.
    pub cost_capacity: usize,
    pub requests_left: u32,
    pub cost_left: usize,
    /// Seconds until the request bucket is full again.
    pub reset_secs: u64,
}

/// A request refused for its budget.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Requests a minute this replica allows the client.
    pub request_capacity: u32,
    pub retry_after: Duration,
    pub message: String,
}

/// Every client's buckets in this replica.
pub struct Budgets {
    allowances: HashMap<String, Allowance>,
    replicas: u32,
    buckets: Mutex<HashMap<Client, Buckets>>,
}

impl Budgets {
    /// Budgets from the configured overrides, `role=REQUESTS/COST` per minute,
    /// comma-separated (`public=120/20000,auditor=1200/400000`).
    pub fn new(overrides: &str, replicas: u32) -> Result<Budgets, String> {
        let mut allowances: HashMap<String, Allowance> = Role::iter()
            .map(|role| (role.to_value(), STAFF))
            .chain(std::iter::once((PUBLIC.to_owned(), STAFF)))
            .collect();
        for (role, allowance) in DEFAULTS {
            allowances.insert((*role).to_owned(), *allowance);
        }
        for entry in overrides
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (role, allowance) = parse_override(entry)?;
            if !allowances.contains_key(role) {
                return Err(format!(
                    "`{role}` in FUPIN_BUDGETS is not a role (nor `public`)"
                ));
            }
            allowances.insert(role.to_owned(), allowance);
        }
        Ok(Budgets {
            allowances,
            replicas: replicas.max(1),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// What a role (or the public, for `None`) may spend per minute, in the whole service.
    pub fn allowance(&self, role: Option<Role>) -> Allowance {
        let name = role.map_or_else(|| PUBLIC.to_owned(), |r| r.to_value());
        self.allowances.get(&name).copied().unwrap_or(STAFF)
    }

    /// This replica's share of an allowance, as bucket capacities.
    fn capacities(&self, allowance: Allowance) -> (f64, f64) {
        let share = f64::from(self.replicas);
        (
            f64::from(allowance.requests) / share,
            f64::from(allowance.cost) / share,
        )
    }

    /// Lets a request in if the client has a request left and some cost
    /// budget, taking one request from its bucket.
    pub fn admit(&self, client: Client, role: Option<Role>) -> Result<Standing, Refusal> {
        let allowance = self.allowance(role);
        let (request_capacity, cost_capacity) = self.capacities(allowance);
        let now = Instant::now();
        let mut all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() > SWEEP_ABOVE {
            // A bucket untouched for two minutes has refilled even from a full
            // debt: forgetting it changes nothing.
            all.retain(|_, b| {
                now.saturating_duration_since(b.requests.at.max(b.cost.at))
                    < Duration::from_secs(120)
            });
        }
        let buckets = all.entry(client).or_insert_with(|| Buckets {
            requests: Bucket::full(request_capacity, now),
            cost: Bucket::full(cost_capacity, now),
        });
        buckets.requests.refill(request_capacity, now);
        buckets.cost.refill(cost_capacity, now);
        if buckets.requests.level < 1.0 {
            return Err(Refusal {
                request_capacity: request_capacity as u32,
                retry_after: buckets.requests.wait_for(1.0, request_capacity),
                message: format!(
                    "too many requests: at most {} a minute are allowed",
                    allowance.requests
                ),
            });
        }
        if buckets.cost.level < 1.0 {
            return Err(Refusal {
                request_capacity: request_capacity as u32,
                retry_after: buckets.cost.wait_for(1.0, cost_capacity),
                message: format!(
                    "the cost budget of {} points a minute is spent",
                    allowance.cost
                ),
            });
        }
        buckets.requests.level -= 1.0;
        Ok(Standing {
            request_capacity: request_capacity as u32,
            cost_capacity: cost_capacity as usize,
            requests_left: buckets.requests.level.floor() as u32,
            cost_left: buckets.cost.level.floor() as usize,
            reset_secs: buckets
                .requests
                .wait_for(request_capacity, request_capacity)
                .as_secs(),
        })
    }

    /// Takes what a request cost from its client's budget; returns what is left.
    pub fn charge(&self, client: Client, role: Option<Role>, cost: usize) -> usize {
        let (request_capacity, cost_capacity) = self.capacities(self.allowance(role));
        let now = Instant::now();
        let mut all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let buckets = all.entry(client).or_insert_with(|| Buckets {
            requests: Bucket::full(request_capacity, now),
            cost: Bucket::full(cost_capacity, now),
        });
        buckets.cost.refill(cost_capacity, now);
        // A debt of at most one minute: enough to make an expensive client wait.
        buckets.cost.level = (buckets.cost.level - cost as f64).max(-cost_capacity);
        buckets.cost.level.max(0.0).floor() as usize
    }

    /// How long until a client's cost budget holds `cost` points.
    pub fn wait_for_cost(&self, client: Client, role: Option<Role>, cost: usize) -> Duration {
        let (_, cost_capacity) = self.capacities(self.allowance(role));
        let all = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(buckets) = all.get(&client) else {
            return Duration::ZERO;
        };
        let mut bucket = buckets.cost;
        bucket.refill(cost_capacity, Instant::now());
        bucket.wait_for((cost as f64).min(cost_capacity), cost_capacity)
    }
}

fn parse_override(entry: &str) -> Result<(&str, Allowance), String> {
    let malformed = || format!("`{entry}` in FUPIN_BUDGETS is not `role=REQUESTS/COST`");
    let (role, amounts) = entry.split_once('=').ok_or_else(malformed)?;
    let (requests, cost) = amounts.split_once('/').ok_or_else(malformed)?;
    let requests = requests.trim().parse().map_err(|_| malformed())?;
    let cost = cost.trim().parse().map_err(|_| malformed())?;
    Ok((role.trim(), Allowance { requests, cost }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_a_roles_allowance_and_unknown_roles_are_refused() {
        let budgets = Budgets::new("public=10/500, auditor=20/900", 1).expect("valid");
        assert_eq!(
            budgets.allowance(None),
            Allowance {
                requests: 10,
                cost: 500
            }
        );
        assert_eq!(budgets.allowance(Some(Role::Auditor)).cost, 900);
        assert_eq!(budgets.allowance(Some(Role::CountyAdmin)), STAFF);
        assert!(Budgets::new("root=1/1", 1).is_err());
        assert!(Budgets::new("public=ten/1", 1).is_err());
    }

    #[test]
    fn a_replica_allows_its_share() {
        let budgets = Budgets::new("public=4/1000", 2).expect("valid");
        let client = Client::source("192.0.2.1".parse().expect("address"));
        assert!(budgets.admit(client, None).is_ok());
        assert!(budgets.admit(client, None).is_ok());
        let refusal = budgets
            .admit(client, None)
            .expect_err("two of four per replica");
        assert!(refusal.retry_after > Duration::ZERO);
    }

    #[test]
    fn an_ipv6_subscriber_is_one_client_across_its_64() {
        let a = Client::source("2001:db8:1:2::1".parse().expect("address"));
        let b = Client::source("2001:db8:1:2:ffff::9".parse().expect("address"));
        let c = Client::source("2001:db8:1:3::1".parse().expect("address"));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
