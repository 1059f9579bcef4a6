// The runner settings of plugins/identity (documented in plugin.cc), read per call. Pure
// functions over the call's Context; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <string>

#include "identity/identity_provider.h"

namespace matih::plugins::identity {

// identity.issuer_url (required; http:// only for a loopback host), identity.ca_file,
// identity.timeout_ms. InvalidArgument naming the setting when a value is malformed.
ProviderSettings ProviderSettingsFrom(const Context& ctx);
// identity.initial_access_token: PermanentError when missing.
std::string InitialAccessToken(const Context& ctx);
// "step <name> of tenant <slug>", for messages.
std::string Who(const Context& ctx);
// Params as a JSON object ({} when empty); InvalidArgument when not an object.
nlohmann::json ParamsObject(std::string_view params_json);

}  // namespace matih::plugins::identity
