//! What a request costs, before it runs (requested) and as it ran (actual).
//!
//! A field costs 1 and a connection its page size times its selection, as
//! async-graphql computes complexity; a field that reads many rows to answer
//! (an aggregate, a count, a password check) adds its price below, so that one
//! request cannot buy a county's worth of work for a few points. Resolution
//! yields to the runtime as it goes, so the request time limit holds even for
//! work that never waits on the database, and a query resolves only a few root
//! fields, and a few fields that read rows themselves, at a time, so that one
//! request holds only a share of the pool's connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextValidation, ResolveInfo,
};
use async_graphql::{QueryPathSegment, ServerError, ServerResult, ValidationResult};
use tokio::sync::{Notify, Semaphore, SemaphorePermit};

use crate::error::code;
use crate::graphql::context::{RequestData, coded_error};

/// One point buys a field; an aggregate is priced at a point per hundred rows
/// it may read in a county of a million households (its worst case).
///
/// `statistics`: the tally rows of every village and a dozen grouped statements.
pub const STATISTICS: usize = 1_500;
/// `dataQuality`: nine checks, each over the region's households.
pub const DATA_QUALITY: usize = 2_000;
/// `verifyAuditChain`: reads and hashes every entry of the audit trail.
pub const AUDIT_CHAIN: usize = 5_000;
/// `planCompletion`, `fundUtilisation`, `enterpriseRanking`, `microcredit`,
/// `projectAssets`: one grouped statement or two over the region's measures,
/// projects, links, loans or assets.
pub const REGION_FIGURES: usize = 500;
/// `Enterprise.benefit`: the links and donations of one enterprise in a year.
pub const ENTERPRISE_FIGURES: usize = 20;
/// `Household.cardAsOf`: the card's revisions up to a day.
pub const CARD_AS_OF: usize = 10;
/// `Household.booklet`: the policies of the household's fields and regions.
pub const BOOKLET: usize = 10;
/// `Village.exitCheck`: the members of the village's poor households.
pub const EXIT_CHECK: usize = 10;
/// Rows a `totalCount` counts for a point. A count is priced by what it
/// counted, after the fact: it costs the same whether a list's counts come
/// from one statement per page or a page's worth of items.
const ROWS_PER_POINT: u64 = 100;
/// `login`, `refresh`, `clientCredentials`: a password hash is deliberately slow.
pub const CREDENTIALS: usize = 200;

/// The priced fields, by parent type and field name: what execution charges
/// on top of a field's point. The same constants price them before execution
/// (each field's `complexity` attribute), so requested and actual agree.
const PRICED: &[(&str, &str, usize)] = &[
    ("Query", "statistics", STATISTICS),
    ("Query", "dataQuality", DATA_QUALITY),
    ("Query", "verifyAuditChain", AUDIT_CHAIN),
    ("Query", "planCompletion", REGION_FIGURES),
    ("Query", "fundUtilisation", REGION_FIGURES),
    ("Query", "enterpriseRanking", REGION_FIGURES),
    ("Query", "microcredit", REGION_FIGURES),
    ("Query", "projectAssets", REGION_FIGURES),
    ("Enterprise", "benefit", ENTERPRISE_FIGURES),
    ("Household", "cardAsOf", CARD_AS_OF),
    ("Household", "booklet", BOOKLET),
    ("Village", "exitCheck", EXIT_CHECK),
    ("Mutation", "login", CREDENTIALS),
    ("Mutation", "refresh", CREDENTIALS),
    ("Mutation", "clientCredentials", CREDENTIALS),
];

/// Fields under the root that query the database themselves, a statement or
/// more for each list item, rather than through a DataLoader (a statement for
/// a whole page). None of them selects another, so their semaphore cannot
/// deadlock.
const UNBATCHED: &[(&str, &str)] = &[
    ("Household", "cardAsOf"),
    ("Village", "exitCheck"),
    ("DataQualityCheck", "count"),
    ("PolicyReadership", "overall"),
];

fn price_of(parent_type: &str, field: &str) -> usize {
    PRICED
        .iter()
        .find(|(t, f, _)| *t == parent_type && *f == field)
        .map_or(0, |(_, _, price)| *price)
}

/// The highest cost async-graphql is ever handed for one field. Nested pages
/// multiply (100 items of 100 items of ...); capping each field keeps the
/// sums far from overflowing, while any capped field is over every limit.
const COST_CEILING: usize = u32::MAX as usize;

/// A connection's cost: each requested item costs its selection.
pub fn page(items: usize, child_complexity: usize) -> usize {
    items
        .max(1)
        .saturating_mul(child_complexity)
        .saturating_add(1)
        .min(COST_CEILING)
}

/// A priced field's cost: its price on top of its selection.
pub fn priced(price: usize, child_complexity: usize) -> usize {
    price
        .saturating_add(child_complexity)
        .saturating_add(1)
        .min(COST_CEILING)
}

/// The cost of one request, as the HTTP layer and the extension share it.
pub struct Meter {
    max_cost: usize,
    /// The most this request may cost: the query limit, or less when the
    /// caller's budget has less left.
    allowance: usize,
    /// What the caller's budget holds, for the refusal's message.
    budget_left: usize,
    requested: AtomicUsize,
    /// Fields resolved and their prices: the counterpart of `requested`.
    resolved: AtomicUsize,
    /// Points for the rows `totalCount`s counted.
    counted: AtomicUsize,
    /// Refused because the caller's budget could not pay for it.
    over_budget: AtomicBool,
    /// Told when the request has resolved more than a query may cost.
    stopped: Notify,
    /// Whether it has.
    over_limit: AtomicBool,
    /// Root fields resolving now; a root field holds its permit while its
    /// whole selection resolves.
    root_fields: Semaphore,
    /// [`UNBATCHED`] fields resolving now.
    unbatched_fields: Semaphore,
}

impl Meter {
    pub fn new(max_cost: usize, budget_left: usize, parallel_fields: usize) -> Meter {
        Meter {
            max_cost,
            allowance: budget_left.min(max_cost),
            budget_left,
            requested: AtomicUsize::new(0),
            resolved: AtomicUsize::new(0),
            counted: AtomicUsize::new(0),
            stopped: Notify::new(),
            over_limit: AtomicBool::new(false),
            over_budget: AtomicBool::new(false),
            root_fields: Semaphore::new(parallel_fields.max(1)),
            unbatched_fields: Semaphore::new(parallel_fields.max(1)),
        }
    }

    /// A subscription's meter: its document is weighed against the query
    /// limit once, as any query's; what its events resolve is not summed, for
    /// a subscription lives for hours and each event resolves only the few
    /// fields its document names.
    pub fn for_subscription(max_cost: usize, parallel_fields: usize) -> Meter {
        Meter::new(usize::MAX, max_cost, parallel_fields)
    }

    /// The cost computed before execution; 0 when the request never got that far.
    pub fn requested(&self) -> usize {
        self.requested.load(Ordering::Relaxed)
    }

    /// The cost of what was resolved and counted.
    pub fn actual(&self) -> usize {
        self.resolved
            .load(Ordering::Relaxed)
            .saturating_add(self.counted.load(Ordering::Relaxed))
    }

    /// Adds what counting `rows` rows cost to the actual cost.
    pub fn counted(&self, rows: u64) {
        let points = usize::try_from(rows / ROWS_PER_POINT).unwrap_or(usize::MAX);
        self.counted.fetch_add(points, Ordering::Relaxed);
    }

    /// Resolves once the request has resolved more than a query may cost: a
    /// plain list (not a page) is priced once before execution, however many
    /// items it turns out to hold. The HTTP layer then abandons the request.
    pub async fn stopped(&self) {
        self.stopped.notified().await;
    }

    /// Whether the request resolved more than a query may cost, even if it
    /// finished before it could be stopped.
    pub fn over_limit(&self) -> bool {
        self.over_limit.load(Ordering::Relaxed)
    }

    /// Whether the request was refused because the caller's budget could not pay for it.
    pub fn over_budget(&self) -> bool {
        self.over_budget.load(Ordering::Relaxed)
    }

    /// Why a request priced at `requested`, over its allowance, is refused:
    /// over the limit of one query, or over what its caller's budget holds.
    fn refusal(&self, requested: usize, max_cost: usize) -> ServerError {
        if requested > max_cost {
            return too_complex(requested, max_cost);
        }
        self.over_budget.store(true, Ordering::Relaxed);
        coded_error(
            format!(
                "this query costs {requested} and your budget has {} left; \
                 retry when it has been restored",
                self.budget_left
            ),
            code::RATE_LIMITED,
        )
    }
}

/// Prices requests: refuses one whose requested cost is over its allowance.
/// The field guard counts the actual cost field by field ([`meter_field`]).
pub struct Cost {
    pub max_cost: usize,
}

impl ExtensionFactory for Cost {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Cost {
            max_cost: self.max_cost,
        })
    }
}

fn too_complex(requested: usize, max_cost: usize) -> ServerError {
    coded_error(
        format!("this query costs {requested}; a query may cost at most {max_cost}"),
        code::QUERY_TOO_COMPLEX,
    )
}

/// The refusal of a request that resolved more than a query may cost.
pub fn stopped(max_cost: usize) -> ServerError {
    coded_error(
        format!(
            "this query cost more than {max_cost} as it ran (a list held more items than \
             its price assumed) and was stopped; ask for fewer items"
        ),
        code::QUERY_TOO_COMPLEX,
    )
}

fn meter<'a>(ctx: &ExtensionContext<'a>) -> Option<&'a Arc<Meter>> {
    ctx.data_opt::<RequestData>().map(|data| &data.cost)
}

/// Counts the field `info` is about to resolve against its request's meter,
/// after yielding to the runtime if the task has run long. Returns the permit
/// the field holds while it resolves, if it is one resolved a few at a time.
/// Called by the field guard, so that each field passes one extension.
pub async fn meter_field<'a>(
    ctx: &ExtensionContext<'a>,
    info: &ResolveInfo<'_>,
) -> ServerResult<Option<SemaphorePermit<'a>>> {
    // A field that never awaits the database would otherwise run to the
    // end of the document without giving the timeout a chance to fire.
    tokio::task::consume_budget().await;
    let Some(meter) = meter(ctx) else {
        return Ok(None);
    };
    // List items pass through here too; like the price computed before
    // execution, the actual cost counts fields only. Introspection costs
    // what the schema's size makes it, the same for every caller.
    let QueryPathSegment::Name(_) = info.path_node.segment else {
        return Ok(None);
    };
    if info.is_for_introspection {
        return Ok(None);
    }
    let price = price_of(info.parent_type, info.name);
    let resolved = meter.resolved.fetch_add(1 + price, Ordering::Relaxed) + 1 + price;
    if resolved > meter.max_cost {
        meter.over_limit.store(true, Ordering::Relaxed);
        meter.stopped.notify_one();
        return Err(stopped(meter.max_cost));
    }
    let share = if info.path_node.parent.is_none() {
        &meter.root_fields
    } else if UNBATCHED.contains(&(info.parent_type, info.name)) {
        &meter.unbatched_fields
    } else {
        return Ok(None);
    };
    // The semaphores are never closed, so a permit always comes.
    Ok(share.acquire().await.ok())
}

#[async_trait::async_trait]
impl Extension for Cost {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let requested = result.complexity;
        match meter(ctx) {
            Some(meter) => {
                meter.requested.store(requested, Ordering::Relaxed);
                if requested > meter.allowance {
                    return Err(vec![meter.refusal(requested, self.max_cost)]);
                }
            }
            // Run without a request's meter (the schema alone), the limit still holds.
            None if requested > self.max_cost => {
                return Err(vec![too_complex(requested, self.max_cost)]);
            }
            None => {}
        }
        Ok(result)
    }
}
