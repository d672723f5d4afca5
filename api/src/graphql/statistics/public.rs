//! What the public may read of the statistics: the figures of every region of
//! the county, its townships and villages, laid out as the tables of the
//! disclosure method (`domain::disclosure`) with every sum a reader could
//! form from the answers, so that a figure is withheld alike in whichever
//! answer it appears.
//!
//! Two tables, solved apart: the register as it stands now (statuses, causes,
//! attributes, pairing, visits), the same whatever year is asked, so that
//! asking for another year cannot change what is withheld of it; and the
//! year's figures (exits, returns, income, measures), which may withhold more
//! because of the first but never the other way round.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use entity::enums::{HouseholdAttribute, HouseholdStatus, PovertyCause};
use sea_orm::Iterable;

use super::figures::{Figures, POOR, REGISTERED};
use crate::domain::disclosure::{Cell, CellId, Suppression, Table};

/// One figure of a region that the public may be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    Households(HouseholdStatus),
    People(HouseholdStatus),
    PoorHouseholds,
    PoorPeople,
    /// Registered households: `pairing.households`, and the total of causes and attributes.
    Registered,
    Cause(PovertyCause),
    Attribute(HouseholdAttribute),
    Paired,
    /// Registered households without a helper: no field, but registered less paired.
    Unpaired,
    NotVisited,
    /// Registered households visited in 90 days: no field, but registered less not visited.
    Visited,
    Exits,
    Returns,
    IncomeHouseholds,
    Measures,
    MeasuresDone,
    MeasuresCancelled,
    MeasuresOverdue,
    /// Measures neither closed nor overdue: no field, but the measures less the others.
    MeasuresOpenInTime,
}

impl Figure {
    fn cell(self) -> Cell {
        match self {
            Figure::People(_) | Figure::PoorPeople => Cell::Figure,
            Figure::Unpaired | Figure::Visited | Figure::MeasuresOpenInTime => Cell::Unlisted,
            _ => Cell::Count,
        }
    }

    fn value(self, f: &Figures) -> i64 {
        let registered = f.households_in(&REGISTERED);
        let m = f.measures;
        let get = |map: &HashMap<HouseholdStatus, i64>, s| map.get(&s).copied().unwrap_or(0);
        match self {
            Figure::Households(s) => get(&f.households, s),
            Figure::People(s) => get(&f.people, s),
            Figure::PoorHouseholds => f.households_in(&POOR),
            Figure::PoorPeople => f.people_in(&POOR),
            Figure::Registered => registered,
            Figure::Cause(c) => f.by_cause.get(&c).copied().unwrap_or(0),
            Figure::Attribute(a) => f.by_attribute.get(&a).copied().unwrap_or(0),
            Figure::Paired => f.paired,
            Figure::Unpaired => registered - f.paired,
            Figure::NotVisited => f.not_visited,
            Figure::Visited => registered - f.not_visited,
            Figure::Exits => f.exits,
            Figure::Returns => f.returns,
            Figure::IncomeHouseholds => f.income.households,
            Figure::Measures => m.total,
            Figure::MeasuresDone => m.done,
            Figure::MeasuresCancelled => m.cancelled,
            Figure::MeasuresOverdue => m.overdue,
            Figure::MeasuresOpenInTime => m.total - m.done - m.cancelled - m.overdue,
        }
    }
}

/// The figures of the register as it stands now.
fn register_figures() -> Vec<Figure> {
    let mut figures: Vec<Figure> = HouseholdStatus::iter()
        .flat_map(|s| [Figure::Households(s), Figure::People(s)])
        .collect();
    figures.extend([
        Figure::PoorHouseholds,
        Figure::PoorPeople,
        Figure::Registered,
        Figure::Paired,
        Figure::Unpaired,
        Figure::NotVisited,
        Figure::Visited,
    ]);
    figures.extend(PovertyCause::iter().map(Figure::Cause));
    figures.extend(HouseholdAttribute::iter().map(Figure::Attribute));
    figures
}

/// The figures of the year asked for.
const YEAR_FIGURES: [Figure; 8] = [
    Figure::Exits,
    Figure::Returns,
    Figure::IncomeHouseholds,
    Figure::Measures,
    Figure::MeasuresDone,
    Figure::MeasuresCancelled,
    Figure::MeasuresOverdue,
    Figure::MeasuresOpenInTime,
];

/// The sums within one region's register figures. The statuses' totals are
/// nested (registered = poor + lifted out, poor = enrolled + returned), so
/// that registered less poor is a sum of the table, not a way around it.
fn register_sums(cells: &HashMap<Figure, CellId>, table: &mut Table) {
    use HouseholdStatus::{Enrolled, LiftedOut, Returned};
    let c = |figure: Figure| cells[&figure];
    table.sum(
        c(Figure::PoorHouseholds),
        vec![
            c(Figure::Households(Enrolled)),
            c(Figure::Households(Returned)),
        ],
    );
    table.sum(
        c(Figure::Registered),
        vec![c(Figure::PoorHouseholds), c(Figure::Households(LiftedOut))],
    );
    table.sum(
        c(Figure::Registered),
        PovertyCause::iter().map(|k| c(Figure::Cause(k))).collect(),
    );
    table.sum(
        c(Figure::Registered),
        HouseholdAttribute::iter()
            .map(|a| c(Figure::Attribute(a)))
            .collect(),
    );
    table.sum(
        c(Figure::Registered),
        vec![c(Figure::Paired), c(Figure::Unpaired)],
    );
    table.sum(
        c(Figure::Registered),
        vec![c(Figure::NotVisited), c(Figure::Visited)],
    );
    table.sum(
        c(Figure::PoorPeople),
        vec![c(Figure::People(Enrolled)), c(Figure::People(Returned))],
    );
    for status in HouseholdStatus::iter() {
        table.together(c(Figure::Households(status)), c(Figure::People(status)));
    }
    table.together(c(Figure::PoorHouseholds), c(Figure::PoorPeople));
}

/// The sums within one region's figures of the year.
fn year_sums(cells: &HashMap<Figure, CellId>, table: &mut Table) {
    let c = |figure: Figure| cells[&figure];
    table.sum(
        c(Figure::Measures),
        vec![
            c(Figure::MeasuresDone),
            c(Figure::MeasuresCancelled),
            c(Figure::MeasuresOverdue),
            c(Figure::MeasuresOpenInTime),
        ],
    );
}

/// A region of the county: its figures and the index of its parent in the list.
pub struct Region<'a> {
    pub figures: &'a Figures,
    pub parent: Option<usize>,
}

/// The figures the public may not read, of one region.
pub type Withheld = HashSet<Figure>;

/// One table over every region: the cells of `figures` in each, the sums
/// within a region, and each figure of a parent as the sum of its children's.
struct Laid {
    table: Table,
    cells: Vec<HashMap<Figure, CellId>>,
}

impl Laid {
    fn out(
        regions: &[Region],
        figures: &[Figure],
        sums: fn(&HashMap<Figure, CellId>, &mut Table),
    ) -> Laid {
        let mut table = Table::default();
        let cells: Vec<HashMap<Figure, CellId>> = regions
            .iter()
            .map(|region| {
                figures
                    .iter()
                    .map(|f| (*f, table.cell(f.cell(), f.value(region.figures))))
                    .collect()
            })
            .collect();
        for region in &cells {
            sums(region, &mut table);
        }
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); regions.len()];
        for (index, region) in regions.iter().enumerate() {
            if let Some(parent) = region.parent {
                children[parent].push(index);
            }
        }
        for (parent, children) in children.iter().enumerate() {
            if children.is_empty() {
                continue;
            }
            for figure in figures {
                let parts = children.iter().map(|c| cells[*c][figure]).collect();
                table.sum(cells[parent][figure], parts);
            }
        }
        Laid { table, cells }
    }

    fn withheld(&self, suppression: &Suppression, into: &mut [Withheld]) {
        for (region, cells) in self.cells.iter().enumerate() {
            into[region].extend(
                cells
                    .iter()
                    .filter(|(figure, cell)| {
                        figure.cell() != Cell::Unlisted && suppression.is_withheld(**cell)
                    })
                    .map(|(figure, _)| *figure),
            );
        }
    }
}

/// The last answer of [`withheld`] in this replica, with the figures it was
/// worked out from. Any write changes some figure, so a repeat is known by
/// comparing every figure of every region, which costs far less than solving
/// the tables again; it only repeats what the figures give.
#[derive(Default)]
pub struct Solved(Mutex<Option<Solution>>);

/// The figures of every region, and what is withheld of each.
type Solution = (Vec<i64>, Arc<[Withheld]>);

/// The figures withheld from the public in each region of a whole county
/// (every township and village with it, so that a figure is withheld alike
/// in the answer about it and in the answer about its parent).
pub fn withheld(solved: &Solved, regions: &[Region]) -> Arc<[Withheld]> {
    let register = register_figures();
    let figures: Vec<i64> = regions
        .iter()
        .flat_map(|region| {
            let parent = region.parent.map_or(-1, |p| p as i64);
            std::iter::once(parent).chain(
                register
                    .iter()
                    .chain(&YEAR_FIGURES)
                    .map(|f| f.value(region.figures)),
            )
        })
        .collect();
    let last = |solved: &Solved| {
        let last = solved.0.lock().unwrap_or_else(|e| e.into_inner());
        last.as_ref()
            .filter(|(of, _)| *of == figures)
            .map(|(_, withheld)| withheld.clone())
    };
    if let Some(withheld) = last(solved) {
        return withheld;
    }
    let withheld: Arc<[Withheld]> = solve(regions, &register).into();
    *solved.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((figures, withheld.clone()));
    withheld
}

fn solve(regions: &[Region], figures: &[Figure]) -> Vec<Withheld> {
    let mut withheld = vec![Withheld::new(); regions.len()];
    let register = Laid::out(regions, figures, register_sums);
    register.withheld(&register.table.suppress(), &mut withheld);

    let mut year = Laid::out(regions, &YEAR_FIGURES, year_sums);
    for (index, region) in regions.iter().enumerate() {
        let cells = &year.cells[index];
        // Measures are of the registered households' plans: withheld with them.
        if withheld[index].contains(&Figure::Registered) {
            for figure in [
                Figure::Measures,
                Figure::MeasuresDone,
                Figure::MeasuresCancelled,
                Figure::MeasuresOverdue,
            ] {
                year.table.withhold(cells[&figure]);
            }
        }
        // Registered households without an income record, registered less
        // those with one, are protected like any count.
        let registered = Figure::Registered.value(region.figures);
        let without_income = registered - region.figures.income.households;
        if !withheld[index].contains(&Figure::Registered)
            && (1..crate::domain::disclosure::MIN_CELL).contains(&without_income)
        {
            year.table.withhold(cells[&Figure::IncomeHouseholds]);
        }
    }
    year.withheld(&year.table.suppress(), &mut withheld);
    withheld
}
