// matih-chaos-faults: a test plugin for the chaos suite (tests/chaos/plugin_faults.py), written
// with the SDK, whose apply() misbehaves where the `faulty` plugin's cannot be reached by a run
// (faulty.hog's observe answers IN_SYNC, so a run never applies it):
//   chaos.hog    observe ABSENT; apply allocates and touches memory without bound (a worker's
//                plugins.worker_memory_limit must stop it)
//   chaos.throw  observe ABSENT; apply throws a std::logic_error (not a matih error) through the
//                SDK's C++ layer
// Called by the runner's worker threads; keeps no state.
#include <cstring>
#include <matih/step.hpp>
#include <stdexcept>
#include <vector>

namespace {

class HogStep final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::Absent(); }
  void apply(matih::Context&) override {
    std::vector<char*> blocks;
    for (;;) {
      char* b = new char[64 << 20];
      std::memset(b, 1, 64 << 20);  // touched, so the pages are really taken
      blocks.push_back(b);
    }
  }
  void remove(matih::Context&) override {}
};

class ThrowStep final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::Absent(); }
  void apply(matih::Context&) override { throw std::logic_error("chaos.throw: a logic_error from apply"); }
  void remove(matih::Context&) override {}
};

}  // namespace

MATIH_PLUGIN("matih-chaos-faults", "0.1.0") {
  plugin.add<HogStep>("chaos.hog", "Test double: apply allocates memory without bound");
  plugin.add<ThrowStep>("chaos.throw", "Test double: apply throws a std::logic_error");
}
