//! The one place where the caller's identity meets the data: every read starts
//! from [`select`], which applies the viewer's scope in SQL, so lists, counts,
//! loaders and `node(id)` all agree on what exists for that caller.

use entity::{
    enterprise, household, household_cause, household_income, member, poverty_line, project,
    project_village, region,
};
use sea_orm::{Condition, EntityTrait, QueryFilter, Select};

/// Who is asking. Authentication and roles arrive with issue 3; until then
/// every caller reads the register as the county office does.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// No scope restriction.
    County,
}

/// An entity whose rows are visible to a viewer only within its scope.
pub trait Scoped: EntityTrait {
    /// The rows of this entity the viewer may see.
    fn scope(viewer: &Viewer) -> Condition;
}

/// The rows of `E` that exist for this viewer: the starting point of every read.
pub fn select<E: Scoped>(viewer: &Viewer) -> Select<E> {
    E::find().filter(E::scope(viewer))
}

macro_rules! county_wide {
    ($($module:ident),+) => {
        $(impl Scoped for $module::Entity {
            fn scope(viewer: &Viewer) -> Condition {
                match viewer {
                    Viewer::County => Condition::all(),
                }
            }
        })+
    };
}

county_wide!(
    poverty_line,
    region,
    household,
    household_cause,
    household_income,
    member,
    enterprise,
    project,
    project_village
);
