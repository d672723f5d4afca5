//! What async-graphql 7 alone spends on request a (`households(first: 100)`
//! with each household's village name and members' id, name, ID number,
//! gender and relation): the same document parsed, validated, resolved from
//! rows held in memory, and serialized to JSON, on one thread, with the same
//! allocator as Fupin. No HTTP, no database, no permission check: a floor
//! under any server built on this executor. Printed as one JSON line per
//! variant: `{"variant": ..., "ms_per_request": ..., "bytes": ...}`.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{
    EmptyMutation, EmptySubscription, Enum, ID, Object, Schema, ServerResult, Value,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DOCUMENT: &str = "{ households(first: 100) { nodes { id village { name } members { id name idNumber gender relation } } } }";
const WARM_UP: usize = 300;
const REQUESTS: usize = 3_000;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
enum Gender {
    Male,
    Female,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Head,
    Spouse,
    Son,
    Daughter,
}

#[derive(Clone)]
struct MemberRow {
    id: i64,
    name: String,
    id_number: String,
    gender: Gender,
    relation: Relation,
}

struct HouseholdRow {
    id: i64,
    village: Arc<String>,
    members: Arc<Vec<MemberRow>>,
}

fn global_id(kind: &str, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")))
}

struct Member(MemberRow);

#[Object]
impl Member {
    async fn id(&self) -> ID {
        global_id("Member", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn id_number(&self) -> &str {
        &self.0.id_number
    }
    async fn gender(&self) -> Gender {
        self.0.gender
    }
    async fn relation(&self) -> Relation {
        self.0.relation
    }
}

struct Village(Arc<String>);

#[Object]
impl Village {
    async fn name(&self) -> &str {
        &self.0
    }
}

struct Household(&'static HouseholdRow);

#[Object]
impl Household {
    async fn id(&self) -> ID {
        global_id("Household", self.0.id)
    }
    async fn village(&self) -> Village {
        Village(self.0.village.clone())
    }
    async fn members(&self) -> Vec<Member> {
        self.0.members.iter().cloned().map(Member).collect()
    }
}

struct Page(&'static [HouseholdRow]);

#[Object]
impl Page {
    async fn nodes(&self) -> Vec<Household> {
        self.0.iter().map(Household).collect()
    }
}

struct Query(&'static [HouseholdRow]);

#[Object]
impl Query {
    async fn households(&self, first: usize) -> Page {
        Page(&self.0[..first.min(self.0.len())])
    }
}

/// A per-field hook that only passes the field on: what a field policy
/// checked as each field resolves costs before it checks anything.
struct PassThrough;

impl ExtensionFactory for PassThrough {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PassThrough)
    }
}

#[async_trait::async_trait]
impl Extension for PassThrough {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        next.run(ctx, info).await
    }
}

/// A page as the seed makes them: 3.3 members a household on average.
fn rows() -> &'static [HouseholdRow] {
    let village = Arc::new("银坡村".to_owned());
    let relations = [
        Relation::Head,
        Relation::Spouse,
        Relation::Son,
        Relation::Daughter,
    ];
    let rows = (1..=100)
        .map(|id: i64| HouseholdRow {
            id,
            village: village.clone(),
            members: Arc::new(
                (0..3 + (id % 3 == 0) as i64)
                    .map(|n| MemberRow {
                        id: id * 4 + n,
                        name: "张平伟".to_owned(),
                        id_number: format!("5226991982082{:05}", id * 4 + n),
                        gender: if n % 2 == 0 {
                            Gender::Male
                        } else {
                            Gender::Female
                        },
                        relation: relations[n as usize],
                    })
                    .collect(),
            ),
        })
        .collect::<Vec<_>>();
    Vec::leak(rows)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rows = rows();
    let variants = [
        (
            "no extension",
            Schema::build(Query(rows), EmptyMutation, EmptySubscription).finish(),
        ),
        (
            "one per-field extension",
            Schema::build(Query(rows), EmptyMutation, EmptySubscription)
                .extension(PassThrough)
                .finish(),
        ),
    ];
    for (variant, schema) in variants {
        let mut bytes = 0;
        for _ in 0..WARM_UP {
            bytes = serde_json::to_vec(&schema.execute(DOCUMENT).await).map_or(0, |b| b.len());
        }
        let started = Instant::now();
        for _ in 0..REQUESTS {
            let response = schema.execute(DOCUMENT).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            bytes = serde_json::to_vec(&response).map_or(0, |b| b.len());
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0 / REQUESTS as f64;
        println!(
            "{}",
            serde_json::json!({"variant": variant, "ms_per_request": ms, "bytes": bytes})
        );
    }
}
