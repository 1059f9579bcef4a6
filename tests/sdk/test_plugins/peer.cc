// peer: a second plugin beside probe, for the secret namespaces of step ABI 1.2.
//
//   test.peer_read    apply: outputs what it can read: its own "db-password" (probe stored one
//                     under the same name: namespaces keep them apart), probe's shared
//                     "shared/token", and probe's unshared "private/token" (refused).
//   test.peer_epoch   apply: outputs the lease epoch the host handed over.
// Declares its settings, one of them a credential, so the host can check [targets] keys.
#include <functional>
#include <matih/step.hpp>
#include <optional>
#include <string>

namespace {

// "absent", "error:<status>", "equals" or "differs": never the value itself.
std::string Describe(const std::function<std::optional<std::string>()>& read, const std::string& expected) {
  try {
    auto value = read();
    if (!value) return "absent";
    return *value == expected ? "equals" : "differs";
  } catch (const matih::Error& e) {
    return "error:" + std::to_string(e.code());
  }
}

class PeerRead final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::Absent(); }
  void apply(matih::Context& ctx) override {
    ctx.set_output("own", Describe([&] { return ctx.secret("db-password"); }, "-"));
    ctx.set_output(
        "shared", Describe([&] { return ctx.shared_secret("probe", "shared/token"); }, "shared-token-value"));
    ctx.set_output("private", Describe([&] { return ctx.shared_secret("probe", "private/token"); },
                                       "private-token-value"));
    ctx.info("peer token is " + ctx.required_setting("peer.token"));
  }
  void remove(matih::Context&) override {}
};

class PeerEpoch final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::Absent(); }
  void apply(matih::Context& ctx) override {
    ctx.set_output("lease_epoch", std::to_string(ctx.lease_epoch()));
  }
  void remove(matih::Context&) override {}
};

}  // namespace

MATIH_PLUGIN("peer", "1.0.0") {
  plugin.setting("peer.url", "where the peer's target lives", MATIH_SETTING_REQUIRED);
  plugin.setting("peer.token", "the peer's credential", MATIH_SETTING_SECRET);
  plugin.setting("peer.limit.*", "per-tier limits, peer.limit.<tier>");
  plugin.add<PeerRead>("test.peer_read", "Reads its own and probe's secrets");
  plugin.add<PeerEpoch>("test.peer_epoch", "Reports the lease epoch");
}
