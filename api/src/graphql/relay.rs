//! Relay conventions: opaque global IDs, page arguments, keyset-paginated
//! connections (no OFFSET) and a `totalCount` that is counted only when asked for.

use std::sync::Arc;

use async_graphql::connection::{
    Connection, DefaultConnectionName, DefaultEdgeName, Edge, EmptyFields, EnableNodesField,
};
use async_graphql::{ID, Object, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Value,
};

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
}

impl NodeKind {
    const ALL: [NodeKind; 7] = [
        NodeKind::County,
        NodeKind::Township,
        NodeKind::Village,
        NodeKind::Household,
        NodeKind::Member,
        NodeKind::Enterprise,
        NodeKind::Project,
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
        }
    }
}

/// The opaque global ID of a row: base64url of `Type:id`.
pub fn global_id(kind: NodeKind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.type_name())))
}

/// Decodes a global ID; `field` names the argument for the error.
pub fn decode_id(id: &ID, field: &str) -> ApiResult<(NodeKind, i64)> {
    let malformed = || ApiError::bad_input(field, format!("`{}` is not a valid ID", id.as_str()));
    let bytes = URL_SAFE_NO_PAD
        .decode(id.as_str())
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (type_name, raw) = text.split_once(':').ok_or_else(malformed)?;
    let kind = NodeKind::ALL
        .into_iter()
        .find(|k| k.type_name() == type_name)
        .ok_or_else(malformed)?;
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
        .map_or(DEFAULT_PAGE_SIZE, |n| n.max(0) as usize);
    items.max(1) * child_complexity + 1
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

/// Runs one page of `select` in keyset order and wraps each row with `wrap`.
pub async fn paginate<E, N>(
    db: &DatabaseConnection,
    select: Select<E>,
    key: &SortKey<E>,
    page: Page,
    wrap: impl Fn(E::Model) -> N,
) -> ApiResult<Conn<N>>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
    N: OutputType,
{
    let total = TotalCount::of(db.clone(), select.clone());
    let ascending_scan = page.forward != key.descending;
    let mut query = select;
    if let Some(cursor) = &page.cursor {
        let field = if page.forward { "after" } else { "before" };
        let value = key.decode(cursor, field)?;
        query = if ascending_scan {
            query.filter(key.column.gt(value))
        } else {
            query.filter(key.column.lt(value))
        };
    }
    let order = if ascending_scan {
        Order::Asc
    } else {
        Order::Desc
    };
    let mut rows = query
        .order_by(key.column, order)
        .limit(page.limit + 1)
        .all(db)
        .await?;
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
    Ok(connection)
}

type CountFn = dyn Fn() -> BoxFuture<'static, Result<u64, DbErr>> + Send + Sync;

/// `totalCount` of a connection: the query is kept and run only if the field is selected.
pub struct TotalCount(Arc<CountFn>);

impl TotalCount {
    fn of<E>(db: DatabaseConnection, select: Select<E>) -> Self
    where
        E: EntityTrait,
        E::Model: FromQueryResult + Send + Sync,
    {
        Self(Arc::new(move || {
            let db = db.clone();
            let select = select.clone();
            Box::pin(async move { select.count(&db).await })
        }))
    }
}

#[Object]
impl TotalCount {
    /// Number of items in the whole list, across all pages (总数).
    async fn total_count(&self) -> ApiResult<u64> {
        Ok((self.0)().await?)
    }
}
