// probe: a test plugin that reports what the host services hand it, and exercises secrets.
//
//   test.echo          observe: DRIFTED with a diff naming the tenant. apply: copies every host
//                      value into an output, so a test can compare them with the StepCall.
//   test.secret_put    apply: stores the setting "test.secret_value" as secret "db-password".
//   test.secret_check  apply: reads "db-password"; output "matches" says whether it equals the
//                      setting "test.secret_value". Never prints the value itself.
//   test.secret_leak   apply: reads "db-password" and tries every way to leak it (log line,
//                      output, message); the host must keep it out of all of them.
//   test.validated     validate_params: refuses params that lack "size".
//   test.wait_cancel   apply: polls the cancellation flag, as a long step should.
//   test.secret_share  apply: stores "shared/token" (shared with other plugins) and
//                      "private/token" (not shared). remove: deletes both.
//   test.secret_delete apply: deletes "db-password".
#include <matih/step.hpp>
#include <string>

namespace {

class Echo final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    return matih::Observation::Drifted("tenant " + ctx.slug() + " differs");
  }
  void apply(matih::Context& ctx) override {
    ctx.set_output("tenant_id", ctx.tenant_id());
    ctx.set_output("slug", ctx.slug());
    ctx.set_output("tier", ctx.tier());
    ctx.set_output("spec", ctx.spec_json());
    ctx.set_output("step", ctx.step_name());
    ctx.set_output("params", ctx.params_json());
    ctx.set_output("run", ctx.run_id());
    ctx.set_output("setting", ctx.setting("test.setting").value_or("<none>"));
    ctx.set_output("missing_setting", ctx.setting("test.no_such_setting").value_or("<none>"));
    ctx.set_output("earlier", ctx.output("earlier-step", "key").value_or("<none>"));
    ctx.set_output("own_previous", ctx.output(ctx.step_name(), "previous").value_or("<none>"));
    ctx.set_output("roundtrip_source", "set in this call");
    ctx.set_output("roundtrip", ctx.output(ctx.step_name(), "roundtrip_source").value_or("<none>"));
    ctx.set_output("deadline_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     ctx.deadline().time_since_epoch())
                                                     .count()));
    ctx.set_output("dry_run", ctx.dry_run() ? "yes" : "no");
    ctx.set_output("cancelled", ctx.cancelled() ? "yes" : "no");
    ctx.set_output("extension", ctx.extension("matih.none", 1) ? "some" : "none");
    ctx.log(MATIH_LOG_INFO, "echo applied", "probe.cc", 42);
  }
  void remove(matih::Context& ctx) override { ctx.info("echo removed"); }
};

class SecretPut final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    return ctx.secret("db-password") ? matih::Observation::InSync() : matih::Observation::Absent();
  }
  void apply(matih::Context& ctx) override {
    ctx.put_secret("db-password", ctx.required_setting("test.secret_value"));
    ctx.set_output("stored", "db-password");
    ctx.info("stored the database password");
  }
  void remove(matih::Context&) override {}
};

class SecretCheck final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::Absent(); }
  void apply(matih::Context& ctx) override {
    auto value = ctx.secret("db-password");
    if (!value) throw matih::PermanentError("secret db-password is missing", MATIH_STATUS_NOT_FOUND);
    ctx.set_output("matches", *value == ctx.required_setting("test.secret_value") ? "yes" : "no");
    ctx.info("checked the database password");
  }
  void remove(matih::Context&) override {}
};

class SecretLeak final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::Absent(); }
  void apply(matih::Context& ctx) override {
    const std::string value = ctx.secret("db-password").value_or("");
    ctx.info("the password is " + value);
    ctx.log(MATIH_LOG_WARN, value);
    try {
      ctx.set_output("password", "prefix-" + value);
      ctx.set_output("leak_refused", "no");
    } catch (const matih::Error& e) {
      ctx.set_output("leak_refused", "yes");
    }
    throw matih::PermanentError("could not use password " + value);
  }
  void remove(matih::Context&) override {}
};

class Validated final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::InSync(); }
  void apply(matih::Context&) override {}
  void remove(matih::Context&) override {}
  void validate_params(std::string_view params) override {
    if (params.find("\"size\"") == std::string_view::npos) throw matih::InvalidArgument("params need a size");
  }
};

class WaitCancel final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { return matih::Observation::Absent(); }
  void apply(matih::Context& ctx) override {
    for (int i = 0; i < 1000; ++i) ctx.check_cancelled();
    ctx.set_output("finished", "yes");
  }
  void remove(matih::Context&) override {}
};

class SecretShare final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    return ctx.secret("shared/token") ? matih::Observation::InSync() : matih::Observation::Absent();
  }
  void apply(matih::Context& ctx) override {
    ctx.put_secret("shared/token", "shared-token-value");
    ctx.put_secret("private/token", "private-token-value");
  }
  void remove(matih::Context& ctx) override {
    ctx.delete_secret("shared/token");
    ctx.delete_secret("private/token");
  }
};

class SecretDelete final : public matih::Step {
 public:
  matih::Observation observe(matih::Context& ctx) override {
    return ctx.secret("db-password") ? matih::Observation::Drifted("db-password still stored")
                                     : matih::Observation::InSync();
  }
  void apply(matih::Context& ctx) override { ctx.delete_secret("db-password"); }
  void remove(matih::Context&) override {}
};

}  // namespace

MATIH_PLUGIN("probe", "2.3.4") {
  plugin.add<Echo>("test.echo", "Copies the host's values into outputs");
  plugin.add<SecretPut>("test.secret_put", "Stores a secret");
  plugin.add<SecretCheck>("test.secret_check", "Reads a secret and compares it");
  plugin.add<SecretLeak>("test.secret_leak", "Tries to leak a secret");
  plugin.add<Validated>("test.validated", "Refuses params without a size");
  plugin.add<WaitCancel>("test.wait_cancel", "Stops when the host cancels");
  plugin.add<SecretShare>("test.secret_share", "Stores a shared and a private secret");
  plugin.add<SecretDelete>("test.secret_delete", "Deletes a secret");
  plugin.share_secret("shared/*");
}
