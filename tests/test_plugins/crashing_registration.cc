// A test plugin whose registration function crashes: a store through a null pointer (SIGSEGV)
// before it declares anything; with TEST_PLUGIN_LOAD_FAULT=exit in the environment it calls
// exit(3) instead (a plugin that ends the process it is loaded into). `plugins verify` must survive it, give
// this file the verdict "crashed while loading (signal 11)" and still give every other file its own verdict.
// Built into test-plugins/crashing/, a folder of its own, so no other test loads it by accident.
#include <cstdlib>
#include <cstring>
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
  const char* fault = std::getenv("TEST_PLUGIN_LOAD_FAULT");
  if (fault && std::strcmp(fault, "exit") == 0) std::exit(3);
  StoreThroughNull();
  plugin.add<NeverStep>("crashing.never", "Never registered: the registration crashes first");
}
