// data.search_indices (step 24, create-search-indices): full-text search in PostgreSQL, in the
// tenant's own database of step 21 (same server setting data.<class>.database_url): a schema
// owned by the tenant's role, holding one document table per configured index:
//   id text PRIMARY KEY, title text, body text, metadata jsonb, updated_at timestamptz,
//   tsv tsvector GENERATED ALWAYS AS (title weighted A || body weighted B, in the language's
//   text search configuration) STORED, and a GIN index <table>_tsv_gin on tsv.
// The DDL runs in one transaction under pg_advisory_xact_lock(kSearchLockClass,
// hashtext(<schema>)) (the two-int form, so it never meets Terraform's single-bigint locks),
// because parallel CREATE ... IF NOT EXISTS of the same names collides.
//
// Params (catalog):
//   schema    optional  schema name (default "search"), a plain lowercase identifier
//   language  optional  text search configuration (default "english"), e.g. simple, german
//   tables    required  list of table names (plain lowercase identifiers), at least one
// observe: ABSENT without the schema (or without the tenant's database); DRIFTED when the owner,
// a table, a column, the tsvector's language or generation, or a GIN index differs. apply repairs
// that without touching documents (a wrong tsv column is dropped and generated again). Tables
// that are not configured are the tenant's own and are left alone. remove drops the schema with
// everything in it. apply before step 21 is a permanent error naming it.
// Outputs: schema, tables, set by apply and by an observe that finds the schema in sync. The kind
// is adoptable: the database, schema and tables are named by the slug and the params, and apply
// again creates nothing twice (it converges under the advisory lock). Safe from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::data {

inline constexpr int kSearchLockClass = 0x4d534958;  // "MSIX": matih search indices

class SearchIndicesStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::data
