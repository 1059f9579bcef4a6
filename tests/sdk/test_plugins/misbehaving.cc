// misbehaving: a plugin written straight against the C ABI that breaks its rules, so the tests
// can show the host survives: an unknown status value, an answer that does not fit the
// operation, an error without a message, drift without a diff, and a C++ exception thrown
// across the ABI.
#include <matih/step_abi.h>

#include <cstring>
#include <stdexcept>

namespace {

void Say(matih_step_context* ctx, const char* text) {
  ctx->host->callback_set_message(ctx, matih_str{text, std::strlen(text)});
}

matih_status UnknownStatus(void*, matih_step_context* ctx) {
  Say(ctx, "the plugin's own words");
  return 999;
}
matih_status InSyncFromApply(void*, matih_step_context*) { return MATIH_STATUS_IN_SYNC; }
matih_status SilentError(void*, matih_step_context*) { return MATIH_STATUS_UNAVAILABLE; }
matih_status ThrowAcross(void*, matih_step_context*) { throw std::runtime_error("thrown across the C ABI"); }
matih_status Ok(void*, matih_step_context*) { return MATIH_STATUS_OK; }
matih_status SilentDrift(void*, matih_step_context*) { return MATIH_STATUS_DRIFTED; }
matih_status SetsOutputThenFails(void*, matih_step_context* ctx) {
  ctx->host->callback_set_output(ctx, matih_str{"half", 4}, matih_str{"done", 4});
  Say(ctx, "failed half-way");
  return MATIH_STATUS_FAILED_PRECONDITION;
}

const matih_step_kind kKinds[] = {
    {sizeof(matih_step_kind), "bad.unknown_status", "Answers 999 from observe, IN_SYNC from apply", nullptr,
     &UnknownStatus, &InSyncFromApply, &SilentError, nullptr, 0},
    {sizeof(matih_step_kind), "bad.throws_raw", "Throws a C++ exception through the C ABI", nullptr,
     &ThrowAcross, &SetsOutputThenFails, &Ok, nullptr, 0},
    {sizeof(matih_step_kind), "bad.silent_drift", "Answers DRIFTED without a diff", nullptr, &SilentDrift,
     &Ok, &Ok, nullptr, 0},
};
const matih_plugin kPlugin = {sizeof(matih_plugin),
                              MATIH_STEP_ABI_VERSION_MAJOR,
                              MATIH_STEP_ABI_VERSION_MINOR,
                              "misbehaving",
                              "0.0.1",
                              3,
                              kKinds,
                              sizeof(matih_step_kind),
                              0,
                              nullptr,
                              0,
                              0,
                              nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) const matih_plugin* matih_step_plugin_init(
    uint32_t, uint32_t, const matih_host_api*) {
  return &kPlugin;
}
