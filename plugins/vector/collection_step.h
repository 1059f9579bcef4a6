// vector.collection (step 23, provision-vector-store): the tenant's vector store on a Chroma
// server: a Chroma tenant `<tenant_prefix><slug>`, a database in it, and the default collections,
// each with metadata naming the tenant and the distance function of params.
//
// Chroma cannot delete a tenant (405): remove deletes the tenant's database, which takes its
// collections with it, and says that the (empty) Chroma tenant stays. observe: ABSENT when the
// database does not exist (the tenant alone is not our state: it outlives every remove); DRIFTED
// when a collection is missing, its metadata differs, its distance function differs, or a
// collection carrying the tenant's id is no longer in params; else IN_SYNC. apply creates what is
// missing (409 from a concurrent creator is fine), repairs metadata by merging ours into the
// collection's (an update replaces the whole metadata), deletes stale collections of ours, ends
// with a data-plane read (count) of every collection, and writes nothing when in sync. A distance
// function cannot change in place: apply refuses (FAILED_PRECONDITION) instead of deleting data.
// Collections without our metadata (the tenant's own) are left alone.
//
// Params: {tenant_prefix: "matih-", database: main, collections: [documents],
//          space: cosine|l2|ip}. Settings: vector.chroma_url (required), vector.timeout_ms.
// Outputs: chroma_tenant, database, collections, collection_ids, set by apply and by an observe
// that finds everything in sync. The kind is adoptable: tenant, database and collections are named
// by the slug and the params, the collections' generated ids are found by listing them by name,
// and apply again creates nothing twice. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::vector {

class CollectionStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::vector
