//! Statistical disclosure control (统计数据保密) of the figures the public
//! reads: which cells of a set of linked tables to withhold so that no count
//! of one to four households can be read or worked out from what is shown.
//!
//! The method, over a [`Table`] of cells and the sums that bind them:
//! 1. primary suppression: every count of 1 to 4 is withheld;
//! 2. complementary suppression: a sum in which exactly one withheld cell
//!    still needs protecting would give it away by subtraction, so its
//!    smallest non-zero shown part is withheld too (its total if no part is
//!    left); cells that go together (a count and the people it counts)
//!    are withheld together; repeated until no sum changes;
//! 3. an audit: sums can give a cell away together even when each holds two
//!    withheld cells (two rows and two columns around a third), so the
//!    withheld cells are solved for exactly, by elimination over all the
//!    sums at once, and any cell that is still determined gets a complement
//!    of its own; then back to 2, until nothing changes.
//!
//! Zero cells are shown: that nobody in a village is in a category tells
//! nothing about a person, and hiding zeros would hide most small villages'
//! tables whole. A withheld count is still known to be non-zero.

use std::collections::{HashMap, HashSet};

/// Counts below this, and above zero, are withheld from the public.
pub const MIN_CELL: i64 = 5;

/// A count of households the public may read on its own, outside the tables of
/// the statistics (what an enterprise's links bring): none when 1 to 4, and
/// what is derived from it goes with it.
pub fn public_count(households: i64) -> Option<i64> {
    (households == 0 || households >= MIN_CELL).then_some(households)
}

/// What a cell of a [`Table`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// A count of households or measures that a field shows: withheld when 1 to 4.
    Count,
    /// A figure a field shows that is not itself protected (people in the
    /// counted households): withheld only with the count it goes with, or
    /// as a complement.
    Figure,
    /// A count no field shows, which the shown ones might still give away by
    /// subtraction (registered households without a helper): protected when 1 to 4.
    Unlisted,
}

/// A cell's index in its table.
pub type CellId = usize;

/// Cells and the sums between them, as the reader of the figures sees them.
#[derive(Debug, Default)]
pub struct Table {
    values: Vec<i64>,
    kinds: Vec<Cell>,
    withheld: Vec<bool>,
    sums: Vec<(CellId, Vec<CellId>)>,
    together: Vec<(CellId, CellId)>,
}

/// The outcome: which cells are withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    withheld: Vec<bool>,
}

impl Suppression {
    /// Whether the cell is withheld (always for an [`Cell::Unlisted`] one).
    pub fn is_withheld(&self, cell: CellId) -> bool {
        self.withheld[cell]
    }
}

impl Table {
    /// Adds a cell.
    pub fn cell(&mut self, kind: Cell, value: i64) -> CellId {
        self.values.push(value);
        self.kinds.push(kind);
        self.withheld.push(false);
        self.values.len() - 1
    }

    /// States that `total` is the sum of `parts`.
    pub fn sum(&mut self, total: CellId, parts: Vec<CellId>) {
        self.sums.push((total, parts));
    }

    /// States that two cells are shown or withheld together (a household
    /// count and the people in those households).
    pub fn together(&mut self, a: CellId, b: CellId) {
        self.together.push((a, b));
    }

    /// Withholds a non-zero cell whatever its size (a figure derived from a
    /// withheld cell of another table); zeros stay shown.
    pub fn withhold(&mut self, cell: CellId) {
        if self.values[cell] != 0 {
            self.withheld[cell] = true;
        }
    }

    fn is_small(&self, cell: CellId) -> bool {
        self.kinds[cell] != Cell::Figure && (1..MIN_CELL).contains(&self.values[cell])
    }

    /// A withheld cell that must stay undetermined: every withheld cell a
    /// field shows, and the small unlisted ones.
    fn needs_protection(&self, cell: CellId, withheld: &[bool]) -> bool {
        withheld[cell] && (self.kinds[cell] != Cell::Unlisted || self.is_small(cell))
    }

    fn members(&self, sum: usize) -> impl Iterator<Item = CellId> + '_ {
        let (total, parts) = &self.sums[sum];
        std::iter::once(*total).chain(parts.iter().copied())
    }

    /// The method of the module's header.
    pub fn suppress(&self) -> Suppression {
        let mut withheld: Vec<bool> = (0..self.values.len())
            .map(|c| self.withheld[c] || self.kinds[c] == Cell::Unlisted || self.is_small(c))
            .collect();
        let mut sums_of: Vec<Vec<usize>> = vec![Vec::new(); self.values.len()];
        for sum in 0..self.sums.len() {
            for cell in self.members(sum) {
                sums_of[cell].push(sum);
            }
        }
        loop {
            let mut changed = self.withhold_together(&mut withheld);
            for sum in 0..self.sums.len() {
                let mut hidden = self.members(sum).filter(|&c| withheld[c]);
                if let (Some(only), None) = (hidden.next(), hidden.next())
                    && self.needs_protection(only, &withheld)
                {
                    changed |= self.withhold_complement(only, &[sum], &sums_of, &mut withheld);
                }
            }
            if changed {
                continue;
            }
            for cell in self.determined(&withheld) {
                if self.needs_protection(cell, &withheld) {
                    changed |=
                        self.withhold_complement(cell, &sums_of[cell], &sums_of, &mut withheld);
                }
            }
            if !changed {
                return Suppression { withheld };
            }
        }
    }

    fn withhold_together(&self, withheld: &mut [bool]) -> bool {
        let mut changed = false;
        for &(a, b) in &self.together {
            if withheld[a] != withheld[b] {
                withheld[a] = true;
                withheld[b] = true;
                changed = true;
            }
        }
        changed
    }

    /// Withholds the smallest non-zero shown part of the given sums (a total
    /// only when no part is left), looking further along the sums that meet
    /// at withheld cells when these have none. Whether anything changed.
    fn withhold_complement(
        &self,
        cell: CellId,
        sums: &[usize],
        sums_of: &[Vec<usize>],
        withheld: &mut [bool],
    ) -> bool {
        let mut seen_sums: HashSet<usize> = sums.iter().copied().collect();
        let mut seen_cells: HashSet<CellId> = HashSet::from([cell]);
        let mut frontier: Vec<usize> = sums.to_vec();
        while !frontier.is_empty() {
            let mut best: Option<(bool, i64, CellId)> = None;
            let mut next = Vec::new();
            for &sum in &frontier {
                let total = self.sums[sum].0;
                for member in self.members(sum) {
                    if withheld[member] {
                        if seen_cells.insert(member) {
                            next.extend(sums_of[member].iter().filter(|s| seen_sums.insert(**s)));
                        }
                    } else if self.values[member] != 0 {
                        let key = (member == total, self.values[member], member);
                        best = Some(best.map_or(key, |b| b.min(key)));
                    }
                }
            }
            if let Some((_, _, chosen)) = best {
                withheld[chosen] = true;
                return true;
            }
            frontier = next;
        }
        false
    }

    /// The withheld cells whose value the shown cells and the sums fix: the
    /// sums as equations in the withheld cells, brought to reduced row
    /// echelon form over the integers; a cell is determined when a row holds
    /// it alone.
    fn determined(&self, withheld: &[bool]) -> Vec<CellId> {
        let mut echelon = Echelon::default();
        for sum in 0..self.sums.len() {
            let (total, parts) = &self.sums[sum];
            let mut row: HashMap<CellId, i128> = HashMap::new();
            for (cell, sign) in std::iter::once((*total, 1)).chain(parts.iter().map(|p| (*p, -1))) {
                if withheld[cell] {
                    *row.entry(cell).or_default() += sign;
                }
            }
            let mut row: Row = row.into_iter().filter(|(_, k)| *k != 0).collect();
            row.sort_unstable();
            if !row.is_empty() && echelon.add(row).is_none() {
                // Numbers too large to solve exactly: count every withheld
                // cell as determined, which only withholds more.
                return (0..withheld.len()).filter(|c| withheld[*c]).collect();
            }
        }
        echelon
            .rows
            .iter()
            .filter(|row| row.len() == 1)
            .map(|row| row[0].0)
            .collect()
    }
}

/// A sparse row of integer coefficients, by column.
type Row = Vec<(CellId, i128)>;

/// Rows in reduced row echelon form: each row's pivot column is zero in every other row.
#[derive(Default)]
struct Echelon {
    rows: Vec<Row>,
    pivot_rows: HashMap<CellId, usize>,
    /// The rows each column has appeared in (checked before use): a new
    /// pivot is eliminated from those alone, not from every row, which keeps
    /// a county's thousands of sums from costing their square.
    rows_of: HashMap<CellId, Vec<usize>>,
}

impl Echelon {
    /// Adds a row; `None` when a coefficient would overflow.
    fn add(&mut self, mut row: Row) -> Option<()> {
        while let Some(&(column, k)) = row.iter().find(|(c, _)| self.pivot_rows.contains_key(c)) {
            let pivot = &self.rows[self.pivot_rows[&column]];
            let p = coefficient(pivot, column);
            row = combine(&row, p, pivot, k)?;
        }
        let Some(&(column, k)) = row.first() else {
            return Some(());
        };
        let index = self.rows.len();
        let mut others = self.rows_of.get(&column).cloned().unwrap_or_default();
        others.sort_unstable();
        others.dedup();
        for other in others {
            let before = &self.rows[other];
            let o = coefficient(before, column);
            if o != 0 {
                let after = combine(before, k, &row, o)?;
                for (c, _) in &after {
                    if coefficient(before, *c) == 0 {
                        self.rows_of.entry(*c).or_default().push(other);
                    }
                }
                self.rows[other] = after;
            }
        }
        for (c, _) in &row {
            self.rows_of.entry(*c).or_default().push(index);
        }
        self.pivot_rows.insert(column, index);
        self.rows.push(row);
        Some(())
    }
}

/// A row's coefficient of a column (rows are sorted by column).
fn coefficient(row: &Row, column: CellId) -> i128 {
    row.binary_search_by_key(&column, |(c, _)| *c)
        .map_or(0, |i| row[i].1)
}

/// `ka * a - kb * b`, divided by the gcd of its coefficients.
fn combine(a: &Row, ka: i128, b: &Row, kb: i128) -> Option<Row> {
    let mut out: Row = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let (column, value) = match (a.get(i), b.get(j)) {
            (Some(&(ca, va)), Some(&(cb, _))) if ca < cb => {
                i += 1;
                (ca, va.checked_mul(ka)?)
            }
            (Some(&(ca, va)), Some(&(cb, vb))) if ca == cb => {
                i += 1;
                j += 1;
                (ca, va.checked_mul(ka)?.checked_sub(vb.checked_mul(kb)?)?)
            }
            (_, Some(&(cb, vb))) => {
                j += 1;
                (cb, vb.checked_mul(kb)?.checked_neg()?)
            }
            (Some(&(ca, va)), None) => {
                i += 1;
                (ca, va.checked_mul(ka)?)
            }
            (None, None) => break,
        };
        if value != 0 {
            out.push((column, value));
        }
    }
    let divisor = out.iter().fold(0, |g, (_, k)| gcd(g, k.abs()));
    if divisor > 1 {
        for (_, k) in &mut out {
            *k /= divisor;
        }
    }
    Some(out)
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `parts` summing to a total, with the cells' ids.
    fn one_sum(parts: &[i64]) -> (Table, CellId, Vec<CellId>) {
        let mut table = Table::default();
        let total = table.cell(Cell::Count, parts.iter().sum());
        let cells: Vec<CellId> = parts.iter().map(|v| table.cell(Cell::Count, *v)).collect();
        table.sum(total, cells.clone());
        (table, total, cells)
    }

    fn withheld(suppression: &Suppression, cells: &[CellId]) -> Vec<bool> {
        cells.iter().map(|c| suppression.is_withheld(*c)).collect()
    }

    #[test]
    fn large_cells_and_zeros_are_shown() {
        let (table, total, cells) = one_sum(&[12, 0, 7]);
        let s = table.suppress();
        assert!(!s.is_withheld(total));
        assert_eq!(withheld(&s, &cells), [false, false, false]);
    }

    #[test]
    fn a_lone_small_cell_takes_the_smallest_non_zero_sibling_with_it() {
        let (table, total, cells) = one_sum(&[40, 3, 0, 9, 25]);
        let s = table.suppress();
        assert!(!s.is_withheld(total), "the total stays");
        assert_eq!(withheld(&s, &cells), [false, true, false, true, false]);
    }

    #[test]
    fn two_small_cells_protect_each_other() {
        let (table, total, cells) = one_sum(&[20, 2, 3]);
        let s = table.suppress();
        assert!(!s.is_withheld(total));
        assert_eq!(withheld(&s, &cells), [false, true, true]);
    }

    #[test]
    fn a_small_total_takes_a_part_with_it() {
        let (table, total, cells) = one_sum(&[3, 0]);
        let s = table.suppress();
        assert!(s.is_withheld(total) && s.is_withheld(cells[0]));
        assert!(!s.is_withheld(cells[1]));
    }

    #[test]
    fn an_unlisted_small_remainder_withholds_a_shown_cell() {
        // 20 registered, 18 paired: the 2 unpaired would be 20 - 18.
        let mut table = Table::default();
        let registered = table.cell(Cell::Count, 20);
        let paired = table.cell(Cell::Count, 18);
        let unpaired = table.cell(Cell::Unlisted, 2);
        table.sum(registered, vec![paired, unpaired]);
        let s = table.suppress();
        assert!(s.is_withheld(unpaired) && s.is_withheld(paired));
        assert!(!s.is_withheld(registered));
    }

    #[test]
    fn a_large_unlisted_remainder_needs_nothing() {
        let mut table = Table::default();
        let registered = table.cell(Cell::Count, 20);
        let paired = table.cell(Cell::Count, 12);
        let unpaired = table.cell(Cell::Unlisted, 8);
        table.sum(registered, vec![paired, unpaired]);
        let s = table.suppress();
        assert!(!s.is_withheld(paired) && !s.is_withheld(registered));
    }

    #[test]
    fn people_go_with_their_households() {
        let (mut table, _, cells) = one_sum(&[30, 2, 9]);
        let people = table.cell(Cell::Figure, 7);
        table.together(cells[1], people);
        let s = table.suppress();
        assert!(s.is_withheld(people));
    }

    #[test]
    fn withheld_zeros_stay_shown() {
        let (mut table, _, cells) = one_sum(&[30, 0, 9]);
        table.withhold(cells[1]);
        assert!(!table.suppress().is_withheld(cells[1]));
    }

    /// Regions (rows: a parent and two children) by category (columns).
    fn region_by_category(children: [[i64; 3]; 2]) -> (Table, Vec<Vec<CellId>>) {
        let mut table = Table::default();
        let parent: Vec<i64> = (0..3).map(|k| children[0][k] + children[1][k]).collect();
        let mut rows = Vec::new();
        for values in [parent.as_slice(), &children[0], &children[1]] {
            let total = table.cell(Cell::Count, values.iter().sum());
            let mut row = vec![total];
            row.extend(values.iter().map(|v| table.cell(Cell::Count, *v)));
            table.sum(total, row[1..].to_vec());
            rows.push(row);
        }
        for ((total, a), b) in rows[0].iter().zip(&rows[1]).zip(&rows[2]) {
            table.sum(*total, vec![*a, *b]);
        }
        (table, rows)
    }

    #[test]
    fn a_child_cell_cannot_be_read_off_its_parent() {
        let (table, rows) = region_by_category([[10, 2, 30], [20, 15, 12]]);
        let s = table.suppress();
        assert!(s.is_withheld(rows[1][2]));
        assert!(
            s.is_withheld(rows[2][2]),
            "the other child's cell of the category is withheld too"
        );
        assert_eq!(table.determined(&s.withheld), Vec::<CellId>::new());
    }

    #[test]
    fn cells_determined_only_by_sums_together_are_found_and_protected() {
        // Two 2 x 2 blocks of withheld cells joined by one more withheld cell
        // (x13): every row and column has two withheld cells, yet
        // row1 - col1 - col2 + row2 leaves x13 alone.
        let mut table = Table::default();
        let x: Vec<Vec<CellId>> = (0..4)
            .map(|_| (0..4).map(|_| table.cell(Cell::Count, 20)).collect())
            .collect();
        let rows: Vec<CellId> = (0..4).map(|_| table.cell(Cell::Count, 80)).collect();
        let columns: Vec<CellId> = (0..4).map(|_| table.cell(Cell::Count, 80)).collect();
        for i in 0..4 {
            table.sum(rows[i], x[i].clone());
            table.sum(columns[i], (0..4).map(|r| x[r][i]).collect());
        }
        for (r, c) in [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
            (0, 2),
        ] {
            table.withheld[x[r][c]] = true;
        }
        let mut hidden = table.withheld.clone();
        assert_eq!(table.determined(&hidden), vec![x[0][2]]);
        let s = table.suppress();
        hidden.clone_from(&s.withheld);
        assert_eq!(table.determined(&hidden), Vec::<CellId>::new());
    }

    #[test]
    fn overlapping_totals_as_nested_sums_keep_the_remainder_hidden() {
        // poor = enrolled + returned, registered = poor + lifted out: with
        // lifted out small, registered - poor would give it.
        let mut table = Table::default();
        let enrolled = table.cell(Cell::Count, 10);
        let returned = table.cell(Cell::Count, 6);
        let lifted = table.cell(Cell::Count, 3);
        let poor = table.cell(Cell::Count, 16);
        let registered = table.cell(Cell::Count, 19);
        table.sum(poor, vec![enrolled, returned]);
        table.sum(registered, vec![poor, lifted]);
        let s = table.suppress();
        assert!(s.is_withheld(lifted));
        assert!(s.is_withheld(poor) || s.is_withheld(registered));
        assert_eq!(table.determined(&s.withheld), Vec::<CellId>::new());
    }

    #[test]
    fn the_echelon_form_solves_what_is_solvable() {
        let mut echelon = Echelon::default();
        // a + b = k, b - c = k', a + c = k'' : a = (k + k'' - k') / 2.
        for row in [
            vec![(0, 1), (1, 1)],
            vec![(1, 1), (2, -1)],
            vec![(0, 1), (2, 1)],
        ] {
            echelon.add(row).expect("small numbers");
        }
        let alone: Vec<CellId> = echelon
            .rows
            .iter()
            .filter(|r| r.len() == 1)
            .map(|r| r[0].0)
            .collect();
        assert_eq!(
            alone.len(),
            0,
            "a + b = k, b - c, a + c: rank 2, nothing alone"
        );
        echelon.add(vec![(1, 1)]).expect("small numbers");
        assert_eq!(echelon.rows.iter().filter(|r| r.len() == 1).count(), 3);
    }
}
