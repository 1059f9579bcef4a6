// future_minor: a plugin from a later minor version (1.9) whose step kind struct has grown a
// field the host does not know. The host must walk the kinds array by the plugin's
// kind_struct_size (larger than its own) and use only the fields it knows.
#include <matih/step_abi.h>

#include <cstring>

namespace {

// What matih_step_kind might look like in ABI 1.9: the 1.3 fields, then something new.
struct FutureStepKind {
  matih_step_kind known;
  void* on_something_new;
  char padding[40];
};

matih_status InSync(void*, matih_step_context*) { return MATIH_STATUS_IN_SYNC; }
matih_status Absent(void*, matih_step_context*) { return MATIH_STATUS_ABSENT; }
matih_status Apply(void*, matih_step_context* ctx) {
  const char* which = "second";
  return ctx->host->callback_set_output(ctx, matih_str{"which", 5}, matih_str{which, std::strlen(which)});
}
matih_status Ok(void*, matih_step_context*) { return MATIH_STATUS_OK; }

const FutureStepKind kKinds[] = {
    {{sizeof(FutureStepKind), "future.first", "First kind of a 1.9 plugin", nullptr, &InSync, &Ok, &Ok,
      nullptr, 0},
     nullptr,
     {}},
    {{sizeof(FutureStepKind), "future.second", "Second kind of a 1.9 plugin", nullptr, &Absent, &Apply, &Ok,
      nullptr, 0},
     nullptr,
     {}},
};
const matih_plugin kPlugin = {sizeof(matih_plugin),
                              MATIH_STEP_ABI_VERSION_MAJOR,
                              9,
                              "future-minor",
                              "1.9.0",
                              2,
                              &kKinds[0].known,
                              sizeof(FutureStepKind),
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
