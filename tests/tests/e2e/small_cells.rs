//! The public statistics give no small cell away: a village with one to four
//! households in some categories, asked about without a token as itself, in
//! its township's villages and under the county, offers the attacker every
//! linear relation the answers hold (parts summing to totals, children to
//! their parent, rates times their bases); solving them all at once by exact
//! elimination leaves every withheld figure, and every small count no field
//! shows (registered less paired, say), undetermined.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, Utc};
use entity::enums::{HouseholdAttribute, HouseholdStatus, PovertyCause, RegionLevel, Relation};
use entity::{helper_pairing, household, member, region};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Value, json};
use tests::{
    Backend, TestApp, first_region, global_id, incomes_recorded_again, on_both_backends, regions,
};

on_both_backends!(no_withheld_figure_of_the_public_statistics_can_be_worked_out);

const STATISTICS: &str = "query($r: ID!, $y: Int!) {
  statistics(regionId: $r, year: $y) { ...F children { ...F } } }
fragment F on Statistics {
  region { id }
  byStatus { status households people }
  poorHouseholds poorPeople ruralPopulation povertyIncidence meetsExitThreshold exits returns
  byMainCause { cause households } byAttribute { attribute households }
  income { households perCapitaNet perCapitaWage perCapitaProduction perCapitaProperty perCapitaTransfer }
  plans { measures done cancelled overdue completionRate }
  pairing { households paired coverage notVisitedIn90Days } }";

/// A village of 17 households: 8 enrolled, 2 returned, 6 lifted out and one
/// removed; of the 16 registered, 10 ill, 5 disabled and 1 short of funds,
/// 13 general and 3 on the minimum living guarantee, 15 with a helper.
async fn build_village(app: &TestApp) -> region::Model {
    let township = first_region(&app.db, RegionLevel::Township).await;
    let sample = regions(&app.db, RegionLevel::Village)
        .await
        .into_iter()
        .find(|v| v.parent_id == Some(township.id))
        .expect("a village of the township");
    let mut village = sample.into_active_model();
    village.id = sea_orm::ActiveValue::NotSet;
    village.code = Set(format!("{}997", &township.code[..9]));
    village.name = Set("小数村".into());
    village.rural_population = Set(Some(300));
    let village = village.insert(&app.db).await.expect("village");

    let sample_home = household::Entity::find()
        .one(&app.db)
        .await
        .expect("query")
        .expect("a household");
    let sample_member = member::Entity::find()
        .filter(member::Column::Relation.eq(Relation::Head))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a member");
    let helper = app.user_for(entity::enums::Role::HelperCadre).await.0;
    let now = Utc::now();
    for i in 0..17 {
        let status = match i {
            0..8 => HouseholdStatus::Enrolled,
            8..10 => HouseholdStatus::Returned,
            10..16 => HouseholdStatus::LiftedOut,
            _ => HouseholdStatus::Removed,
        };
        let cause = match i {
            0..10 => PovertyCause::Illness,
            10..15 => PovertyCause::Disability,
            15 => PovertyCause::LackOfFunds,
            _ => PovertyCause::Other,
        };
        let mut row = sample_home.clone().into_active_model();
        row.id = sea_orm::ActiveValue::NotSet;
        row.number = Set(format!("{}{:05}", village.code, 80_000 + i));
        row.village_id = Set(village.id);
        row.status = Set(status);
        row.attribute = Set(if (13..16).contains(&i) {
            HouseholdAttribute::MinimumLivingGuarantee
        } else {
            HouseholdAttribute::General
        });
        row.main_cause = Set(cause);
        row.monitoring = Set(None);
        row.enrolled_year = Set(Some(2015));
        row.lifted_out_year = Set(matches!(
            status,
            HouseholdStatus::LiftedOut | HouseholdStatus::Returned
        )
        .then_some(2019));
        let home = row.insert(&app.db).await.expect("household");
        for m in 0..2 {
            let mut person = sample_member.clone().into_active_model();
            person.id = sea_orm::ActiveValue::NotSet;
            person.household_id = Set(home.id);
            person.name = Set(format!("小{i}{m}"));
            person.id_number = Set(api::codes::id_number(&format!(
                "5226991902{:02}{:02}{:03}",
                i + 1,
                m + 1,
                200 + m
            )));
            person.relation = Set(if m == 0 {
                Relation::Head
            } else {
                Relation::Son
            });
            person.is_active = Set(true);
            person.insert(&app.db).await.expect("member");
        }
        if i < 15 {
            helper_pairing::ActiveModel {
                helper_id: Set(helper.id),
                household_id: Set(home.id),
                unit: Set(None),
                started_on: Set(chrono::NaiveDate::from_ymd_opt(2019, 1, 1).expect("a day")),
                ended_on: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .expect("pairing");
        }
    }
    village
}

/// An exact fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ratio(i128, i128);

impl Ratio {
    fn new(n: i128, d: i128) -> Ratio {
        fn gcd(a: i128, b: i128) -> i128 {
            if b == 0 { a.abs() } else { gcd(b, a % b) }
        }
        let g = gcd(n, d).max(1) * d.signum();
        Ratio(n / g, d / g)
    }
    fn int(n: i64) -> Ratio {
        Ratio(i128::from(n), 1)
    }
    /// The closest fraction with a denominator up to a million (rates are
    /// counts over counts far smaller).
    fn of(x: f64) -> Ratio {
        let (mut h0, mut h1, mut k0, mut k1) = (0i128, 1i128, 1i128, 0i128);
        let mut rest = x;
        loop {
            let a = rest.floor();
            let (h, k) = (a as i128 * h1 + h0, a as i128 * k1 + k0);
            if k > 1_000_000 {
                break;
            }
            (h0, h1, k0, k1) = (h1, h, k1, k);
            if (rest - a).abs() < 1e-12 || (h as f64 / k as f64 - x).abs() < 1e-12 {
                break;
            }
            rest = 1.0 / (rest - a);
        }
        Ratio::new(h1, k1)
    }
    fn neg(self) -> Ratio {
        Ratio(-self.0, self.1)
    }
    fn is_zero(self) -> bool {
        self.0 == 0
    }
    fn mul(self, o: Ratio) -> Ratio {
        Ratio::new(self.0 * o.0, self.1 * o.1)
    }
    fn add(self, o: Ratio) -> Ratio {
        Ratio::new(self.0 * o.1 + o.0 * self.1, self.1 * o.1)
    }
    fn sub(self, o: Ratio) -> Ratio {
        Ratio::new(self.0 * o.1 - o.0 * self.1, self.1 * o.1)
    }
    fn div(self, o: Ratio) -> Ratio {
        Ratio::new(self.0 * o.1, self.1 * o.0)
    }
}

/// A figure of a region: the region's ID and the figure's path.
type Key = (String, String);

/// The figures of one region in an answer, by path (null when withheld).
fn figures_of(s: &Value) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for row in s["byStatus"].as_array().expect("statuses") {
        let status = row["status"].as_str().expect("a status");
        out.insert(format!("households.{status}"), row["households"].clone());
        out.insert(format!("people.{status}"), row["people"].clone());
    }
    for row in s["byMainCause"].as_array().expect("causes") {
        out.insert(
            format!("cause.{}", row["cause"].as_str().expect("a cause")),
            row["households"].clone(),
        );
    }
    for row in s["byAttribute"].as_array().expect("attributes") {
        out.insert(
            format!(
                "attribute.{}",
                row["attribute"].as_str().expect("an attribute")
            ),
            row["households"].clone(),
        );
    }
    for field in [
        "poorHouseholds",
        "poorPeople",
        "ruralPopulation",
        "povertyIncidence",
        "meetsExitThreshold",
        "exits",
        "returns",
    ] {
        out.insert(field.to_owned(), s[field].clone());
    }
    for (group, fields) in [
        (
            "income",
            &[
                "households",
                "perCapitaNet",
                "perCapitaWage",
                "perCapitaProduction",
                "perCapitaProperty",
                "perCapitaTransfer",
            ][..],
        ),
        (
            "plans",
            &["measures", "done", "cancelled", "overdue", "completionRate"][..],
        ),
        (
            "pairing",
            &["households", "paired", "coverage", "notVisitedIn90Days"][..],
        ),
    ] {
        for field in fields {
            out.insert(format!("{group}.{field}"), s[group][field].clone());
        }
    }
    out
}

/// Figures that add up from children to their parent.
fn is_count(path: &str) -> bool {
    !matches!(
        path,
        "ruralPopulation" | "povertyIncidence" | "meetsExitThreshold"
    ) && !path.starts_with("income.perCapita")
        && !path.ends_with("Rate")
        && path != "pairing.coverage"
}

/// Every region in a set of answers, with its figures, and each parent's children.
#[derive(Default)]
struct Answers {
    figures: HashMap<String, HashMap<String, Value>>,
    children: HashMap<String, Vec<String>>,
}

impl Answers {
    fn add(&mut self, s: &Value) {
        let id = s["region"]["id"].as_str().expect("an ID").to_owned();
        self.add_region(&id, s);
        let children: Vec<String> = s["children"]
            .as_array()
            .expect("children")
            .iter()
            .map(|child| {
                let child_id = child["region"]["id"].as_str().expect("an ID").to_owned();
                self.add_region(&child_id, child);
                child_id
            })
            .collect();
        if !children.is_empty() {
            self.children.insert(id, children);
        }
    }

    /// A region's figures; one already seen must read the same in every answer.
    fn add_region(&mut self, id: &str, s: &Value) {
        let figures = figures_of(s);
        if let Some(seen) = self.figures.get(id) {
            assert_eq!(seen, &figures, "{id} reads alike in every answer");
        }
        self.figures.insert(id.to_owned(), figures);
    }

    fn value(&self, key: &Key) -> Option<Ratio> {
        let v = &self.figures[&key.0][&key.1];
        v.as_i64()
            .map(Ratio::int)
            .or_else(|| v.as_f64().map(Ratio::of))
    }
}

/// The relations the answers offer, each a list of terms summing to zero.
fn relations(public: &Answers) -> Vec<Vec<(Key, Ratio)>> {
    let one = Ratio::int(1);
    let minus = Ratio::int(-1);
    let mut out = Vec::new();
    for (id, figures) in &public.figures {
        let key = |path: &str| (id.clone(), path.to_owned());
        let term = |path: &str, k: Ratio| (key(path), k);
        let households = |status: &str| term(&format!("households.{status}"), minus);
        out.push(vec![
            term("poorHouseholds", one),
            households("ENROLLED"),
            households("RETURNED"),
        ]);
        out.push(vec![
            term("poorPeople", one),
            term("people.ENROLLED", minus),
            term("people.RETURNED", minus),
        ]);
        out.push(vec![
            term("pairing.households", one),
            households("ENROLLED"),
            households("RETURNED"),
            households("LIFTED_OUT"),
        ]);
        for group in ["cause.", "attribute."] {
            let mut sum = vec![term("pairing.households", one)];
            sum.extend(
                figures
                    .keys()
                    .filter(|p| p.starts_with(group))
                    .map(|p| term(p, minus)),
            );
            out.push(sum);
        }
        // The counts no field shows, as unknowns of their own.
        for (part, rest) in [
            ("pairing.paired", "unpaired"),
            ("pairing.notVisitedIn90Days", "visited"),
            ("income.households", "withoutIncome"),
        ] {
            out.push(vec![
                term("pairing.households", one),
                term(part, minus),
                term(rest, minus),
            ]);
        }
        // Rates times their bases.
        if let Some(rate) = public.value(&key("pairing.coverage")) {
            out.push(vec![
                term("pairing.paired", one),
                term("pairing.households", rate.neg()),
            ]);
        }
        if let Some(rate) = public.value(&key("povertyIncidence")) {
            out.push(vec![
                term("poorPeople", one),
                term("ruralPopulation", rate.neg()),
            ]);
        }
        if let Some(rate) = public.value(&key("plans.completionRate")) {
            out.push(vec![
                term("plans.done", one),
                term("plans.measures", rate.neg()),
                term("plans.cancelled", rate),
            ]);
        }
    }
    for (parent, children) in &public.children {
        for path in public.figures[parent].keys().filter(|p| is_count(p)) {
            let mut sum = vec![((parent.clone(), path.clone()), one)];
            sum.extend(children.iter().map(|c| ((c.clone(), path.clone()), minus)));
            out.push(sum);
        }
    }
    out
}

/// The unknowns that the relations fix, by exact elimination to reduced
/// row echelon form: those a row holds alone.
fn determined(relations: &[Vec<(Key, Ratio)>], known: impl Fn(&Key) -> bool) -> BTreeSet<Key> {
    let mut unknowns: Vec<Key> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut rows: Vec<Vec<Ratio>> = Vec::new();
    for relation in relations {
        let mut row: HashMap<usize, Ratio> = HashMap::new();
        for (key, k) in relation.iter().filter(|(key, _)| !known(key)) {
            let column = *index.entry(key.clone()).or_insert_with(|| {
                unknowns.push(key.clone());
                unknowns.len() - 1
            });
            let entry = row.entry(column).or_insert(Ratio(0, 1));
            *entry = entry.add(*k);
        }
        if !row.is_empty() {
            rows.push(
                (0..unknowns.len())
                    .map(|c| row.get(&c).copied().unwrap_or(Ratio(0, 1)))
                    .collect(),
            );
        }
    }
    for row in &mut rows {
        row.resize(unknowns.len(), Ratio(0, 1));
    }
    let mut rank = 0;
    for column in 0..unknowns.len() {
        let Some(pivot) = (rank..rows.len()).find(|r| !rows[*r][column].is_zero()) else {
            continue;
        };
        rows.swap(rank, pivot);
        let lead = rows[rank][column];
        let pivot_row: Vec<Ratio> = rows[rank].iter().map(|v| v.div(lead)).collect();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != rank && !row[column].is_zero() {
                let k = row[column];
                for (v, p) in row.iter_mut().zip(&pivot_row) {
                    *v = v.sub(k.mul(*p));
                }
            }
        }
        rows[rank] = pivot_row;
        rank += 1;
    }
    rows.iter()
        .filter_map(|row| {
            let mut nonzero = row.iter().enumerate().filter(|(_, v)| !v.is_zero());
            match (nonzero.next(), nonzero.next()) {
                (Some((c, _)), None) => Some(unknowns[c].clone()),
                _ => None,
            }
        })
        .collect()
}

async fn no_withheld_figure_of_the_public_statistics_can_be_worked_out(backend: Backend) {
    let (app, _) = TestApp::seeded(&backend, 120).await;
    // The year kept as the register goes: its figures follow the rows built below.
    let year = api::domain::calendar::today().year();
    incomes_recorded_again(&app.db, 2020, year).await;
    let village = build_village(&app).await;
    let county = first_region(&app.db, RegionLevel::County).await;
    let asked = [
        global_id("Village", village.id),
        global_id("Township", village.parent_id.expect("a township")),
        global_id("County", county.id),
    ];
    let (mut public, mut full) = (Answers::default(), Answers::default());
    for region in &asked {
        let vars = json!({ "r": region, "y": year });
        let answer = app.query_as(None, STATISTICS, vars.clone()).await;
        public.add(&answer["statistics"]);
        full.add(&app.query(STATISTICS, vars).await["statistics"]);
    }

    // What is shown is true, and what is derived from a withheld figure is withheld.
    let ours = &asked[0];
    for (id, figures) in &public.figures {
        for (path, value) in figures {
            if !value.is_null() {
                assert_eq!(value, &full.figures[id][path], "{id} {path}");
            }
        }
        if figures["povertyIncidence"].is_null() {
            assert!(figures["meetsExitThreshold"].is_null(), "{id}");
        }
        if figures["income.households"].is_null() {
            assert!(figures["income.perCapitaNet"].is_null(), "{id}");
        }
    }
    for path in ["households.RETURNED", "cause.LACK_OF_FUNDS"] {
        assert!(public.figures[ours][path].is_null(), "{path} is withheld");
    }

    // The cells to protect: every withheld figure, and every count of one to
    // four households that no field shows.
    let mut protected: BTreeSet<Key> = BTreeSet::new();
    for (id, figures) in &public.figures {
        protected.extend(
            figures
                .iter()
                .filter(|(_, v)| v.is_null())
                .map(|(path, _)| (id.clone(), path.clone())),
        );
        let registered = full.figures[id]["pairing.households"]
            .as_i64()
            .expect("a count");
        for (part, rest) in [
            ("pairing.paired", "unpaired"),
            ("pairing.notVisitedIn90Days", "visited"),
            ("income.households", "withoutIncome"),
        ] {
            let n = registered - full.figures[id][part].as_i64().expect("a count");
            if (1..5).contains(&n) {
                protected.insert((id.clone(), rest.to_owned()));
            }
        }
    }
    assert!(protected.contains(&(ours.clone(), "unpaired".to_owned())));
    let relations = relations(&public);
    let known = |key: &Key| {
        public
            .figures
            .get(&key.0)
            .and_then(|f| f.get(&key.1))
            .is_some_and(|v| !v.is_null())
    };
    let solved: Vec<Key> = determined(&relations, known)
        .into_iter()
        .filter(|key| protected.contains(key))
        .collect();
    assert!(
        solved.is_empty(),
        "worked out from the public answers: {solved:?}"
    );
}
