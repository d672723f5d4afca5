//! The field policy enforced on every field a query resolves, whatever path
//! it takes to the field (aliases, fragments, `node`, nested lists): the
//! policy itself is data, in `permissions`. The same hook meters each field's
//! cost (`cost::meter_field`): one extension per field, not two, since every
//! field of every row passes through it.

use std::sync::Arc;

use tracing::Instrument;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::parser::types::Field;
use async_graphql::{
    PathSegment, QueryPathNode, QueryPathSegment, ServerError, ServerResult, Value,
};

use super::context::{RequestData, coded_error};
use super::cost::meter_field;
use crate::access::Viewer;
use crate::error::code;
use crate::permissions::{Access, CONNECTION_FIELDS, Mask, access_of, is_connection, rule_of};

/// Enforces [`crate::permissions::POLICY`] on every field a query resolves.
pub struct PolicyGuard;

impl ExtensionFactory for PolicyGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PolicyGuard)
    }
}

#[async_trait::async_trait]
impl Extension for PolicyGuard {
    /// Each root field is a span of the request's trace, with the statements
    /// it runs under it.
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() {
            return guarded(ctx, info, next).await;
        }
        let span = tracing::info_span!(
            "graphql.field",
            otel.name = format!("{}.{}", info.parent_type, info.name),
            graphql.field = info.name,
        );
        guarded(ctx, info, next).instrument(span).await
    }
}

async fn guarded(
    ctx: &ExtensionContext<'_>,
    info: ResolveInfo<'_>,
    next: NextResolve<'_>,
) -> ServerResult<Option<Value>> {
    let _permit = meter_field(ctx, &info).await?;
    let viewer = ctx
        .data_opt::<RequestData>()
        .map_or(&Viewer::Public, |d| &d.viewer);
    let Some(rule) = rule_of(info.parent_type, info.name) else {
        // Introspection, the items of a list and the rows a connection carries
        // answer to their own rules; any other field without a rule is read by no one.
        let structural = info.name.starts_with("__")
            || info.parent_type.starts_with("__")
            || info.parent_type.starts_with('[')
            || (is_connection(info.parent_type) && CONNECTION_FIELDS.contains(&info.name));
        if structural {
            return next.run(ctx, info).await;
        }
        return Err(field_error(
            info.path_node,
            info.field,
            format!(
                "`{}.{}` has no rule in the field policy",
                info.parent_type, info.name
            ),
            code::FORBIDDEN,
        ));
    };
    // Formatted only for an error: this runs on every field of every row.
    let field = || format!("{}.{}", rule.type_name, rule.field);
    match access_of(viewer, rule) {
        Access::Full => next.run(ctx, info).await,
        Access::Hidden => {
            let error_code = if viewer.role().is_none() {
                code::UNAUTHENTICATED
            } else {
                code::FORBIDDEN
            };
            Err(field_error(
                info.path_node,
                info.field,
                format!("your role may not read `{}`", field()),
                error_code,
            ))
        }
        Access::Masked => {
            let (path_node, at) = (info.path_node, info.field);
            let unmaskable = || {
                field_error(
                    path_node,
                    at,
                    format!("`{}` cannot be shown masked", field()),
                    code::FORBIDDEN,
                )
            };
            match (next.run(ctx, info).await?, rule.mask) {
                (None, _) => Ok(None),
                (Some(value), Some(mask)) => masked(mask, value).map(Some).ok_or_else(unmaskable),
                (Some(_), None) => Err(unmaskable()),
            }
        }
    }
}

/// `value` as `mask` shows it: a text, each text of a list (a proposal's
/// evidence), or null; none for a value of another kind.
fn masked(mask: Mask, value: Value) -> Option<Value> {
    match value {
        Value::String(text) => Some(Value::String(mask.apply(&text))),
        Value::List(items) => items
            .into_iter()
            .map(|item| masked(mask, item))
            .collect::<Option<_>>()
            .map(Value::List),
        Value::Null => Some(Value::Null),
        _ => None,
    }
}

/// An error located at the field being resolved, with its response path.
fn field_error(
    path_node: &QueryPathNode<'_>,
    at: &Field,
    message: String,
    error_code: &str,
) -> ServerError {
    let mut path: Vec<PathSegment> = std::iter::once(path_node)
        .chain(path_node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
            QueryPathSegment::Index(index) => PathSegment::Index(index),
        })
        .collect();
    path.reverse();
    let mut error = coded_error(message, error_code);
    error.locations = vec![at.name.pos];
    error.path = path;
    error
}
