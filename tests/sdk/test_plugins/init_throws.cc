// init_throws: a plugin whose entry point throws instead of answering a table.
#include <matih/step_abi.h>

#include <stdexcept>

extern "C" __attribute__((visibility("default"))) const matih_plugin* matih_step_plugin_init(
    uint32_t, uint32_t, const matih_host_api*) {
  throw std::logic_error("cannot start");
}
