// null_table: a plugin whose entry point answers NULL (it cannot run with this host).
#include <matih/step_abi.h>

extern "C" __attribute__((visibility("default"))) const matih_plugin* matih_step_plugin_init(
    uint32_t, uint32_t, const matih_host_api*) {
  return nullptr;
}
