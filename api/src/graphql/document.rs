//! Bounded analysis of a query document before async-graphql sees it.
//!
//! async-graphql's own checks (recursion depth, validation rules, complexity)
//! walk fragment spreads as often as they occur, so a document of a kilobyte
//! whose fragments each spread the next one twice costs 2^30 visits. Everything
//! here costs time linear in the document: tokens are counted before parsing,
//! and the expanded size is computed with each fragment's size worked out once.

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Positioned, ServerError};

use crate::config::Limits;
use crate::error::code;
use crate::graphql::context::coded_error;

/// Mutations that check credentials: a document may hold one, so that a
/// single request cannot try many passwords or mint many sessions.
const CREDENTIAL_FIELDS: [&str; 3] = ["login", "refresh", "clientCredentials"];

/// Parses `query` if it is within every document limit, and refuses it otherwise.
pub fn admit(query: &str, limits: &Limits) -> Result<ExecutableDocument, ServerError> {
    if query.len() > limits.max_document_bytes {
        return Err(coded_error(
            format!(
                "the query document may be at most {} bytes",
                limits.max_document_bytes
            ),
            code::DOCUMENT_TOO_LARGE,
        ));
    }
    if tokens_exceed(query, limits.max_tokens) {
        return Err(coded_error(
            format!(
                "the query document has more than {} tokens",
                limits.max_tokens
            ),
            code::TOO_MANY_TOKENS,
        ));
    }
    let document = async_graphql::parser::parse_query(query).map_err(|err| {
        let mut error = ServerError::from(err);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code::GRAPHQL_PARSE_FAILED);
        error
    })?;
    let shape = Shape::of(&document);
    if shape.directives > limits.max_directives {
        return Err(coded_error(
            format!(
                "the query uses {} directives; at most {} are allowed",
                shape.directives, limits.max_directives
            ),
            code::TOO_MANY_DIRECTIVES,
        ));
    }
    if shape.aliases > limits.max_aliases {
        return Err(coded_error(
            format!(
                "the query uses {} aliases; at most {} are allowed",
                shape.aliases, limits.max_aliases
            ),
            code::TOO_MANY_ALIASES,
        ));
    }
    let expanded = Expansion::of(&document)?;
    if expanded.selections > limits.max_selections as u64 {
        return Err(coded_error(
            format!(
                "the query has {} selections once its fragments are expanded; at most {} are allowed",
                expanded.selections, limits.max_selections
            ),
            code::QUERY_TOO_LARGE,
        ));
    }
    if expanded.credential_fields > 1 {
        return Err(coded_error(
            format!(
                "a document may call at most one of {}; this one calls them {} times",
                CREDENTIAL_FIELDS.join(", "),
                expanded.credential_fields
            ),
            code::TOO_MANY_SIGN_INS,
        ));
    }
    Ok(document)
}

/// Whether `query` has more than `max` lexical tokens (punctuators, names,
/// numbers and strings; whitespace, commas and comments are not tokens). Stops
/// counting at `max + 1`.
fn tokens_exceed(query: &str, max: usize) -> bool {
    let bytes = query.as_bytes();
    let mut tokens = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                tokens += 1;
                i = end_of_string(bytes, i);
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                tokens += 1;
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                // A name or a number (with its sign, fraction and exponent).
                tokens += 1;
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            _ => {
                // A punctuator, or a character the parser will refuse: either
                // way one token. Multi-byte characters count once per byte,
                // which only ever overcounts what the parser refuses anyway.
                tokens += 1;
                i += 1;
            }
        }
        if tokens > max {
            return true;
        }
    }
    false
}

/// The index just past the string (or block string) starting at `start`.
fn end_of_string(bytes: &[u8], start: usize) -> usize {
    if bytes[start..].starts_with(b"\"\"\"") {
        let mut i = start + 3;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"\\\"\"\"") {
                i += 4;
            } else if bytes[i..].starts_with(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        return bytes.len();
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' | b'\n' | b'\r' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// What a document holds as written, without expanding fragments.
#[derive(Default)]
struct Shape {
    directives: usize,
    aliases: usize,
}

impl Shape {
    fn of(document: &ExecutableDocument) -> Shape {
        let mut shape = Shape::default();
        for (_, operation) in document.operations.iter() {
            shape.add_directives(&operation.node.directives);
            for variable in &operation.node.variable_definitions {
                shape.add_directives(&variable.node.directives);
            }
            shape.add_set(&operation.node.selection_set);
        }
        for fragment in document.fragments.values() {
            shape.add_directives(&fragment.node.directives);
            shape.add_set(&fragment.node.selection_set);
        }
        shape
    }

    fn add_directives(&mut self, directives: &[Positioned<Directive>]) {
        self.directives += directives.len();
    }

    fn add_set(&mut self, set: &Positioned<SelectionSet>) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(field) => {
                    self.aliases += usize::from(field.node.alias.is_some());
                    self.add_directives(&field.node.directives);
                    self.add_set(&field.node.selection_set);
                }
                Selection::InlineFragment(fragment) => {
                    self.add_directives(&fragment.node.directives);
                    self.add_set(&fragment.node.selection_set);
                }
                Selection::FragmentSpread(spread) => {
                    self.add_directives(&spread.node.directives);
                }
            }
        }
    }
}

/// Sizes once every fragment spread is replaced by its fragment, as validation
/// and execution will see the document.
#[derive(Default, Clone, Copy)]
struct Expansion {
    /// Fields, spreads and inline fragments, counted as often as spreads expand
    /// them: what validation walks, summed over every operation and fragment.
    selections: u64,
    /// Credential mutations at the root of mutation operations.
    credential_fields: u64,
}

/// Where the expansion of a fragment stands.
enum Memo {
    InProgress,
    Done(u64),
}

impl Expansion {
    fn of(document: &ExecutableDocument) -> Result<Expansion, ServerError> {
        let mut memo: HashMap<&str, Memo> = HashMap::new();
        let mut total = Expansion::default();
        for (_, operation) in document.operations.iter() {
            let set = &operation.node.selection_set;
            total.selections = total
                .selections
                .saturating_add(selections_in(document, set, &mut memo)?);
            if operation.node.ty == OperationType::Mutation {
                total.credential_fields = total
                    .credential_fields
                    .saturating_add(credential_fields_in(document, set, &mut HashMap::new()));
            }
        }
        for fragment in document.fragments.values() {
            total.selections = total.selections.saturating_add(selections_in(
                document,
                &fragment.node.selection_set,
                &mut memo,
            )?);
        }
        Ok(total)
    }
}

/// Selections of a set with its spreads expanded; each fragment is
/// expanded once and remembered. A fragment that spreads itself is refused
/// here, as validation would refuse it.
fn selections_in<'d>(
    document: &'d ExecutableDocument,
    set: &'d Positioned<SelectionSet>,
    memo: &mut HashMap<&'d str, Memo>,
) -> Result<u64, ServerError> {
    let mut selections = 0u64;
    for item in &set.node.items {
        let inner = match &item.node {
            Selection::Field(field) => selections_in(document, &field.node.selection_set, memo)?,
            Selection::InlineFragment(fragment) => {
                selections_in(document, &fragment.node.selection_set, memo)?
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                match memo.get(name) {
                    Some(Memo::Done(size)) => *size,
                    Some(Memo::InProgress) => {
                        return Err(coded_error(
                            format!("fragment `{name}` spreads itself"),
                            code::GRAPHQL_VALIDATION_FAILED,
                        ));
                    }
                    None => match document.fragments.get(name) {
                        // An unknown fragment is validation's to report.
                        None => 0,
                        Some(fragment) => {
                            memo.insert(name, Memo::InProgress);
                            let size = selections_in(document, &fragment.node.selection_set, memo)?;
                            memo.insert(name, Memo::Done(size));
                            size
                        }
                    },
                }
            }
        };
        selections = selections.saturating_add(1).saturating_add(inner);
    }
    Ok(selections)
}

/// Credential mutations among the root fields of a mutation (through spreads
/// and inline fragments, which may sit at the root too). Cycles were refused
/// by [`selections_in`] before this runs.
fn credential_fields_in<'d>(
    document: &'d ExecutableDocument,
    set: &'d Positioned<SelectionSet>,
    memo: &mut HashMap<&'d str, u64>,
) -> u64 {
    let mut count = 0u64;
    for item in &set.node.items {
        let found = match &item.node {
            Selection::Field(field) => {
                u64::from(CREDENTIAL_FIELDS.contains(&field.node.name.node.as_str()))
            }
            Selection::InlineFragment(fragment) => {
                credential_fields_in(document, &fragment.node.selection_set, memo)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if let Some(found) = memo.get(name) {
                    *found
                } else {
                    let found = document.fragments.get(name).map_or(0, |fragment| {
                        credential_fields_in(document, &fragment.node.selection_set, memo)
                    });
                    memo.insert(name, found);
                    found
                }
            }
        };
        count = count.saturating_add(found);
    }
    count
}

/// Whether the operation a request selects is a mutation.
pub fn is_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    operation_type(document, operation_name) == Some(OperationType::Mutation)
}

/// The name of the operation a request runs, as its document spells it:
/// `None` for an anonymous one, or a name that selects nothing.
pub fn operation_name(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<String> {
    let DocumentOperations::Multiple(ops) = &document.operations else {
        return None;
    };
    let selected = match operation_name {
        Some(name) => ops.get_key_value(name),
        None => ops.iter().next().filter(|_| ops.len() == 1),
    };
    selected.map(|(name, _)| name.to_string())
}

/// The type of the operation a request runs, if its name selects one.
pub fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    let selected = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) => ops.values().next().filter(|_| ops.len() == 1),
    };
    selected.map(|op| op.node.ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn code_of(error: &ServerError) -> String {
        match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(async_graphql::Value::String(code)) => code.clone(),
            _ => String::new(),
        }
    }

    #[test]
    fn tokens_are_counted_as_graphql_reads_them() {
        assert!(!tokens_exceed("{ a(b: \"x y, z\") }", 8));
        assert!(tokens_exceed("{ a(b: \"x y, z\") }", 7));
        assert!(!tokens_exceed("# a comment { } { }\n{ a, b, c }", 5));
        assert!(!tokens_exceed(
            "{ a(f: -1.5e-3, s: \"\"\"x \\\"\"\" y\"\"\") }",
            11
        ));
        assert!(tokens_exceed(
            "{ a(f: -1.5e-3, s: \"\"\"x \\\"\"\" y\"\"\") }",
            10
        ));
        assert!(!tokens_exceed("{ ...F }", 4));
        assert!(tokens_exceed("{ ...F }", 3));
    }

    #[test]
    fn directives_count_wherever_they_stand() {
        let limits = Limits {
            max_directives: 3,
            ..limits()
        };
        let query = "query Q($a: Int @x) @y { a @z ...F @w } fragment F on Query @v { b }";
        let error = admit(query, &limits).expect_err("five directives");
        assert_eq!(code_of(&error), code::TOO_MANY_DIRECTIVES);
    }

    #[test]
    fn a_document_signs_in_once() {
        let twice = "mutation { a: login(username: \"u\", password: \"p\") { accessToken } ...L } \
                     fragment L on Mutation { login(username: \"u\", password: \"q\") { accessToken } }";
        assert_eq!(
            code_of(&admit(twice, &limits()).expect_err("two logins")),
            code::TOO_MANY_SIGN_INS
        );
        let once = "mutation { login(username: \"u\", password: \"p\") { accessToken } }";
        admit(once, &limits()).expect("one login");
    }

    #[test]
    fn a_fragment_cycle_is_refused_without_recursing_forever() {
        let query = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        let error = admit(query, &limits()).expect_err("cycle");
        assert_eq!(code_of(&error), code::GRAPHQL_VALIDATION_FAILED);
    }
}
