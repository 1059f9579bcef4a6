// A test plugin whose registration function crashes: a store through a null pointer (SIGSEGV)
// before it declares anything. `plugins verify` must survive it, give this file the verdict
// "crashed while loading (signal 11)" and still give every other file its own verdict.
// Built into test-plugins/crashing/, a folder of its own, so no other test loads it by accident.
#include <matih/step.hpp>

namespace {

// The null pointer comes from a volatile global, so the compiler cannot see it is null (and turn
// the store into a trap). Not instrumented: under the sanitizers the store must still be a real
// SIGSEGV, not a report that ends the process some other way.
int* volatile g_nowhere = nullptr;

__attribute__((noinline, no_sanitize("address", "undefined"))) void StoreThroughNull() { *g_nowhere = 17; }

class NeverStep : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::InSync(); }
  void apply(matih::Context&) override {}
  void remove(matih::Context&) override {}
};

}  // namespace

MATIH_PLUGIN("matih-test-crashing", "0.1.0") {
  StoreThroughNull();
  plugin.add<NeverStep>("crashing.never", "Never registered: the registration crashes first");
}
