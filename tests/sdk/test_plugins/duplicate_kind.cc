// duplicate_kind: built twice (DUP_PLUGIN_NAME differs), both exporting step kind dup.kind, so
// the host sees one kind name from two plugin files and must refuse the second.
#include <matih/step.hpp>

namespace {
class Nothing final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::InSync(); }
  void apply(matih::Context&) override {}
  void remove(matih::Context&) override {}
};
}  // namespace

MATIH_PLUGIN(DUP_PLUGIN_NAME, "1.0.0") { plugin.add<Nothing>("dup.kind", "Exported by two plugins"); }
