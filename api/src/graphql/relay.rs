//! Relay conventions: opaque global IDs, page arguments, keyset-paginated
//! connections (no OFFSET) and a `totalCount` that is counted only when asked for.

use std::sync::Arc;

use async_graphql::connection::{
    Connection, DefaultConnectionName, DefaultEdgeName, Edge, EmptyFields, EnableNodesField,
};
use async_graphql::{Context, ID, Object, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, IdenStatic,
    Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Value,
};

use super::prefetch::{self, Prefetch};
use crate::domain::node;
use crate::error::{ApiError, ApiResult};

/// The object types that have global IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    County,
    Township,
    Village,
    Household,
    Member,
    Enterprise,
    Project,
    Proposal,
    Objection,
    MonitoringCase,
    Measure,
    Visit,
    HelperUnit,
    VillageStaff,
    FundSource,
    FundEntry,
    BenefitLink,
    Policy,
    Complaint,
    Pairing,
    UnitPairing,
    Loan,
    VillageExit,
    ProjectAsset,
    Account,
    AuditEntry,
    LoginAlert,
    Reveal,
    PublicNotice,
    /// A change of the register (the change feed's entries, webhook events):
    /// read from the feed, not through `node`.
    Change,
}

impl NodeKind {
    const ALL: [NodeKind; 30] = [
        NodeKind::County,
        NodeKind::Township,
        NodeKind::Village,
        NodeKind::Household,
        NodeKind::Member,
        NodeKind::Enterprise,
        NodeKind::Project,
        NodeKind::Proposal,
        NodeKind::Objection,
        NodeKind::MonitoringCase,
        NodeKind::Measure,
        NodeKind::Visit,
        NodeKind::HelperUnit,
        NodeKind::VillageStaff,
        NodeKind::FundSource,
        NodeKind::FundEntry,
        NodeKind::BenefitLink,
        NodeKind::Policy,
        NodeKind::Complaint,
        NodeKind::Pairing,
        NodeKind::UnitPairing,
        NodeKind::Loan,
        NodeKind::VillageExit,
        NodeKind::ProjectAsset,
        NodeKind::Account,
        NodeKind::AuditEntry,
        NodeKind::LoginAlert,
        NodeKind::Reveal,
        NodeKind::PublicNotice,
        NodeKind::Change,
    ];

    pub fn type_name(self) -> &'static str {
        match self {
            NodeKind::County => "County",
            NodeKind::Township => "Township",
            NodeKind::Village => "Village",
            NodeKind::Household => "Household",
            NodeKind::Member => "Member",
            NodeKind::Enterprise => "Enterprise",
            NodeKind::Project => "Project",
            NodeKind::Proposal => "Proposal",
            NodeKind::Objection => "Objection",
            NodeKind::MonitoringCase => "MonitoringCase",
            NodeKind::Measure => "Measure",
            NodeKind::Visit => "Visit",
            NodeKind::HelperUnit => "HelperUnit",
            NodeKind::VillageStaff => "VillageStaff",
            NodeKind::FundSource => "FundSource",
            NodeKind::FundEntry => "FundEntry",
            NodeKind::BenefitLink => "BenefitLink",
            NodeKind::Policy => "Policy",
            NodeKind::Complaint => "Complaint",
            NodeKind::Pairing => "Pairing",
            NodeKind::UnitPairing => "UnitPairing",
            NodeKind::Loan => "Loan",
            NodeKind::VillageExit => "VillageExit",
            NodeKind::ProjectAsset => "ProjectAsset",
            NodeKind::Account => "Account",
            NodeKind::AuditEntry => "AuditEntry",
            NodeKind::LoginAlert => "LoginAlert",
            NodeKind::Reveal => "Reveal",
            NodeKind::PublicNotice => "PublicNotice",
            NodeKind::Change => "Change",
        }
    }

    /// The kind whose objects are of the GraphQL type `type_name`.
    pub fn named(type_name: &str) -> Option<NodeKind> {
        NodeKind::ALL
            .into_iter()
            .find(|kind| kind.type_name() == type_name)
    }
}

/// The opaque global ID of a row: base64url of `Type:id`.
pub fn global_id(kind: NodeKind, id: i64) -> ID {
    ID(node::global_id(kind.type_name(), id))
}

/// Decodes a global ID; `field` names the argument for the error.
pub fn decode_id(id: &ID, field: &str) -> ApiResult<(NodeKind, i64)> {
    let malformed = || ApiError::bad_input(field, format!("`{}` is not a valid ID", id.as_str()));
    let bytes = URL_SAFE_NO_PAD
        .decode(id.as_str())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (type_name, raw) = text.split_once(':').ok_or_else(malformed)?;
    let kind = NodeKind::named(type_name).ok_or_else(malformed)?;
    let id = raw.parse::<i64>().map_err(|_| malformed())?;
    Ok((kind, id))
}

/// Decodes a global ID that must be of one of `kinds`.
pub fn decode_id_of(id: &ID, field: &str, kinds: &[NodeKind]) -> ApiResult<(NodeKind, i64)> {
    let (kind, raw) = decode_id(id, field)?;
    if !kinds.contains(&kind) {
        let expected: Vec<_> = kinds.iter().map(|k| k.type_name()).collect();
        return Err(ApiError::bad_input(
            field,
            format!(
                "expected the ID of a {}, got a {}",
                expected.join(" or "),
                kind.type_name()
            ),
        ));
    }
    Ok((kind, raw))
}

/// Page size used when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// Complexity of a connection field: each requested item costs its selection.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let items = first
        .or(last)
        .map_or(DEFAULT_PAGE_SIZE, |n| usize::try_from(n).unwrap_or(0));
    super::cost::page(items, child_complexity)
}

/// The four Relay page arguments, as a client sent them.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct Page {
    forward: bool,
    limit: u64,
    cursor: Option<String>,
}

impl Page {
    pub fn from_args(args: PageArgs, max_page_size: usize) -> ApiResult<Self> {
        let size = |field: &str, n: i32| -> ApiResult<u64> {
            if n < 0 {
                return Err(ApiError::bad_input(
                    field,
                    format!("`{field}` may not be negative"),
                ));
            }
            let n = n as usize;
            if n > max_page_size {
                return Err(ApiError::bad_input(
                    field,
                    format!("`{field}` may be at most {max_page_size}, got {n}"),
                ));
            }
            Ok(n as u64)
        };
        match args {
            PageArgs {
                first: Some(_),
                last: Some(_),
                ..
            } => Err(ApiError::bad_input(
                "last",
                "give either `first` or `last`, not both",
            )),
            PageArgs {
                after: Some(_),
                before: Some(_),
                ..
            } => Err(ApiError::bad_input(
                "before",
                "give either `after` or `before`, not both",
            )),
            PageArgs {
                last: Some(last),
                before,
                after: None,
                ..
            } => Ok(Page {
                forward: false,
                limit: size("last", last)?,
                cursor: before,
            }),
            PageArgs {
                last: None,
                before: Some(before),
                first: None,
                ..
            } => Ok(Page {
                forward: false,
                limit: DEFAULT_PAGE_SIZE.min(max_page_size) as u64,
                cursor: Some(before),
            }),
            PageArgs {
                first,
                after,
                before: None,
                ..
            } => Ok(Page {
                forward: true,
                limit: match first {
                    Some(first) => size("first", first)?,
                    None => DEFAULT_PAGE_SIZE.min(max_page_size) as u64,
                },
                cursor: after,
            }),
            PageArgs { .. } => Err(ApiError::bad_input(
                "before",
                "`before` pages backwards: use it with `last`",
            )),
        }
    }
}

/// The type of a sort key's values.
#[derive(Debug, Clone, Copy)]
pub enum KeyType {
    Int,
    Text,
}

/// A unique column that a connection can be ordered and paged by.
pub struct SortKey<E: EntityTrait> {
    /// Written into cursors, so that a cursor of one ordering is refused by another.
    pub name: &'static str,
    pub column: E::Column,
    pub key_type: KeyType,
    pub descending: bool,
    pub value_of: fn(&E::Model) -> String,
}

impl<E: EntityTrait> SortKey<E> {
    fn encode(&self, model: &E::Model) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.name, (self.value_of)(model)))
    }

    fn decode(&self, cursor: &str, field: &str) -> ApiResult<Value> {
        let invalid = || ApiError::bad_input(field, "invalid cursor for this ordering");
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (name, raw) = text.split_once(':').ok_or_else(invalid)?;
        if name != self.name {
            return Err(invalid());
        }
        Ok(match self.key_type {
            KeyType::Int => raw.parse::<i64>().map_err(|_| invalid())?.into(),
            KeyType::Text => raw.to_owned().into(),
        })
    }
}

/// The connection shape every list of the API uses.
pub type Conn<N> = Connection<
    String,
    N,
    TotalCount,
    EmptyFields,
    DefaultConnectionName,
    DefaultEdgeName,
    EnableNodesField,
>;

/// Restricts `select` to the rows after (or before) the page's cursor and
/// returns the order to scan in.
fn seek<E: EntityTrait>(
    select: Select<E>,
    key: &SortKey<E>,
    page: &Page,
) -> ApiResult<(Select<E>, Order)> {
    let ascending_scan = page.forward != key.descending;
    let mut select = select;
    if let Some(cursor) = &page.cursor {
        let field = if page.forward { "after" } else { "before" };
        let value = key.decode(cursor, field)?;
        select = if ascending_scan {
            select.filter(key.column.gt(value))
        } else {
            select.filter(key.column.lt(value))
        };
    }
    Ok((
        select,
        if ascending_scan {
            Order::Asc
        } else {
            Order::Desc
        },
    ))
}

/// Builds a connection from up to `limit + 1` rows fetched in scan order.
fn connect<E: EntityTrait, N: OutputType>(
    mut rows: Vec<E::Model>,
    key: &SortKey<E>,
    page: &Page,
    total: TotalCount,
    wrap: impl Fn(E::Model) -> N,
) -> Conn<N> {
    let has_more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    if !page.forward {
        rows.reverse();
    }
    let (has_previous, has_next) = if page.forward {
        (page.cursor.is_some(), has_more)
    } else {
        (has_more, page.cursor.is_some())
    };
    let mut connection = Connection::with_additional_fields(has_previous, has_next, total);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(key.encode(&row), wrap(row))),
    );
    connection
}

/// Runs one page of `select` in keyset order, reads ahead the relations the
/// query asks of its rows, and wraps each row with `wrap`.
pub async fn paginate<E, N>(
    ctx: &Context<'_>,
    select: Select<E>,
    key: &SortKey<E>,
    page: Page,
    wrap: impl Fn(E::Model) -> N,
) -> ApiResult<Conn<N>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    N: OutputType + Prefetch<Row = E::Model>,
{
    let db = super::context::db(ctx)?;
    let total = TotalCount::of(db.clone(), select.clone());
    let (query, order) = seek(select, key, &page)?;
    let rows = query
        .order_by(key.column, order)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    if let Some(selection) = prefetch::rows_of_page(ctx) {
        let shown = rows
            .len()
            .min(usize::try_from(page.limit).unwrap_or(usize::MAX));
        N::prefetch(ctx, &selection, &rows[..shown]).await?;
    }
    Ok(connect(rows, key, &page, total, wrap))
}

/// The column that ties a nested list's rows to their parent row, e.g.
/// `household.village_id` under a village.
#[derive(Debug, Clone, Copy)]
pub struct ParentColumn {
    pub table: &'static str,
    pub column: &'static str,
}

impl ParentColumn {
    fn expr(self) -> Expr {
        Expr::col((Alias::new(self.table), Alias::new(self.column)))
    }

    /// Quoted by hand for the window clause: the names are our own constants, and
    /// sea-query's placeholders in custom expressions differ between backends.
    fn sql(self) -> String {
        format!("\"{}\".\"{}\"", self.table, self.column)
    }
}

/// One page of a nested list, the same for every parent: the rows of many
/// parents are fetched in one statement (ROW_NUMBER per parent), not one each.
pub struct NestedPage<E: EntityTrait> {
    select: Select<E>,
    parent: ParentColumn,
    key: SortKey<E>,
    page: Page,
    /// The SQL of the shape, so that equal pages share a batch.
    signature: String,
}

impl<E: EntityTrait> NestedPage<E> {
    /// `select` holds every condition but the parent's.
    pub fn new(
        db: &DatabaseConnection,
        select: Select<E>,
        parent: ParentColumn,
        key: SortKey<E>,
        page: Page,
    ) -> Self {
        let signature = format!(
            "{}|{}|{}|{:?}",
            db.get_database_backend()
                .build(&select.clone().into_query()),
            parent.sql(),
            key.name,
            page
        );
        Self {
            select,
            parent,
            key,
            page,
            signature,
        }
    }
}

impl<E: EntityTrait> PartialEq for NestedPage<E> {
    fn eq(&self, other: &Self) -> bool {
        self.signature == other.signature
    }
}

impl<E: EntityTrait> Eq for NestedPage<E> {}

impl<E: EntityTrait> std::hash::Hash for NestedPage<E> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.signature.hash(state);
    }
}

/// Name of the parent ID column added to nested queries.
const PARENT: &str = "nested_parent";
/// Name of the per-parent row number added to nested page queries.
const RANK: &str = "nested_rank";

/// The first `limit + 1` rows of the page for each of `parents`, by parent.
pub async fn nested_rows<E>(
    db: &DatabaseConnection,
    shape: &NestedPage<E>,
    parents: &[i64],
) -> ApiResult<HashMap<i64, Vec<E::Model>>>
where
    E: EntityTrait,
    E::Model: FromQueryResult,
{
    let (select, order) = seek(shape.select.clone(), &shape.key, &shape.page)?;
    let direction = if order == Order::Asc { "ASC" } else { "DESC" };
    let key_sql = format!(
        "\"{}\".\"{}\"",
        E::default().table_name(),
        shape.key.column.as_str()
    );
    let mut inner = select
        .filter(shape.parent.expr().is_in(parents.iter().copied()))
        .into_query();
    inner
        .expr_as(shape.parent.expr(), Alias::new(PARENT))
        .expr_as(
            Expr::cust(format!(
                "ROW_NUMBER() OVER (PARTITION BY {} ORDER BY {key_sql} {direction})",
                shape.parent.sql()
            )),
            Alias::new(RANK),
        );
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("nested"))
        .and_where(Expr::col(Alias::new(RANK)).lte(shape.page.limit + 1))
        .order_by(Alias::new(PARENT), Order::Asc)
        .order_by(Alias::new(RANK), Order::Asc)
        .to_owned();
    let mut pages: HashMap<i64, Vec<E::Model>> = HashMap::new();
    for row in db.query_all(&outer).await? {
        let parent: i64 = row.try_get("", PARENT)?;
        pages
            .entry(parent)
            .or_default()
            .push(E::Model::from_query_result(&row, "")?);
    }
    Ok(pages)
}

/// The number of rows of the list for each of `parents`.
pub async fn nested_counts<E: EntityTrait>(
    db: &DatabaseConnection,
    shape: &NestedPage<E>,
    parents: &[i64],
) -> ApiResult<HashMap<i64, u64>> {
    let mut query = shape
        .select
        .clone()
        .filter(shape.parent.expr().is_in(parents.iter().copied()))
        .into_query();
    query
        .clear_selects()
        .expr_as(shape.parent.expr(), Alias::new(PARENT))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("nested_count"))
        .add_group_by([shape.parent.expr()]);
    let mut counts = HashMap::new();
    for row in db.query_all(&query).await? {
        let parent: i64 = row.try_get("", PARENT)?;
        let count: i64 = row.try_get("", "nested_count")?;
        counts.insert(parent, u64::try_from(count).unwrap_or(0));
    }
    Ok(counts)
}

/// Builds the connection of one parent from the rows its batch fetched.
pub fn nested_connection<E: EntityTrait, N: OutputType>(
    rows: Vec<E::Model>,
    shape: &NestedPage<E>,
    total: TotalCount,
    wrap: impl Fn(E::Model) -> N,
) -> Conn<N> {
    connect(rows, &shape.key, &shape.page, total, wrap)
}

type CountFn = dyn Fn() -> BoxFuture<'static, ApiResult<u64>> + Send + Sync;

/// `totalCount` of a connection: the count is kept as a future to make, and
/// made only if the field is selected.
pub struct TotalCount(Arc<CountFn>);

impl TotalCount {
    pub fn new(
        count: impl Fn() -> BoxFuture<'static, ApiResult<u64>> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(count))
    }

    fn of<E>(db: DatabaseConnection, select: Select<E>) -> Self
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Send + Sync,
    {
        Self::new(move || {
            let db = db.clone();
            let select = select.clone();
            Box::pin(async move { Ok(select.count(&db).await?) })
        })
    }
}

#[Object]
impl TotalCount {
    /// Number of items in the whole list, across all pages (总数). It costs a
    /// point per hundred items counted, charged once counted.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        let count = (self.0)().await?;
        super::context::data::<super::context::RequestData>(ctx)?
            .cost
            .counted(count);
        Ok(count)
    }
}
