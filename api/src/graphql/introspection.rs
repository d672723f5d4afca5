//! Refuses introspection (`__schema`, `__type`) to callers it is closed to, with
//! a coded error rather than the null async-graphql answers when it is off.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Positioned, ServerResult, Variables};

use crate::error::code;
use crate::graphql::context::coded_error;

/// Refuses any document that asks for `__schema` or `__type`, wherever it does
/// (`__typename` stays allowed).
pub(crate) struct RefuseIntrospection;

impl ExtensionFactory for RefuseIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RefuseIntrospection)
    }
}

#[async_trait::async_trait]
impl Extension for RefuseIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if introspects(&document) {
            return Err(coded_error(
                "introspection (`__schema`, `__type`) is open to signed-in callers only: send a bearer token",
                code::INTROSPECTION_DISABLED,
            ));
        }
        Ok(document)
    }
}

/// Whether any operation or fragment of the document selects an introspection field.
fn introspects(document: &ExecutableDocument) -> bool {
    fn in_set(set: &Positioned<SelectionSet>) -> bool {
        set.node.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    || in_set(&field.node.selection_set)
            }
            Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| in_set(&op.node.selection_set))
        || document
            .fragments
            .values()
            .any(|f| in_set(&f.node.selection_set))
}
