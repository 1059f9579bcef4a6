#include "isolation/protocol.h"

#include <chrono>

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
          {"secret_namespace", k.secret_namespace}};
}

KindDescription KindFromJson(const json& j) {
  return {j.value("name", ""),
          j.value("description", ""),
          j.value("plugin_name", ""),
          j.value("plugin_version", ""),
          j.value("plugin_file", ""),
          j.value("abi_version", ""),
          j.value("secret_namespace", "")};
}

json CallToJson(const StepCall& call) {
  json outputs = json::object();
  if (call.outputs) {
    for (const auto& [step, values] : *call.outputs) outputs[step] = values;
  }
  const int64_t deadline_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(call.deadline.time_since_epoch()).count();
  return {{"tenant",
           {{"id", call.tenant.id},
            {"slug", call.tenant.slug},
            {"tier", call.tenant.tier},
            {"region", call.tenant.region},
            {"spec_json", call.tenant.spec_json}}},
          {"step_number", call.step_number},
          {"step_name", call.step_name},
          {"params_json", call.params_json},
          {"run_id", call.run_id},
          {"deadline_ms", deadline_ms},
          {"dry_run", call.dry_run},
          {"lease_epoch", call.lease_epoch},
          {"has_secrets", call.secrets != nullptr},
          {"outputs", std::move(outputs)}};
}

void CallFromJson(const json& j, StepCall& call, TenantOutputs& outputs) {
  const json& t = j.at("tenant");
  call.tenant = {t.value("id", ""), t.value("slug", ""), t.value("tier", ""), t.value("region", ""),
                 t.value("spec_json", "{}")};
  call.step_number = j.value("step_number", 0);
  call.step_name = j.value("step_name", "");
  call.params_json = j.value("params_json", "{}");
  call.run_id = j.value("run_id", "");
  call.deadline =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(j.value("deadline_ms", int64_t{0})));
  call.dry_run = j.value("dry_run", false);
  call.lease_epoch = j.value("lease_epoch", int64_t{0});
  outputs.clear();
  const json given = j.value("outputs", json::object());  // kept: items() does not own it
  for (const auto& [step, values] : given.items()) outputs[step] = values.get<StepOutputs>();
  call.outputs = &outputs;
}

json AnswerToJson(const StepAnswer& a) {
  return {{"op", "result"},
          {"status", static_cast<int>(a.status)},
          {"message", a.message},
          {"outputs", a.outputs}};
}

StepAnswer AnswerFromJson(const json& j) {
  StepAnswer a;
  a.status = static_cast<matih_status>(j.value("status", static_cast<int>(MATIH_STATUS_INTERNAL)));
  a.message = j.value("message", "");
  a.outputs = j.value("outputs", StepOutputs{});
  return a;
}

}  // namespace matih::runner::isolation
