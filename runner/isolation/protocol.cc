#include "isolation/protocol.h"

namespace matih::runner::isolation {

using nlohmann::json;

json ToJson(const LoadedPluginInfo& info) {
  json settings = json::array();
  for (const DeclaredSetting& s : info.settings)
    settings.push_back({{"name", s.name},
                        {"description", s.description},
                        {"required", s.required},
                        {"secret", s.secret},
                        {"key_file", s.key_file}});
  return {{"file", info.file},       {"name", info.name},
          {"version", info.version}, {"abi_version", info.abi_version},
          {"kinds", info.kinds},     {"declares_settings", info.declares_settings},
          {"settings", settings},    {"shared_secrets", info.shared_secrets}};
}

LoadedPluginInfo PluginInfoFromJson(const json& j) {
  LoadedPluginInfo info;
  info.file = j.value("file", "");
  info.name = j.value("name", "");
  info.version = j.value("version", "");
  info.abi_version = j.value("abi_version", "");
  info.kinds = j.value("kinds", std::vector<std::string>{});
  info.declares_settings = j.value("declares_settings", false);
  const json settings = j.value("settings", json::array());
  for (const json& s : settings)
    info.settings.push_back({s.value("name", ""), s.value("description", ""), s.value("required", false),
                             s.value("secret", false), s.value("key_file", false)});
  info.shared_secrets = j.value("shared_secrets", std::vector<std::string>{});
  return info;
}

json ToJson(const KindDescription& k) {
  return {{"name", k.name},
          {"description", k.description},
          {"plugin_name", k.plugin_name},
          {"plugin_version", k.plugin_version},
          {"plugin_file", k.plugin_file},
          {"abi_version", k.abi_version},
          {"secret_namespace", k.secret_namespace},
          {"adoptable", k.adoptable}};
}

KindDescription KindFromJson(const json& j) {
  return {j.value("name", ""),
          j.value("description", ""),
          j.value("plugin_name", ""),
          j.value("plugin_version", ""),
          j.value("plugin_file", ""),
          j.value("abi_version", ""),
          j.value("secret_namespace", ""),
          j.value("adoptable", false)};
}

json ToJson(const TenantView& t) {
  return {{"id", t.id}, {"slug", t.slug}, {"tier", t.tier}, {"region", t.region}, {"spec_json", t.spec_json}};
}

TenantView TenantFromJson(const json& t) {
  return {t.value("id", ""), t.value("slug", ""), t.value("tier", ""), t.value("region", ""),
          t.value("spec_json", "{}")};
}

json AnswerToJson(const StepAnswer& a) {
  json j = json::array({static_cast<int>(a.status)});
  if (!a.message.empty() || !a.outputs.empty()) j.push_back(a.message);
  if (!a.outputs.empty()) j.push_back(a.outputs);
  return j;
}

StepAnswer AnswerFromJson(const json& j) {
  StepAnswer a;
  if (!j.is_array() || j.empty() || !j[0].is_number_integer()) {
    a.message = "the plugin worker sent a malformed answer";
    return a;
  }
  a.status = static_cast<matih_status>(j[0].get<int>());
  if (j.size() > 1 && j[1].is_string()) a.message = j[1].get<std::string>();
  if (j.size() > 2 && j[2].is_object()) a.outputs = j[2].get<StepOutputs>();
  return a;
}

}  // namespace matih::runner::isolation
