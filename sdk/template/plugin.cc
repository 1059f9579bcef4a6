// my-plugin: registration only. Settings read (runner config, section [targets]):
//   my.token_bytes   optional: random bytes per token, 16..64 (default 32)
#include <matih/step.hpp>

#include "token_step.h"

MATIH_PLUGIN("my-plugin", "0.1.0") {
  plugin.setting("my.token_bytes", "random bytes per generated token, 16..64 (default 32)");
  plugin.add<my_plugin::TokenStep>("my.token",
                                   "Keeps one generated API token per tenant in the secret store");
}
