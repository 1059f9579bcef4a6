// A test plugin whose kinds break the idempotency contract on purpose, for `plugins try`:
//   sloppy.counter  every apply adds one to a stored counter and observe always wants one more,
//                   so the observe after apply is DRIFTED, never IN_SYNC;
//   sloppy.sticky   apply stores a secret, remove forgets to delete it, so the observe after
//                   remove is still IN_SYNC instead of ABSENT.
// Both keep their state in the secret store, so they need no server.
#include <matih/step.hpp>
#include <string>

namespace {

class Counter final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    auto n = ctx.secret("count");
    if (!n) return matih::Observation::Absent();
    return matih::Observation::Drifted("applied " + *n + " times; wants one more");
  }
  void apply(matih::Context& ctx) override {
    auto n = ctx.secret("count");
    ctx.put_secret("count", std::to_string(n ? std::stoi(*n) + 1 : 1));
  }
  void remove(matih::Context& ctx) override { ctx.delete_secret("count"); }
};

class Sticky final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    return ctx.secret("marker") ? matih::Observation::InSync() : matih::Observation::Absent();
  }
  void apply(matih::Context& ctx) override { ctx.put_secret("marker", "present"); }
  void remove(matih::Context&) override {}  // the bug: the marker stays
};

}  // namespace

MATIH_PLUGIN("sdk-test-sloppy", "1.0.0") {
  plugin.add<Counter>("sloppy.counter", "Never converges (test double for plugins try)");
  plugin.add<Sticky>("sloppy.sticky", "Remove leaves it in place (test double for plugins try)");
}
