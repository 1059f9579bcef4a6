// abi_major_2: a plugin that claims step ABI 2.0. The host must refuse it, naming both versions.
#include <matih/step_abi.h>

namespace {
matih_status Answer(void*, matih_step_context*) { return MATIH_STATUS_OK; }
const matih_step_kind kKinds[] = {{sizeof(matih_step_kind), "future.kind", "From a future ABI", nullptr,
                                   &Answer, &Answer, &Answer, nullptr, 0}};
const matih_plugin kPlugin = {sizeof(matih_plugin),
                              2,
                              0,
                              "future-plugin",
                              "9.0.0",
                              1,
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
