// Lints ../schema.graphql with graphql-eslint's recommended schema rules and
// its Relay rules. tests/tests/e2e/schema.rs runs it from the workspace root:
//
//   npm ci --prefix lint
//   lint/node_modules/.bin/eslint --config lint/eslint.config.mjs schema.graphql
//
// Each rule below that differs from the two presets says why.
import graphqlPlugin from "@graphql-eslint/eslint-plugin";

// Objects without identity of their own, read through the object or query
// that gives them; docs/scalars.md says so to client developers. Each is
// named, so that a new type without an `id` is a choice, not an accident.
const VALUE_TYPES = [
  // Figures and reports, computed when read.
  "AuditChainReport",
  "DataQualityCheck",
  "FundUtilisation",
  "PlanCompletion",
  "PlanProgress",
  "PolicyReadership",
  "ReadCounts",
  "Statistics",
  "VillageExitCheck",
  "ExitCriterionStanding",
  "IndicatorScore",
  "EnterpriseBenefit",
  "EnterpriseRank",
  "ProjectFunds",
  "ProjectSourceFunds",
  // Parts of one record, read through it: a household's card, plan, booklet
  // and yearly incomes, a proposal's appraisal and notice, a village's survey.
  "Appraisal",
  "Booklet",
  "CardAsOf",
  "CollectiveIncome",
  "ComplaintProgress",
  "Ethnicity",
  "Guarantees",
  "HouseholdIncome",
  "LivingConditions",
  "Location",
  "PaperNotice",
  "Plan",
  "VillageSurvey",
  // Entries of a record's history or ledger, listed under it in order.
  "AssessmentIndicator",
  "AssessmentResult",
  "AssetIncome",
  "FieldCheck",
  "LoanRepayment",
  "PolicyReadReceipt",
  "ProjectStageChange",
  "StatusChange",
  "VillageMerge",
  "WebhookDelivery",
  // Yearly lines, keyed by province and year.
  "MonitoringLine",
  "PovertyLine",
  "ProvincialPovertyLine",
  // The audit chain's head, a page of the change feed, a registration's answer,
  // a live alert (it names its subject's ID), a page of a field app's sync.
  "Alert",
  "AuditChainHead",
  "SyncPage",
  "ChangePage",
  "WebhookRegistration",
];

export default [
  {
    files: ["schema.graphql"],
    languageOptions: {
      parser: graphqlPlugin.parser,
      parserOptions: {
        graphQLConfig: { schema: "schema.graphql" },
      },
    },
    plugins: { "@graphql-eslint": graphqlPlugin },
    rules: {
      ...graphqlPlugin.configs["flat/schema-recommended"].rules,
      ...graphqlPlugin.configs["flat/schema-relay"].rules,
      // Stricter than the preset: every field, argument, input field and enum
      // value is described too, as the schema test also demands; but the
      // arguments of the directives the GraphQL specification defines are as
      // the specification leaves them.
      "@graphql-eslint/require-description": [
        "error",
        {
          types: true,
          rootField: true,
          DirectiveDefinition: true,
          FieldDefinition: true,
          InputValueDefinition: true,
          EnumValueDefinition: true,
          ignoredSelectors: [
            "DirectiveDefinition[name.value=/^(include|skip|deprecated|specifiedBy|oneOf)$/] > InputValueDefinition",
          ],
        },
      ],
      // Every object with identity has `id: ID!`; value types and Relay's
      // wrappers have none.
      "@graphql-eslint/strict-id-in-types": [
        "error",
        {
          acceptedIdNames: ["id"],
          acceptedIdTypes: ["ID"],
          exceptions: {
            suffixes: ["Connection", "Edge", "Payload", "Figure", "Figures"],
            types: ["PageInfo", ...VALUE_TYPES],
          },
        },
      ],
      // Edge nodes must be Nodes, as the preset says; but a plain list is a
      // documented choice where the list is bounded by its parent (a
      // household's members, a year's figures), for each connection's `nodes`
      // shortcut and for `nodes(ids:)`, so lists need not wrap edges.
      "@graphql-eslint/relay-edge-types": [
        "error",
        { withEdgeSuffix: true, shouldImplementNode: true, listTypeCanWrapOnlyEdgeType: false },
      ],
      // It reads words, not names: `Visit.visitor` and `Visit.visitedOn` start
      // with "visit" without repeating the type's name, and renaming them would
      // break every client that reads them.
      "@graphql-eslint/no-typename-prefix": "off",
    },
  },
];
