// matih-vector: step 23 (provision-vector-store) on a Chroma server's REST API (/api/v2); locally
// the Chroma of scripts/stack.d/chroma.sh.
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   vector.chroma_url    required: the server, e.g. http://127.0.0.1:8000
//   vector.timeout_ms    per HTTP request (default 10000)
// Params and outputs: collection_step.h. No secrets: Chroma's local server has no authentication,
// so the server must be reachable from the platform's network only.
#include <matih/step.hpp>

#include "vector/collection_step.h"

MATIH_PLUGIN("matih-vector", "1.0.0") {
  plugin.setting("vector.chroma_url", "Chroma server URL, e.g. http://127.0.0.1:8000",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("vector.timeout_ms", "timeout of one Chroma request in ms (default 10000)");
  plugin.add<matih::plugins::vector::CollectionStep>(
      "vector.collection",
      "A Chroma tenant, database and default collections per tenant, with tenant metadata");
  plugin.adoptable("vector.collection");
}
