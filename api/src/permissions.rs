//! Who may read which field, and who may call which mutation: the one
//! statement of the field-level policy. Rows are scoped in `access`; this file
//! says, for the rows a reader reaches, which fields it sees in full, masked, or
//! not at all (free text masked by the personal numbers in it, [`Mask::NumbersInText`]).
//! `graphql::guard::PolicyGuard` enforces it on every field resolution, whatever
//! path a query takes to the field (aliases, fragments, `node`, nested lists).

use std::collections::HashMap;
use std::sync::LazyLock;

use entity::enums::Role;

use crate::access::Viewer;
use crate::domain::text::{self, NumberKind};
use crate::error::{ApiError, ApiResult};
use crate::graphql::shape;

/// What a reader gets of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The value as stored.
    Full,
    /// The value with most characters replaced by `*`.
    Masked,
    /// Nothing: null, with a FORBIDDEN error at the field's path.
    Hidden,
}

use Access::{Full as F, Hidden as H, Masked as M};

/// The readers, in the order of every policy row: the public, then each role.
pub const READERS: [&str; 8] = [
    "public",
    "county_admin",
    "township_officer",
    "village_cadre",
    "helper_cadre",
    "enterprise",
    "auditor",
    "provincial_system",
];

/// What `viewer` gets of the field `rule` governs.
pub fn access_of(viewer: &Viewer, rule: &Rule) -> Access {
    rule.access[reader_index(viewer)]
}

fn reader_index(viewer: &Viewer) -> usize {
    match viewer.role() {
        None => 0,
        Some(Role::CountyAdmin) => 1,
        Some(Role::TownshipOfficer) => 2,
        Some(Role::VillageCadre) => 3,
        Some(Role::HelperCadre) => 4,
        Some(Role::Enterprise) => 5,
        Some(Role::Auditor) => 6,
        Some(Role::ProvincialSystem) => 7,
    }
}

/// Anyone who can reach the row sees the field (rows are scoped in `access`).
const ROW: [Access; 8] = [H, F, F, F, F, F, F, F];
/// Identity numbers: in full for the county office, auditors and the province.
const IDENTITY: [Access; 8] = [H, F, M, M, M, H, F, F];
/// What a masked identity would give away (a birth date is in the ID number).
const IDENTITY_DERIVED: [Access; 8] = [H, F, H, H, H, H, F, F];
/// Names: enterprises see them masked.
const NAME: [Access; 8] = [H, F, F, F, F, M, F, F];
/// Contact details: the township sees them masked.
const CONTACT: [Access; 8] = [H, F, M, F, F, H, F, F];
/// Home addresses: not for enterprises.
const ADDRESS: [Access; 8] = [H, F, F, F, F, H, F, F];
/// Health and disability: not for helper cadres or enterprises.
const HEALTH: [Access; 8] = [H, F, F, F, H, H, F, F];
/// Incomes: not for enterprises.
const INCOME: [Access; 8] = [H, F, F, F, F, H, F, F];
/// Anyone may call it, signed in or not.
const ANYONE: [Access; 8] = [F, F, F, F, F, F, F, F];
/// Any signed-in caller.
const SIGNED_IN: [Access; 8] = [H, F, F, F, F, F, F, F];
/// Those who organise assistance within their scope.
const ORGANISERS: [Access; 8] = [H, F, F, F, H, H, H, H];
/// Those who answer for the register's accuracy within their scope, and those
/// who check it: not helper cadres or enterprises.
const REVIEWERS: [Access; 8] = [H, F, F, F, H, H, F, F];
/// The county office alone.
const ADMIN: [Access; 8] = [H, F, H, H, H, H, H, H];
/// The county office and auditors.
const OVERSIGHT: [Access; 8] = [H, F, H, H, H, H, F, H];

/// The township and the county: checks of what villages propose, returns to poverty.
const TOWNSHIP_AND_COUNTY: [Access; 8] = [H, F, F, H, H, H, H, H];
/// Who may know who objected to a public notice: not the village, where the
/// objector lives next to the household; the township, the county and auditors.
const OBJECTOR: [Access; 8] = [H, F, F, H, H, H, F, H];
/// Who sets the poverty and monitoring lines: the county office and the provincial system.
const LINE_SETTERS: [Access; 8] = [H, F, H, H, H, H, H, F];
/// Those who carry out assistance: organisers in their scope and helper cadres
/// for the households paired with them (row scope says which households).
const ASSISTANCE: [Access; 8] = [H, F, F, F, F, H, H, H];
/// Those who follow the progress of assistance: organisers, auditors and the province.
const PROGRESS: [Access; 8] = [H, F, F, F, H, H, F, F];
/// Those who carry out a project: the county office, the township of the
/// project and the implementing enterprise (`access::answers_for_villages`
/// and `access::implements` say which projects).
const PROJECT_WORK: [Access; 8] = [H, F, F, H, H, F, H, H];
/// What a family told a visitor of its hardships: not for enterprises.
const HARDSHIP: [Access; 8] = [H, F, F, F, F, H, F, F];
/// A person paid from public funds: the public ledger shows the surname only.
const PAYEE_PERSON: [Access; 8] = [M, F, F, F, M, M, F, F];

/// Who edits an enterprise's record: the county office, township officers and
/// enterprise users (row ownership is checked in `access::manages_enterprise`).
const ENTERPRISE_EDITORS: [Access; 8] = [H, F, F, H, H, F, H, H];
/// An enterprise's telephone: "the enterprise itself" cannot be told apart
/// from other enterprises here, so all enterprise users see it; not village
/// or helper cadres, nor the public.
const ENTERPRISE_PHONE: [Access; 8] = [H, F, F, H, H, F, F, F];

/// Who reads complaints (投诉举报): the county office, township officers (the
/// complaints concerning their villages: row scope) and auditors.
const SUPERVISION: [Access; 8] = [H, F, F, H, H, H, F, H];

/// A helper cadre's account, named by a pairing: those to whom `access` shows
/// helper cadres' accounts (a helper cadre sees its own).
const HELPER_ACCOUNT: [Access; 8] = [H, F, F, F, F, H, F, H];

/// Who reads the change feed of the whole register: the provincial system,
/// the county office and auditors; and so who checks the audit chain whose
/// heads the feed publishes.
const EXCHANGE: [Access; 8] = [H, F, H, H, H, H, F, F];

/// Who moves whole registers in, and registers webhooks: the county office
/// and the provincial system.
const REGISTER_WRITERS: [Access; 8] = [H, F, H, H, H, H, H, F];

/// Export of the register over HTTP (`GET /exchange/households`). It carries
/// every field of the card, so only readers who see them all in full may
/// call it (a test holds the two together).
pub const EXPORT: Rule = rule("Endpoint", "GET /exchange/households", EXCHANGE);
/// Import of households over HTTP (`POST /exchange/households`).
pub const IMPORT: Rule = rule("Endpoint", "POST /exchange/households", REGISTER_WRITERS);
/// The HTTP endpoints beside GraphQL, as the README's table lists them.
pub const ENDPOINTS: [&Rule; 2] = [&EXPORT, &IMPORT];

/// How a masked value is shown.
#[derive(Debug, Clone, Copy)]
pub enum Mask {
    /// `520102********1234`: region and last four kept.
    IdNumber,
    /// `138****5678`: first three and last four kept; a shorter number keeps
    /// less (`****567`), never more than its last four.
    Phone,
    /// `张*`: the surname kept.
    Name,
    /// `***************6789`: a bank card or other long number, the last four kept.
    CardNumber,
    /// Free text with each personal number in it ([`text::personal_numbers`])
    /// masked in place as its own kind is: `电话 138****5678`.
    NumbersInText,
}

impl Mask {
    /// `value` with all but the kept ends hidden. However short the value, at
    /// least the mask's minimum stays hidden: the end shown shrinks to leave
    /// it, and the start is shown only when the whole mask fits.
    pub fn apply(self, text: &str) -> String {
        let (keep_start, keep_end, min_hidden) = match self {
            Mask::IdNumber => (6, 4, 8),
            Mask::Phone => (3, 4, 4),
            Mask::Name => (1, 0, 1),
            Mask::CardNumber => (0, 4, 8),
            Mask::NumbersInText => return mask_numbers_in(text),
        };
        let chars: Vec<char> = text.chars().collect();
        let len = chars.len();
        let hidden = min_hidden.min(len);
        let end = keep_end.min(len - hidden);
        let start = if keep_start + end + hidden <= len {
            keep_start
        } else {
            0
        };
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| if i < start || i >= len - end { *c } else { '*' })
            .collect()
    }
}

fn mask_numbers_in(free_text: &str) -> String {
    let mut chars: Vec<char> = free_text.chars().collect();
    for number in text::personal_numbers(free_text) {
        let mask = match number.kind {
            NumberKind::IdNumber => Mask::IdNumber,
            NumberKind::Phone => Mask::Phone,
            NumberKind::BankCard | NumberKind::LongNumber => Mask::CardNumber,
        };
        let digits: String = number.positions.iter().map(|&i| chars[i]).collect();
        for (&i, shown) in number.positions.iter().zip(mask.apply(&digits).chars()) {
            chars[i] = shown;
        }
    }
    chars.into_iter().collect()
}

/// `value` as `mask` shows it: a text, each text of a list, or null; none
/// when the value is of a kind the mask cannot show.
fn mask_json(mask: Mask, value: serde_json::Value) -> Option<serde_json::Value> {
    match value {
        serde_json::Value::String(text) => Some(serde_json::Value::String(mask.apply(&text))),
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|item| mask_json(mask, item))
            .collect::<Option<_>>()
            .map(serde_json::Value::Array),
        serde_json::Value::Null => Some(serde_json::Value::Null),
        _ => None,
    }
}

/// One row of the policy: a field of a type, what each reader gets, and how masking looks.
#[derive(Clone, Copy)]
pub struct Rule {
    pub type_name: &'static str,
    pub field: &'static str,
    pub access: [Access; 8],
    pub mask: Option<Mask>,
}

const fn rule(type_name: &'static str, field: &'static str, access: [Access; 8]) -> Rule {
    Rule {
        type_name,
        field,
        access,
        mask: None,
    }
}

const fn masked(
    type_name: &'static str,
    field: &'static str,
    access: [Access; 8],
    mask: Mask,
) -> Rule {
    Rule {
        type_name,
        field,
        access,
        mask: Some(mask),
    }
}

/// Free text (notes, reasons, descriptions, notices): readers get it as
/// `base` says, but with every personal number in it masked unless they read
/// ID numbers in full. Numbers are refused when free text is written
/// (`domain::text::free_text`); the mask covers what was stored before, or
/// came in by import.
const fn text(type_name: &'static str, field: &'static str, base: [Access; 8]) -> Rule {
    masked(type_name, field, numbers_masked(base), Mask::NumbersInText)
}

const fn numbers_masked(base: [Access; 8]) -> [Access; 8] {
    let mut access = base;
    let mut reader = 0;
    while reader < access.len() {
        if matches!(access[reader], Access::Full) && !matches!(IDENTITY[reader], Access::Full) {
            access[reader] = Access::Masked;
        }
        reader += 1;
    }
    access
}

/// The reason a change to a person's record gives, kept in its audit entry:
/// it says why, not who the person is, so it is shown as free text.
const CHANGE_REASON: Rule = text("Change", "reason", ROW);

/// The types that describe people; every one of their fields has a rule.
pub const SENSITIVE_TYPES: [&str; 12] = [
    "Household",
    "CardAsOf",
    "Member",
    "HouseholdIncome",
    "LivingConditions",
    "Guarantees",
    "Ethnicity",
    "VillageStaff",
    "Visit",
    "BenefitLink",
    "Complaint",
    "Pairing",
];

/// The policy. Fields of other types are public within the rows a reader reaches.
pub const POLICY: &[Rule] = &[
    rule("Household", "id", ROW),
    rule("Household", "number", ROW),
    rule("Household", "village", ROW),
    text("Household", "address", ADDRESS),
    masked("Household", "phone", CONTACT, Mask::Phone),
    rule("Household", "attribute", ROW),
    rule("Household", "identificationStandard", ROW),
    rule("Household", "status", ROW),
    rule("Household", "enrolledYear", ROW),
    rule("Household", "liftedOutYear", ROW),
    rule("Household", "monitoring", ROW),
    rule("Household", "mainCause", ROW),
    rule("Household", "otherCauses", ROW),
    rule("Household", "conditions", ROW),
    rule("Household", "guarantees", ROW),
    rule("Household", "members", ROW),
    rule("Household", "head", ROW),
    rule("Household", "size", ROW),
    rule("Household", "incomes", INCOME),
    rule("Household", "income", INCOME),
    rule("Household", "pairings", ROW),
    rule("Household", "proposals", ROW),
    rule("Household", "statusHistory", ROW),
    rule("Household", "monitoringCases", ROW),
    rule("Household", "cardAsOf", ROW),
    rule("Household", "plan", ROW),
    rule("Household", "visits", ROW),
    rule("Household", "lastVisitedOn", ROW),
    rule("Household", "benefitLinks", ROW),
    rule("Household", "booklet", ROW),
    rule("Household", "loans", INCOME),
    rule("Household", "version", ROW),
    rule("Member", "id", ROW),
    rule("Member", "household", ROW),
    masked("Member", "name", NAME, Mask::Name),
    rule("Member", "gender", ROW),
    masked("Member", "idNumber", IDENTITY, Mask::IdNumber),
    rule("Member", "birthDate", IDENTITY_DERIVED),
    rule("Member", "relation", ROW),
    rule("Member", "ethnicity", ROW),
    rule("Member", "education", ROW),
    rule("Member", "studentStatus", ROW),
    rule("Member", "health", HEALTH),
    rule("Member", "disabilityGrade", HEALTH),
    rule("Member", "labourAbility", ROW),
    rule("Member", "migrantWork", ROW),
    rule("Member", "migrantMonths", ROW),
    rule("Member", "basicMedicalInsurance", ROW),
    rule("Member", "seriousIllnessInsurance", ROW),
    rule("Member", "basicPension", ROW),
    rule("Member", "active", ROW),
    rule("Member", "version", ROW),
    rule("HouseholdIncome", "year", INCOME),
    rule("HouseholdIncome", "wage", INCOME),
    rule("HouseholdIncome", "production", INCOME),
    rule("HouseholdIncome", "property", INCOME),
    rule("HouseholdIncome", "transfer", INCOME),
    rule("HouseholdIncome", "productionCost", INCOME),
    rule("HouseholdIncome", "net", INCOME),
    rule("HouseholdIncome", "householdSize", INCOME),
    rule("HouseholdIncome", "perCapitaNet", INCOME),
    rule("HouseholdIncome", "povertyLine", INCOME),
    rule("HouseholdIncome", "abovePovertyLine", INCOME),
    rule("LivingConditions", "cultivatedLandMu", ROW),
    rule("LivingConditions", "housingAreaM2", ROW),
    rule("LivingConditions", "isDilapidated", ROW),
    rule("LivingConditions", "dilapidatedGrade", ROW),
    rule("LivingConditions", "safeDrinkingWater", ROW),
    rule("LivingConditions", "productionElectricity", ROW),
    rule("LivingConditions", "householdElectricity", ROW),
    rule("LivingConditions", "roadDistanceKm", ROW),
    rule("LivingConditions", "joinedCooperative", ROW),
    rule("Guarantees", "food", ROW),
    rule("Guarantees", "clothing", ROW),
    rule("Guarantees", "compulsoryEducation", ROW),
    rule("Guarantees", "basicMedical", ROW),
    rule("Guarantees", "safeHousing", ROW),
    rule("Guarantees", "safeDrinkingWater", ROW),
    rule("Guarantees", "allMet", ROW),
    rule("CardAsOf", "date", ROW),
    rule("CardAsOf", "since", ROW),
    rule("CardAsOf", "status", ROW),
    rule("CardAsOf", "enrolledYear", ROW),
    rule("CardAsOf", "liftedOutYear", ROW),
    rule("CardAsOf", "monitoring", ROW),
    rule("CardAsOf", "members", ROW),
    rule("CardAsOf", "incomes", INCOME),
    rule("Booklet", "incomes", INCOME),
    rule("Loan", "id", INCOME),
    rule("Loan", "household", INCOME),
    text("Loan", "lender", INCOME),
    rule("Loan", "amount", INCOME),
    text("Loan", "purpose", INCOME),
    rule("Loan", "creditRating", INCOME),
    rule("Loan", "disbursedOn", INCOME),
    rule("Loan", "dueOn", INCOME),
    rule("Loan", "extendedFrom", INCOME),
    rule("Loan", "repaid", INCOME),
    rule("Loan", "owed", INCOME),
    rule("Loan", "status", INCOME),
    rule("Loan", "repayments", INCOME),
    rule("Loan", "version", INCOME),
    rule("LoanRepayment", "amount", INCOME),
    rule("LoanRepayment", "repaidOn", INCOME),
    rule("LoanRepayment", "createdAt", INCOME),
    rule("Ethnicity", "code", ROW),
    rule("Ethnicity", "name", ROW),
    rule("VillageStaff", "id", ANYONE),
    rule("VillageStaff", "village", ANYONE),
    rule("VillageStaff", "role", ANYONE),
    rule("VillageStaff", "name", ANYONE),
    rule("VillageStaff", "account", SIGNED_IN),
    rule("VillageStaff", "unit", ANYONE),
    masked("VillageStaff", "phone", CONTACT, Mask::Phone),
    rule("VillageStaff", "startedOn", ANYONE),
    rule("VillageStaff", "endedOn", ANYONE),
    rule("VillageStaff", "version", ANYONE),
    // Who helps a household: the helper's account as far as the reader sees
    // accounts (`access`: not the province nor enterprises), in the change feed too.
    rule("Pairing", "id", ROW),
    rule("Pairing", "helper", HELPER_ACCOUNT),
    rule("Pairing", "unit", ROW),
    rule("Pairing", "household", ROW),
    rule("Pairing", "startedOn", ROW),
    rule("Pairing", "endedOn", ROW),
    rule("Visit", "id", ROW),
    rule("Visit", "household", ROW),
    rule("Visit", "visitor", ROW),
    rule("Visit", "visitedOn", ROW),
    rule("Visit", "help", ROW),
    text("Visit", "notes", HARDSHIP),
    rule("Visit", "latitude", ADDRESS),
    rule("Visit", "longitude", ADDRESS),
    rule("Visit", "photos", HARDSHIP),
    rule("Visit", "createdAt", ROW),
    rule("Enterprise", "contactPerson", SIGNED_IN),
    rule("Enterprise", "contactPhone", ENTERPRISE_PHONE),
    rule("Enterprise", "benefitLinks", SIGNED_IN),
    // Links are scoped to the households a reader reaches, or to an enterprise's
    // own: it sees the income it brings; the notes may tell a family's hardships.
    rule("BenefitLink", "id", ROW),
    rule("BenefitLink", "enterprise", ROW),
    rule("BenefitLink", "household", ROW),
    rule("BenefitLink", "mode", ROW),
    rule("BenefitLink", "startedOn", ROW),
    rule("BenefitLink", "endedOn", ROW),
    rule("BenefitLink", "annualIncome", ROW),
    text("BenefitLink", "note", HARDSHIP),
    rule("BenefitLink", "active", ROW),
    rule("BenefitLink", "version", ROW),
    rule("Mutation", "createEnterprise", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "updateEnterprise", ENTERPRISE_EDITORS),
    rule("Mutation", "recordBenefitLink", ORGANISERS),
    rule("Mutation", "updateBenefitLink", ORGANISERS),
    rule("Mutation", "endBenefitLink", ORGANISERS),
    rule("Query", "enterpriseRanking", ANYONE),
    rule("Mutation", "login", ANYONE),
    rule("Mutation", "clientCredentials", ANYONE),
    rule("Mutation", "refresh", ANYONE),
    rule("Mutation", "logout", ANYONE),
    rule("Mutation", "changePassword", SIGNED_IN),
    rule("Mutation", "reveal", SIGNED_IN),
    rule("Mutation", "createHousehold", ORGANISERS),
    rule("Mutation", "updateHousehold", ORGANISERS),
    rule("Mutation", "addMember", ORGANISERS),
    rule("Mutation", "updateMember", ORGANISERS),
    rule("Mutation", "moveMember", ORGANISERS),
    rule("Mutation", "removeMember", ORGANISERS),
    rule("Mutation", "changeHead", ORGANISERS),
    rule("Mutation", "setIncome", ORGANISERS),
    rule("Mutation", "pairHelper", ORGANISERS),
    rule("Mutation", "endPairing", ORGANISERS),
    rule("Mutation", "propose", ORGANISERS),
    rule("Mutation", "recordObjection", ORGANISERS),
    rule("Mutation", "resolveObjection", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "checkProposal", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "decideProposal", ADMIN),
    rule("Mutation", "withdrawProposal", ORGANISERS),
    rule("Mutation", "returnToPoverty", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "removeHousehold", ADMIN),
    rule("Mutation", "startMonitoring", ORGANISERS),
    rule("Mutation", "eliminateRisk", ORGANISERS),
    rule("Mutation", "setMonitoringLine", LINE_SETTERS),
    rule("Mutation", "setPovertyLine", LINE_SETTERS),
    rule("Mutation", "setProvincialPovertyLine", LINE_SETTERS),
    rule("Mutation", "addVillage", ADMIN),
    rule("Mutation", "updateVillage", ADMIN),
    rule("Mutation", "mergeVillages", ADMIN),
    rule("Mutation", "retireVillage", ADMIN),
    rule("Mutation", "recordVillageSurvey", ORGANISERS),
    rule("Mutation", "proposeVillageExit", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "decideVillageExit", ADMIN),
    rule("Query", "villageExits", ANYONE),
    // A village's poor people as they stand: a small count is withheld from
    // the public in statistics, so it is not shown here either.
    rule("Village", "exitCheck", SIGNED_IN),
    rule("VillageExit", "criteria", SIGNED_IN),
    rule("Mutation", "recordLoan", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "repayLoan", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "extendLoan", TOWNSHIP_AND_COUNTY),
    rule("Query", "microcredit", PROGRESS),
    // Project assets (扶贫项目资产): the county office, or the township of the
    // asset's village (`access::answers_for_villages`), registers and manages them.
    rule("Mutation", "registerAsset", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "updateAsset", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "recordAssetIncome", TOWNSHIP_AND_COUNTY),
    // Sums of public money, for anyone.
    rule("Query", "projectAssets", ANYONE),
    // A household's asset is seen only by those who reach the household (`access`).
    rule("ProjectAsset", "ownerHousehold", ROW),
    rule("Mutation", "addMeasure", ASSISTANCE),
    rule("Mutation", "updateMeasure", ASSISTANCE),
    rule("Mutation", "setMeasureStatus", ASSISTANCE),
    rule("Mutation", "recordVisit", ASSISTANCE),
    rule("Mutation", "createHelperUnit", ADMIN),
    rule("Mutation", "pairUnitWithVillage", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "endUnitPairing", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "appointVillageStaff", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "endVillageStaff", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "createUser", ADMIN),
    rule("Mutation", "disableUser", ADMIN),
    rule("Mutation", "enableUser", ADMIN),
    rule("Mutation", "resetUserPassword", ADMIN),
    rule("Query", "me", SIGNED_IN),
    // Alerts are of rows the subscriber reads (`domain::alert`).
    rule("Subscription", "alerts", SIGNED_IN),
    // Households of the reader's scope (`domain::sync`), shaped as anywhere.
    rule("Query", "sync", SIGNED_IN),
    rule("Query", "planCompletion", PROGRESS),
    rule("Query", "reveals", OVERSIGHT),
    rule("Query", "users", OVERSIGHT),
    rule("Query", "auditEntries", OVERSIGHT),
    rule("Query", "loginAlerts", OVERSIGHT),
    rule("Query", "verifyAuditChain", EXCHANGE),
    rule("Query", "auditChainHead", EXCHANGE),
    rule("Query", "proposals", SIGNED_IN),
    rule("Query", "monitoringLines", SIGNED_IN),
    rule("Query", "publicNotices", ANYONE),
    rule("Objection", "objector", OBJECTOR),
    rule("Query", "dataQuality", REVIEWERS),
    rule("Query", "fundSources", ANYONE),
    rule("Query", "fundSource", ANYONE),
    rule("Query", "fundLedger", ANYONE),
    rule("Query", "fundEntry", ANYONE),
    rule("Query", "fundUtilisation", ANYONE),
    rule("Query", "statistics", ANYONE),
    rule("Query", "assessmentIndicators", ANYONE),
    rule("Query", "assessmentResults", SIGNED_IN),
    rule("Query", "fieldChecks", SIGNED_IN),
    rule("Mutation", "setAssessmentIndicators", ADMIN),
    rule("Mutation", "recordFieldCheck", ADMIN),
    rule("Mutation", "runAssessment", ADMIN),
    masked("FundEntry", "payeePerson", PAYEE_PERSON, Mask::Name),
    text("FundEntry", "note", SIGNED_IN),
    rule("FundEntry", "recordedBy", SIGNED_IN),
    rule("Mutation", "createFundSource", ADMIN),
    rule("Mutation", "updateFundSource", ADMIN),
    rule("Mutation", "allocateFunds", ADMIN),
    rule("Mutation", "disburseFunds", ADMIN),
    rule("Mutation", "reverseFundEntry", ADMIN),
    rule("Mutation", "createProject", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "updateProject", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "setProjectBeneficiaries", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "publishProjectNotice", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "approveProject", ADMIN),
    rule("Mutation", "startProject", PROJECT_WORK),
    rule("Mutation", "reportProjectProgress", PROJECT_WORK),
    rule("Mutation", "completeProject", PROJECT_WORK),
    rule("Mutation", "acceptProject", ADMIN),
    rule("Mutation", "announceProject", TOWNSHIP_AND_COUNTY),
    rule("Project", "beneficiaries", SIGNED_IN),
    rule("ProjectStageChange", "actor", SIGNED_IN),
    rule("Query", "policies", ANYONE),
    rule("Query", "myPolicies", SIGNED_IN),
    rule("Mutation", "createPolicy", ADMIN),
    rule("Mutation", "updatePolicy", ADMIN),
    rule("Mutation", "publishPolicy", ADMIN),
    rule("Mutation", "withdrawPolicy", ADMIN),
    rule("Mutation", "markPolicyRead", SIGNED_IN),
    rule("Policy", "readAt", SIGNED_IN),
    rule("Policy", "readership", OVERSIGHT),
    rule("Policy", "publishedBy", OVERSIGHT),
    rule("Policy", "withdrawnBy", OVERSIGHT),
    // Supervision: anyone complains and follows a complaint by its tracking
    // number; who complained is for the county office and auditors only.
    rule("Mutation", "submitComplaint", ANYONE),
    rule("Query", "complaintByTrackingNumber", ANYONE),
    rule("Query", "complaints", SUPERVISION),
    rule("Mutation", "assignComplaint", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "answerComplaint", TOWNSHIP_AND_COUNTY),
    rule("Mutation", "closeComplaint", TOWNSHIP_AND_COUNTY),
    rule("Complaint", "id", ROW),
    rule("Complaint", "trackingNumber", ROW),
    rule("Complaint", "subjectKind", ROW),
    rule("Complaint", "subject", ROW),
    rule("Complaint", "village", ROW),
    text("Complaint", "content", ROW),
    rule("Complaint", "complainantName", OVERSIGHT),
    rule("Complaint", "complainantPhone", OVERSIGHT),
    rule("Complaint", "status", ROW),
    rule("Complaint", "submittedAt", ROW),
    rule("Complaint", "assignedUnit", ROW),
    text("Complaint", "assignmentNote", ROW),
    rule("Complaint", "assignedOn", ROW),
    rule("Complaint", "deadline", ROW),
    rule("Complaint", "overdue", ROW),
    text("Complaint", "answer", ROW),
    text("Complaint", "rectification", ROW),
    rule("Complaint", "answeredOn", ROW),
    rule("Complaint", "conclusion", ROW),
    rule("Complaint", "closedOn", ROW),
    rule("Complaint", "version", ROW),
    text("ComplaintProgress", "answer", ANYONE),
    text("ComplaintProgress", "rectification", ANYONE),
    // Free text of other types, read by whoever reaches the record.
    text("Proposal", "reason", ANYONE),
    text("Proposal", "evidence", ANYONE),
    text("Proposal", "townshipOpinion", ANYONE),
    text("Proposal", "decisionNote", ANYONE),
    text("Appraisal", "minutesReference", ANYONE),
    text("PublicNotice", "reason", ANYONE),
    text("PaperNotice", "postedBy", ANYONE),
    text("PaperNotice", "postedAt", ANYONE),
    text("PaperNotice", "evidence", ANYONE),
    text("Objection", "content", ANYONE),
    text("Objection", "resolution", ANYONE),
    text("StatusChange", "reason", ANYONE),
    text("MonitoringCase", "eliminationNote", ANYONE),
    text("Measure", "task", ANYONE),
    text("Measure", "standard", ANYONE),
    text("Measure", "responsible", ANYONE),
    text("Project", "name", ANYONE),
    text("Project", "performanceTargets", ANYONE),
    text("Project", "benefitMechanism", ANYONE),
    text("ProjectStageChange", "note", ANYONE),
    text("ProjectAsset", "name", ANYONE),
    text("ProjectAsset", "operator", ANYONE),
    text("FundSource", "name", ANYONE),
    text("Policy", "title", ANYONE),
    text("Policy", "body", ANYONE),
    text("Policy", "withdrawalReason", ANYONE),
    text("Reveal", "purpose", ANYONE),
    rule("Query", "changes", EXCHANGE),
    rule("Query", "webhooks", REGISTER_WRITERS),
    rule("Mutation", "registerWebhook", REGISTER_WRITERS),
    rule("Mutation", "setWebhookActive", REGISTER_WRITERS),
    // Third-party apps and the documents they may run: the county office.
    rule("Query", "clientApps", ADMIN),
    rule("Mutation", "registerClientApp", ADMIN),
    rule("Mutation", "registerAppDocuments", ADMIN),
    rule("Mutation", "setAppTrustedDocumentsOnly", ADMIN),
];

/// A filter, search or sort argument and the fields its answer depends on.
/// How many rows match a condition tells the value compared, so a reader may
/// use the argument only if it reads every one of those fields in full: a
/// hidden income cannot be bisected by ranges, a masked name cannot be
/// unmasked by searching it one more character at a time.
pub struct FilterRule {
    /// The input type and its field, e.g. `HouseholdFilter` and `income`.
    pub input: &'static str,
    pub field: &'static str,
    /// What is compared, when one argument takes several forms (a search by
    /// number or by name); empty otherwise.
    pub form: &'static str,
    /// The fields, as `(type, field)` of the schema, whose values decide the answer.
    pub reads: &'static [(&'static str, &'static str)],
}

const fn filter(
    input: &'static str,
    field: &'static str,
    reads: &'static [(&'static str, &'static str)],
) -> FilterRule {
    FilterRule {
        input,
        field,
        form: "",
        reads,
    }
}

const fn filter_form(
    input: &'static str,
    field: &'static str,
    form: &'static str,
    reads: &'static [(&'static str, &'static str)],
) -> FilterRule {
    FilterRule {
        input,
        field,
        form,
        reads,
    }
}

/// Every filter, search and sort argument, and what it reads. Cursors carry
/// the sort key of a row the reader was shown, so they read what the order does.
pub const FILTERS: &[FilterRule] = &[
    filter("AuditFilter", "entityType", &[("AuditEntry", "entityType")]),
    filter("AuditFilter", "entityId", &[("AuditEntry", "entityId")]),
    filter(
        "AuditFilter",
        "entity",
        &[("AuditEntry", "entityType"), ("AuditEntry", "entityId")],
    ),
    filter("AuditFilter", "actor", &[("AuditEntry", "actor")]),
    filter("AuditFilter", "from", &[("AuditEntry", "at")]),
    filter("AuditFilter", "to", &[("AuditEntry", "at")]),
    filter("ComplaintFilter", "status", &[("Complaint", "status")]),
    filter("ComplaintFilter", "overdue", &[("Complaint", "overdue")]),
    filter("ComplaintFilter", "regionId", &[("Complaint", "village")]),
    filter(
        "ComplaintFilter",
        "subjectKind",
        &[("Complaint", "subjectKind")],
    ),
    filter("EnterpriseFilter", "regionId", &[("Enterprise", "village")]),
    filter("EnterpriseFilter", "kind", &[("Enterprise", "kind")]),
    filter(
        "EnterpriseFilter",
        "industry",
        &[("Enterprise", "industry")],
    ),
    filter(
        "EnterpriseFilter",
        "search",
        &[("Enterprise", "name"), ("Enterprise", "creditCode")],
    ),
    filter("FundLedgerFilter", "projectId", &[("FundEntry", "project")]),
    filter("FundLedgerFilter", "sourceId", &[("FundEntry", "source")]),
    filter("FundLedgerFilter", "kind", &[("FundEntry", "kind")]),
    filter("FundLedgerFilter", "from", &[("FundEntry", "entryDate")]),
    filter("FundLedgerFilter", "to", &[("FundEntry", "entryDate")]),
    filter("FundSourceFilter", "year", &[("FundSource", "year")]),
    filter("FundSourceFilter", "kind", &[("FundSource", "kind")]),
    filter("HouseholdFilter", "regionId", &[("Household", "village")]),
    filter("HouseholdFilter", "status", &[("Household", "status")]),
    filter(
        "HouseholdFilter",
        "attribute",
        &[("Household", "attribute")],
    ),
    filter(
        "HouseholdFilter",
        "cause",
        &[("Household", "mainCause"), ("Household", "otherCauses")],
    ),
    filter(
        "HouseholdFilter",
        "mainCause",
        &[("Household", "mainCause")],
    ),
    filter(
        "HouseholdFilter",
        "monitoring",
        &[("Household", "monitoring")],
    ),
    filter(
        "HouseholdFilter",
        "income",
        &[("Household", "income"), ("HouseholdIncome", "perCapitaNet")],
    ),
    filter_form(
        "HouseholdFilter",
        "search",
        "number",
        &[("Household", "number")],
    ),
    filter_form("HouseholdFilter", "search", "name", &[("Member", "name")]),
    filter_form("HouseholdOrder", "field", "ID", &[("Household", "id")]),
    filter_form(
        "HouseholdOrder",
        "field",
        "NUMBER",
        &[("Household", "number")],
    ),
    // The direction turns whichever order is asked for.
    filter(
        "HouseholdOrder",
        "direction",
        &[("Household", "id"), ("Household", "number")],
    ),
    filter("PolicyFilter", "category", &[("Policy", "category")]),
    filter("PolicyFilter", "status", &[("Policy", "status")]),
    filter("ProjectFilter", "regionId", &[("Project", "villages")]),
    filter("ProjectFilter", "kind", &[("Project", "kind")]),
    filter("ProjectFilter", "status", &[("Project", "status")]),
    filter("ProjectFilter", "year", &[("Project", "year")]),
    filter(
        "ProjectFilter",
        "announcementOverdue",
        &[("Project", "announcementOverdue")],
    ),
    filter("VillageFilter", "regionId", &[("Village", "township")]),
    filter(
        "VillageFilter",
        "isPovertyVillage",
        &[("Village", "isPovertyVillage")],
    ),
    filter("VillageFilter", "exited", &[("Village", "exitYear")]),
    filter("VillageFilter", "name", &[("Village", "name")]),
];

/// What `viewer` gets of a field, rule or not: a field without a rule is read by no one.
fn access_to(viewer: &Viewer, type_name: &str, field: &str) -> Access {
    rule_of(type_name, field).map_or(Access::Hidden, |rule| access_of(viewer, rule))
}

/// The rule of a filter argument in one of its forms.
pub fn filter_rule(input: &str, field: &str, form: &str) -> Option<&'static FilterRule> {
    FILTERS
        .iter()
        .find(|rule| rule.input == input && rule.field == field && rule.form == form)
}

/// Whether `viewer` may filter, search or sort by `input.field` in `form`:
/// only by what it reads in full. `at` names the argument in the error.
pub fn may_filter(
    viewer: &Viewer,
    input: &str,
    field: &str,
    form: &str,
    at: &str,
) -> ApiResult<()> {
    let rule = filter_rule(input, field, form).ok_or_else(|| {
        ApiError::Internal(format!("no filter rule for `{input}.{field}` ({form})"))
    })?;
    match rule
        .reads
        .iter()
        .find(|(type_name, field)| access_to(viewer, type_name, field) != Access::Full)
    {
        None => Ok(()),
        Some((type_name, read)) => Err(ApiError::Forbidden(format!(
            "`{at}` compares `{type_name}.{read}`, which your role does not read in full"
        ))),
    }
}

/// Fields anyone who reaches the row reads in full, type by type: places,
/// projects, money, policies and the service's own records. Each is named
/// one by one, so that a new field is a choice: the policy test fails on a
/// field of any type that has neither a rule above nor a place here.
/// Connections and their edges (`nodes`, `edges`, `node`, `cursor`,
/// `pageInfo`, `totalCount`) carry rows whose own fields have rules.
pub const OPEN_FIELDS: &[(&str, &[&str])] = &[
    (
        "Account",
        &["id", "username", "role", "region", "enterprise", "isActive"],
    ),
    (
        "Appraisal",
        &["heldOn", "attendance", "votesFor", "votesAgainst"],
    ),
    (
        "AssessmentIndicator",
        &["kind", "weight", "target", "lowerIsBetter"],
    ),
    (
        "AssessmentResult",
        &[
            "year",
            "township",
            "helperUnit",
            "score",
            "rank",
            "breakdown",
            "computedAt",
        ],
    ),
    (
        "AssetFigures",
        &[
            "year",
            "assets",
            "value",
            "byKind",
            "idle",
            "disposed",
            "income",
            "distributed",
            "householdsBenefited",
        ],
    ),
    (
        "AssetIncome",
        &[
            "year",
            "amount",
            "distributed",
            "householdsBenefited",
            "createdAt",
        ],
    ),
    ("AssetKindFigure", &["kind", "assets", "value"]),
    ("AttributeFigure", &["attribute", "households"]),
    (
        "AuditChainReport",
        &["entries", "intact", "firstBrokenSequence", "holdsHead"],
    ),
    (
        "AuditEntry",
        &[
            "id",
            "sequence",
            "at",
            "actor",
            "role",
            "action",
            "entityType",
            "entityId",
            "before",
            "after",
            "requestId",
            "hash",
        ],
    ),
    (
        "Booklet",
        &[
            "issuedOn",
            "policies",
            "plan",
            "helpers",
            "contacts",
            "visits",
            "benefitLinks",
        ],
    ),
    ("CauseFigure", &["cause", "households"]),
    (
        "MicrocreditFigures",
        &[
            "loans",
            "households",
            "lent",
            "repaid",
            "owed",
            "overdueLoans",
            "overdueOwed",
        ],
    ),
    (
        "SyncPage",
        &["households", "removed", "endCursor", "hasMore"],
    ),
    (
        "Alert",
        &[
            "kind",
            "at",
            "summary",
            "subjectId",
            "householdId",
            "cursor",
        ],
    ),
    (
        "Change",
        &[
            "cursor",
            "at",
            "action",
            "entityType",
            "id",
            "state",
            "removed",
        ],
    ),
    (
        "ChangePage",
        &["changes", "endCursor", "hasMore", "chainHead"],
    ),
    (
        "ClientApp",
        &[
            "id",
            "name",
            "clientId",
            "trustedDocumentsOnly",
            "documents",
            "version",
            "createdAt",
        ],
    ),
    ("CollectiveIncome", &["year", "amount"]),
    (
        "ComplaintProgress",
        &[
            "trackingNumber",
            "subjectKind",
            "status",
            "submittedAt",
            "assignedUnit",
            "assignedOn",
            "deadline",
            "answeredOn",
            "conclusion",
            "closedOn",
        ],
    ),
    ("County", &["id", "code", "name", "townships"]),
    (
        "DataQualityCheck",
        &["kind", "description", "count", "households"],
    ),
    (
        "Enterprise",
        &[
            "id",
            "name",
            "creditCode",
            "kind",
            "industry",
            "village",
            "version",
            "benefit",
            "projects",
        ],
    ),
    (
        "EnterpriseBenefit",
        &["year", "householdsLinked", "incomeBrought", "investment"],
    ),
    (
        "EnterpriseRank",
        &[
            "rank",
            "enterprise",
            "householdsLinked",
            "incomeBrought",
            "investment",
        ],
    ),
    (
        "FieldCheck",
        &[
            "townshipId",
            "year",
            "kind",
            "sampled",
            "found",
            "checkedOn",
        ],
    ),
    (
        "FundEntry",
        &[
            "id",
            "kind",
            "source",
            "project",
            "amount",
            "entryDate",
            "voucherNumber",
            "payeeKind",
            "payeeOrganisation",
            "reverses",
            "reversedBy",
            "createdAt",
        ],
    ),
    ("FundFigures", &["allocated", "disbursed", "utilisation"]),
    (
        "FundSource",
        &[
            "id",
            "year",
            "kind",
            "documentNumber",
            "amount",
            "donorEnterprise",
            "allocated",
            "disbursed",
            "unallocated",
            "utilisation",
            "version",
        ],
    ),
    (
        "FundUtilisation",
        &[
            "region",
            "projectCount",
            "allocated",
            "disbursed",
            "utilisation",
            "children",
        ],
    ),
    ("HelperUnit", &["id", "name", "kind", "villages"]),
    (
        "IncomeFigures",
        &[
            "households",
            "perCapitaNet",
            "perCapitaWage",
            "perCapitaProduction",
            "perCapitaProperty",
            "perCapitaTransfer",
        ],
    ),
    (
        "IndicatorScore",
        &["kind", "weight", "target", "value", "points"],
    ),
    ("Location", &["latitude", "longitude"]),
    (
        "LoginAlert",
        &[
            "id", "sequence", "at", "account", "reason", "source", "failures", "sources", "since",
        ],
    ),
    (
        "Measure",
        &[
            "id",
            "household",
            "category",
            "deadline",
            "funds",
            "status",
            "completedOn",
            "overdue",
            "version",
        ],
    ),
    (
        "MonitoringCase",
        &[
            "id",
            "household",
            "category",
            "foundBy",
            "risks",
            "startedOn",
            "eliminatedOn",
            "version",
        ],
    ),
    ("MonitoringLine", &["provinceCode", "year", "annual"]),
    ("Node", &["id"]),
    (
        "Objection",
        &[
            "id",
            "proposal",
            "receivedOn",
            "open",
            "upheld",
            "resolvedAt",
            "version",
        ],
    ),
    (
        "PageInfo",
        &["hasPreviousPage", "hasNextPage", "startCursor", "endCursor"],
    ),
    (
        "PairingFigures",
        &["households", "paired", "coverage", "notVisitedIn90Days"],
    ),
    (
        "Plan",
        &[
            "measures",
            "total",
            "done",
            "overdue",
            "cancelled",
            "completionRate",
        ],
    ),
    ("PlanCompletion", &["overall", "children"]),
    (
        "PlanFigures",
        &["measures", "done", "cancelled", "overdue", "completionRate"],
    ),
    (
        "PlanProgress",
        &[
            "region",
            "measures",
            "done",
            "overdue",
            "cancelled",
            "completionRate",
        ],
    ),
    (
        "Policy",
        &[
            "id",
            "category",
            "issuingBody",
            "effectiveOn",
            "audienceRoles",
            "audienceRegions",
            "status",
            "publishedAt",
            "withdrawnAt",
            "version",
        ],
    ),
    ("PolicyReadReceipt", &["policy", "readAt"]),
    ("PolicyReadership", &["overall", "byRegion"]),
    ("PovertyLine", &["year", "annual"]),
    ("ProvincialPovertyLine", &["provinceCode", "year", "annual"]),
    (
        "Project",
        &[
            "id",
            "kind",
            "status",
            "year",
            "implementer",
            "implementerEnterprise",
            "budget",
            "funds",
            "plannedStartDate",
            "plannedEndDate",
            "paperNotice",
            "noticeStartsOn",
            "noticeEndsOn",
            "approvedOn",
            "actualStartDate",
            "actualEndDate",
            "progressPercent",
            "acceptedOn",
            "announcedOn",
            "announcementDueOn",
            "announcementOverdue",
            "villages",
            "beneficiaryCount",
            "history",
            "assets",
            "version",
        ],
    ),
    (
        "ProjectAsset",
        &[
            "id",
            "project",
            "ownerVillage",
            "kind",
            "value",
            "handedOverOn",
            "status",
            "incomes",
            "version",
        ],
    ),
    (
        "ProjectFunds",
        &[
            "allocated",
            "disbursed",
            "undisbursed",
            "utilisation",
            "bySource",
        ],
    ),
    ("ProjectSourceFunds", &["allocated", "disbursed", "source"]),
    (
        "ProjectStageChange",
        &["fromStatus", "toStatus", "effectiveOn", "at"],
    ),
    ("ProjectStatusFigure", &["status", "projects"]),
    (
        "Proposal",
        &[
            "id",
            "kind",
            "origin",
            "appraisal",
            "stage",
            "household",
            "exitYear",
            "noticeStartsOn",
            "noticeEndsOn",
            "paperNotice",
            "noticeBackdated",
            "noticeOpen",
            "objections",
            "townshipCheckedAt",
            "townshipNoticeStartsOn",
            "townshipNoticeEndsOn",
            "townshipPaperNotice",
            "decidedAt",
            "version",
        ],
    ),
    (
        "PublicNotice",
        &[
            "id",
            "proposalId",
            "kind",
            "stage",
            "villageName",
            "townshipName",
            "headName",
            "appraisal",
            "noticeLevel",
            "noticeStartsOn",
            "noticeEndsOn",
            "noticeOpen",
            "announcedOn",
        ],
    ),
    (
        "Query",
        &[
            "node",
            "nodes",
            "county",
            "townships",
            "township",
            "villages",
            "village",
            "households",
            "household",
            "povertyLines",
            "provincialPovertyLines",
            "enterprises",
            "enterprise",
            "projects",
            "project",
            "helperUnits",
        ],
    ),
    ("ReadCounts", &["region", "addressed", "read", "rate"]),
    ("Reveal", &["id", "reader", "targetId", "field", "at"]),
    (
        "Statistics",
        &[
            "region",
            "year",
            "suppressedSmallCells",
            "byStatus",
            "poorHouseholds",
            "poorPeople",
            "ruralPopulation",
            "povertyIncidence",
            "exitThreshold",
            "meetsExitThreshold",
            "exits",
            "returns",
            "byMainCause",
            "byAttribute",
            "income",
            "plans",
            "pairing",
            "projectsByStatus",
            "funds",
            "children",
        ],
    ),
    (
        "StatusChange",
        &[
            "action",
            "fromStatus",
            "toStatus",
            "fromMonitoring",
            "toMonitoring",
            "year",
            "decision",
            "proposal",
            "actor",
            "at",
        ],
    ),
    ("StatusFigure", &["status", "households", "people"]),
    ("SubmitComplaintPayload", &["trackingNumber", "complaint"]),
    (
        "TokenPayload",
        &[
            "accessToken",
            "tokenType",
            "expiresIn",
            "refreshToken",
            "account",
        ],
    ),
    ("Township", &["id", "code", "name", "county", "villages"]),
    (
        "UnitPairing",
        &["id", "unit", "village", "startedOn", "endedOn"],
    ),
    (
        "Village",
        &[
            "id",
            "code",
            "name",
            "township",
            "isPovertyVillage",
            "exitYear",
            "ruralPopulation",
            "location",
            "collectiveIncome",
            "helperUnits",
            "firstSecretary",
            "residentTeam",
            "households",
            "enterprises",
            "projects",
            "version",
            "retiredOn",
            "mergedInto",
            "survey",
            "exits",
        ],
    ),
    ("VillageMerge", &["village", "householdsMoved"]),
    (
        "VillageSurvey",
        &[
            "hardenedRoad",
            "safeDrinkingWater",
            "gridPower",
            "standardClinic",
            "schoolWithinReach",
            "broadband",
            "surveyedOn",
        ],
    ),
    (
        "VillageExitCheck",
        &[
            "poorPeople",
            "ruralPopulation",
            "povertyIncidence",
            "exitThreshold",
            "met",
            "criteria",
        ],
    ),
    ("ExitCriterionStanding", &["criterion", "met", "detail"]),
    (
        "VillageExit",
        &[
            "id",
            "village",
            "stage",
            "reason",
            "proposedAt",
            "noticeStartsOn",
            "noticeEndsOn",
            "noticeOpen",
            "paperNotice",
            "decidedOn",
            "exitYear",
            "opinion",
            "version",
        ],
    ),
    (
        "Webhook",
        &[
            "id",
            "url",
            "eventTypes",
            "active",
            "owner",
            "deliveredThrough",
            "backlog",
            "failures",
            "lastError",
            "nextAttemptAt",
            "deliveries",
            "version",
            "createdAt",
        ],
    ),
    (
        "WebhookDelivery",
        &[
            "eventId",
            "attempt",
            "at",
            "statusCode",
            "error",
            "delivered",
            "durationMs",
        ],
    ),
    ("WebhookRegistration", &["webhook", "secret"]),
    ("AuditChainHead", &["sequence", "hash", "at"]),
];

/// The fields of a connection or an edge: they carry rows, never a value of their own.
pub const CONNECTION_FIELDS: [&str; 6] =
    ["pageInfo", "edges", "nodes", "totalCount", "node", "cursor"];

/// Whether a type is a connection or an edge of one.
pub fn is_connection(type_name: &str) -> bool {
    type_name.ends_with("Connection") || type_name.ends_with("Edge")
}

/// The rules by type and field: looked up on every field a query resolves.
static RULES: LazyLock<HashMap<&str, HashMap<&str, Rule>>> = LazyLock::new(|| {
    let mut rules: HashMap<&str, HashMap<&str, Rule>> = HashMap::new();
    for (type_name, fields) in OPEN_FIELDS {
        for field in *fields {
            rules
                .entry(type_name)
                .or_default()
                .insert(field, rule(type_name, field, ANYONE));
        }
    }
    for rule in POLICY {
        rules
            .entry(rule.type_name)
            .or_default()
            .insert(rule.field, *rule);
    }
    rules
});

/// The rule of a field, if it has one: its row in [`POLICY`], or anyone's
/// for an open field. A field without a rule is read by no one.
pub fn rule_of(type_name: &str, field: &str) -> Option<&'static Rule> {
    RULES.get(type_name)?.get(field)
}

/// A record's snapshot, keyed by the GraphQL fields of `type_name`, as `viewer`
/// may see it: what the conflict errors, the audit trail, the change feed and
/// webhook events show goes through the same rules as the fields, in the form
/// the fields show (enum names, global IDs: [`shape::graphql_form`]). Keys of
/// a sensitive type without a rule are dropped.
pub fn redact(viewer: &Viewer, type_name: &str, snapshot: serde_json::Value) -> serde_json::Value {
    let snapshot = shape::graphql_form(type_name, snapshot);
    let serde_json::Value::Object(fields) = snapshot else {
        return snapshot;
    };
    let sensitive = SENSITIVE_TYPES.contains(&type_name);
    let visible = fields.into_iter().filter_map(|(key, value)| {
        let rule = match rule_of(type_name, &key) {
            Some(rule) => rule,
            None if sensitive && key == "reason" => &CHANGE_REASON,
            None => return (!sensitive).then_some((key, value)),
        };
        match (access_of(viewer, rule), rule.mask) {
            // A record nested in a snapshot (an import's entry holds its
            // household's members) is redacted by its own type's rules.
            (Access::Full, _) => match shape::object_type_of(type_name, &key) {
                Some(nested) => Some((key, redact_nested(viewer, nested, value))),
                None => Some((key, value)),
            },
            (Access::Masked, Some(mask)) => Some((key, mask_json(mask, value)?)),
            _ => None,
        }
    });
    serde_json::Value::Object(visible.collect())
}

fn redact_nested(viewer: &Viewer, type_name: &str, value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Array(items) => serde_json::Value::Array(
            items
                .into_iter()
                .map(|item| redact_nested(viewer, type_name, item))
                .collect(),
        ),
        serde_json::Value::Object(_) => redact(viewer, type_name, value),
        other => other,
    }
}

/// The policy as a Markdown table, as the README carries it.
pub fn markdown_table() -> String {
    let symbol = |access: Access| match access {
        Access::Full => "✓",
        Access::Masked => "masked",
        Access::Hidden => "—",
    };
    let mut table = format!(
        "| field | {} |\n|---|{}\n",
        READERS.join(" | "),
        "---|".repeat(READERS.len())
    );
    for rule in POLICY.iter().chain(ENDPOINTS) {
        let cells: Vec<&str> = rule.access.iter().map(|a| symbol(*a)).collect();
        let name = if rule.type_name == "Endpoint" {
            rule.field.to_owned()
        } else {
            format!("{}.{}", rule.type_name, rule.field)
        };
        table.push_str(&format!("| `{name}` | {} |\n", cells.join(" | ")));
    }
    table.push_str("\nFilters, searches and sorts, and what they compare: refused to a reader who does not read all of it in full.\n\n| argument | form | compares |\n|---|---|---|\n");
    for rule in FILTERS {
        let reads: Vec<String> = rule
            .reads
            .iter()
            .map(|(type_name, field)| format!("`{type_name}.{field}`"))
            .collect();
        table.push_str(&format!(
            "| `{}.{}` | {} | {} |\n",
            rule.input,
            rule.field,
            rule.form,
            reads.join(", ")
        ));
    }
    table.push_str("\nOpen fields: every reader who reaches the row reads them in full.\n\n| type | fields |\n|---|---|\n");
    for (type_name, fields) in OPEN_FIELDS {
        table.push_str(&format!("| `{type_name}` | {} |\n", fields.join(", ")));
    }
    table
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::access::User;

    fn viewer(role: Role) -> Viewer {
        Viewer::User(User {
            id: 1,
            username: "reader".into(),
            role,
            region_prefix: Some("520102001".into()),
            enterprise_id: None,
            app: None,
        })
    }

    fn member() -> serde_json::Value {
        json!({
            "name": "张三",
            "idNumber": "520102198001011234",
            "birthDate": "1980-01-01",
            "health": "healthy",
            "version": 3,
            "passwordHint": "not a field of Member",
        })
    }

    #[test]
    fn a_township_officer_sees_a_member_snapshot_masked() {
        let seen = redact(&viewer(Role::TownshipOfficer), "Member", member());
        assert_eq!(
            seen,
            json!({
                "name": "张三",
                "idNumber": "520102********1234",
                "health": "HEALTHY",
                "version": 3,
            })
        );
    }

    #[test]
    fn a_helper_cadre_does_not_see_health_in_a_snapshot() {
        let seen = redact(&viewer(Role::HelperCadre), "Member", member());
        assert_eq!(seen["idNumber"], "520102********1234");
        assert!(seen.get("health").is_none());
        assert!(seen.get("birthDate").is_none());
        assert_eq!(seen["name"], "张三");
    }

    #[test]
    fn records_nested_in_a_household_snapshot_are_redacted_by_their_own_rules() {
        let card =
            json!({ "address": "新村 8 号", "members": [member()], "incomes": [{ "year": 2020 }] });
        let seen = redact(&viewer(Role::HelperCadre), "Household", card.clone());
        assert_eq!(seen["members"][0]["idNumber"], "520102********1234");
        assert!(seen["members"][0].get("health").is_none());
        assert_eq!(seen["members"][0]["name"], "张三");
        let seen = redact(&viewer(Role::Enterprise), "Household", card);
        assert!(seen.get("incomes").is_none());
    }

    #[test]
    fn unknown_keys_are_dropped_only_for_sensitive_types() {
        let admin = viewer(Role::CountyAdmin);
        let member = redact(&admin, "Member", member());
        assert!(member.get("passwordHint").is_none());
        assert_eq!(member["idNumber"], "520102198001011234");
        assert_eq!(member["birthDate"], "1980-01-01");
        let account = json!({ "username": "qian", "isActive": true, "tokenVersion": 2 });
        assert_eq!(redact(&admin, "Account", account.clone()), account);
        assert_eq!(
            redact(&viewer(Role::TownshipOfficer), "Account", account.clone()),
            account
        );
    }

    #[test]
    fn a_phone_of_any_length_shows_at_most_its_last_four() {
        for len in 1..=20 {
            let phone: String = "13812345678901234567".chars().take(len).collect();
            let shown = Mask::Phone.apply(&phone);
            assert_eq!(shown.chars().count(), len, "{shown}");
            let hidden = shown.chars().filter(|c| *c == '*').count();
            assert!(hidden >= 4.min(len), "{len} digits: {shown}");
            let kept_start = shown.chars().take_while(|c| *c != '*').count();
            let kept_end = shown.chars().rev().take_while(|c| *c != '*').count();
            assert!(kept_end <= 4, "{len} digits: {shown}");
            // The first three go with a full mask only: they name a mobile network.
            assert!(kept_start == 0 || len >= 11, "{len} digits: {shown}");
            assert!(phone.ends_with(&shown[shown.len() - kept_end..]));
        }
        assert_eq!(Mask::Phone.apply("13812345678"), "138****5678");
        assert_eq!(Mask::Phone.apply("8124567"), "****567");
        assert_eq!(Mask::Phone.apply("81234567"), "****4567");
    }

    #[test]
    fn numbers_in_free_text_are_masked_each_as_its_kind() {
        assert_eq!(
            Mask::NumbersInText.apply(
                "身份证 520102198001011234，电话 138-1234-5678，卡号 6222 0210 0112 3456 789；2019年收入 3500 元"
            ),
            "身份证 520102********1234，电话 138-****-5678，卡号 **** **** **** ***6 789；2019年收入 3500 元"
        );
    }

    #[test]
    fn free_text_in_a_snapshot_is_masked_for_readers_without_full_id_numbers() {
        let measure = json!({ "responsible": "王建国 13812345678", "funds": "1.00" });
        let seen = redact(&viewer(Role::VillageCadre), "Measure", measure.clone());
        assert_eq!(seen["responsible"], "王建国 138****5678");
        assert_eq!(seen["funds"], "1.00");
        assert_eq!(
            redact(&viewer(Role::Auditor), "Measure", measure.clone()),
            measure
        );
        let mut changed = member();
        changed["reason"] = json!("迁出，新电话 13812345678");
        let seen = redact(&viewer(Role::TownshipOfficer), "Member", changed);
        assert_eq!(seen["reason"], "迁出，新电话 138****5678");
        let proposal = json!({ "evidence": ["户主 520102198001011234 的收入证明"] });
        let seen = redact(&viewer(Role::TownshipOfficer), "Proposal", proposal);
        assert_eq!(
            seen["evidence"],
            json!(["户主 520102********1234 的收入证明"])
        );
    }

    #[test]
    fn short_names_and_numbers_keep_something_hidden() {
        assert_eq!(Mask::Name.apply("张三"), "张*");
        assert_eq!(Mask::Name.apply("欧阳娜娜"), "欧***");
        assert_eq!(Mask::Name.apply("张"), "*");
        assert_eq!(
            Mask::IdNumber.apply("520102198001011234"),
            "520102********1234"
        );
        assert_eq!(Mask::IdNumber.apply("5201021980"), "********80");
    }
}
