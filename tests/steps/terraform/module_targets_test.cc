// Static checks of config/terraform (no provider, no stack, so they run on this offline machine):
// the production (azurerm) dedicated module hands a tenant every [targets] key the local module
// does, on the same side (targets or the sensitive target_secrets); every key either flavour
// outputs is a setting some plugin declares, and a secret setting never travels in the clear;
// every root module passes its module every variable it needs (and none it does not declare) and
// passes both target outputs on. `terraform validate` of the azurerm roots runs only where the
// provider can be had (MATIH_TF_PROVIDER_MIRROR); elsewhere it is skipped, saying so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace matih::testing {
namespace {

namespace fs = std::filesystem;
using Keys = std::set<std::string>;

const fs::path kSource = MATIH_SOURCE_DIR;
const fs::path kModules = kSource / "config/terraform";

// Exit status of a shell command, its output (stdout and whatever it redirects) into `output`.
int RunCommand(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return -1;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    if (output) output->append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text with whole-line comments dropped (# and //); strings here hold no comment markers.
std::string Hcl(const fs::path& path) {
  std::istringstream in(Read(path));
  std::string out, line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && (line[first] == '#' || line.compare(first, 2, "//") == 0)) continue;
    out += line + "\n";
  }
  return out;
}

// The body of the block that opens with `header` (e.g. `output "targets"`), braces balanced
// (interpolations balance too); "" when there is none.
std::string Block(const std::string& hcl, const std::string& header) {
  std::smatch m;
  const std::regex opening("(^|\\n)\\s*" + header + "\\s*\\{");
  if (!std::regex_search(hcl, m, opening)) return "";
  const size_t open = m.position(0) + m.length(0) - 1;
  int depth = 0;
  for (size_t i = open; i < hcl.size(); ++i) {
    if (hcl[i] == '{') ++depth;
    if (hcl[i] == '}' && --depth == 0) return hcl.substr(open + 1, i - open - 1);
  }
  ADD_FAILURE() << "unbalanced block " << header;
  return "";
}

// The quoted [targets] keys ("area.name" = ...) of a block.
Keys SettingKeys(const std::string& block) {
  Keys keys;
  const std::regex key("\"([a-z_]+(\\.[a-z_]+)+)\"\\s*=");
  for (std::sregex_iterator it(block.begin(), block.end(), key), end; it != end; ++it) keys.insert((*it)[1]);
  return keys;
}

// Arguments set at the top level of a block body (name = ...), nested blocks skipped.
Keys Arguments(const std::string& body) {
  Keys args;
  int depth = 0;
  std::istringstream in(body);
  std::string line;
  const std::regex arg("^\\s*([a-z_][a-z0-9_]*)\\s*=");
  while (std::getline(in, line)) {
    std::smatch m;
    if (depth == 0 && std::regex_search(line, m, arg)) args.insert(m[1]);
    for (char c : line) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
  }
  return args;
}

struct Variables {
  Keys all, required;  // required: no default
};
Variables ModuleVariables(const std::string& hcl) {
  Variables v;
  const std::regex variable("(^|\\n)\\s*variable\\s+\"([a-z_][a-z0-9_]*)\"");
  for (std::sregex_iterator it(hcl.begin(), hcl.end(), variable), end; it != end; ++it) {
    const std::string name = (*it)[2];
    v.all.insert(name);
    if (!Arguments(Block(hcl, "variable\\s+\"" + name + "\"")).count("default")) v.required.insert(name);
  }
  return v;
}

struct Targets {
  Keys plain, secret;
  bool secret_sensitive = false;
};
Targets ModuleTargets(const fs::path& main_tf) {
  const std::string hcl = Hcl(main_tf);
  Targets t;
  t.plain = SettingKeys(Block(hcl, "output\\s+\"targets\""));
  const std::string secrets = Block(hcl, "output\\s+\"target_secrets\"");
  t.secret = SettingKeys(secrets);
  t.secret_sensitive = std::regex_search(secrets, std::regex("(^|\\n)\\s*sensitive\\s*=\\s*true"));
  return t;
}

// Every [targets] setting the plugins declare (plugin.setting("name", ..., flags)), with whether it
// is secret, read from their sources.
std::map<std::string, bool> DeclaredSettings() {
  std::map<std::string, bool> declared;
  for (const auto& entry : fs::recursive_directory_iterator(kSource / "plugins")) {
    if (entry.path().extension() != ".cc") continue;
    const std::string code = Read(entry.path());
    for (size_t at = code.find("plugin.setting("); at != std::string::npos;
         at = code.find("plugin.setting(", at + 1)) {
      size_t end = at + 15;
      bool in_string = false;
      for (int depth = 1; end < code.size() && depth > 0; ++end) {
        if (code[end] == '"' && code[end - 1] != '\\') in_string = !in_string;
        if (!in_string) depth += code[end] == '(' ? 1 : code[end] == ')' ? -1 : 0;
      }
      const std::string call = code.substr(at, end - at);
      std::smatch m;
      if (std::regex_search(call, m, std::regex("^plugin\\.setting\\(\\s*\"([^\"]+)\"")))
        declared[m[1]] = declared[m[1]] || call.find("MATIH_SETTING_SECRET") != std::string::npos;
    }
  }
  return declared;
}

std::string Join(const Keys& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}
Keys Minus(const Keys& a, const Keys& b) {
  Keys out;
  for (const auto& k : a)
    if (!b.count(k)) out.insert(k);
  return out;
}

const fs::path kLocalDedicated = kModules / "local/modules/dedicated/main.tf";
const fs::path kAzureDedicated = kModules / "azurerm/modules/dedicated/main.tf";

TEST(TerraformModuleTargets, ProductionModuleHandsOverEveryTargetTheLocalOneDoes) {
  const Targets local = ModuleTargets(kLocalDedicated), azure = ModuleTargets(kAzureDedicated);
  // What the local stack moves off the shared servers must move in production too.
  for (const char* key : {"gitops.repository", "gitops.remote", "vector.chroma_url"})
    EXPECT_TRUE(local.plain.count(key)) << key << " missing from the local module's targets";
  for (const char* key :
       {"data.dedicated.database_url", "data.dedicated.redis_url", "data.dedicated.nats_url"})
    EXPECT_TRUE(local.secret.count(key)) << key << " missing from the local module's target_secrets";
  EXPECT_EQ(Minus(local.plain, azure.plain), Keys{})
      << "the azurerm module's output targets lacks these keys of the local module's";
  EXPECT_EQ(Minus(local.secret, azure.secret), Keys{})
      << "the azurerm module's output target_secrets lacks these keys of the local module's";
  // Production reaches further (its own storage account, Key Vault, DNS resource group, API).
  for (const char* key : {"kubernetes.api_url", "storage.dedicated_accounts", "vault.azure_url",
                          "network.azure_resource_group"})
    EXPECT_TRUE(azure.plain.count(key)) << key << " missing from the azurerm module's targets";
  EXPECT_TRUE(azure.secret.count("storage.account_keys"));
  EXPECT_TRUE(local.secret_sensitive) << "local target_secrets is not sensitive";
  EXPECT_TRUE(azure.secret_sensitive) << "azurerm target_secrets is not sensitive";
  std::cout << "production-only targets: " << Join(Minus(azure.plain, local.plain))
            << "; secrets: " << Join(Minus(azure.secret, local.secret)) << "\n";
}

TEST(TerraformModuleTargets, EveryTargetIsADeclaredSettingAndNoSecretTravelsInTheClear) {
  const auto declared = DeclaredSettings();
  ASSERT_GT(declared.size(), 50u) << "the plugins' settings were not found";
  ASSERT_TRUE(declared.at("data.dedicated.nats_url")) << "the scan misses MATIH_SETTING_SECRET";
  ASSERT_FALSE(declared.at("vector.chroma_url"));
  for (const auto& path : {kLocalDedicated, kAzureDedicated}) {
    const Targets t = ModuleTargets(path);
    for (const auto& key : t.plain) {
      if (!declared.count(key)) {
        ADD_FAILURE() << path << ": targets key " << key << " is no plugin's setting";
        continue;
      }
      EXPECT_FALSE(declared.at(key)) << path << ": secret setting " << key
                                     << " in the clear output targets (belongs in target_secrets)";
    }
    for (const auto& key : t.secret)
      EXPECT_TRUE(declared.count(key)) << path << ": target_secrets key " << key << " is no plugin's setting";
    for (const auto& key : t.plain)
      EXPECT_FALSE(t.secret.count(key)) << path << ": " << key << " on both sides";
  }
}

TEST(TerraformModuleTargets, EveryRootPassesItsModuleWhatItNeedsAndBothTargetOutputsOn) {
  int roots = 0;
  std::map<std::string, Keys> tier_values_of;
  for (const char* flavour : {"local", "azurerm"}) {
    for (const char* module : {"dedicated", "ai-services"}) {
      const Variables wanted = ModuleVariables(Hcl(kModules / flavour / "modules" / module / "main.tf"));
      ASSERT_FALSE(wanted.all.empty()) << flavour << "/modules/" << module;
      for (const char* tier : {"professional", "enterprise"}) {
        const fs::path root = kModules / flavour / module / tier / "main.tf";
        const std::string hcl = Hcl(root);
        const std::string call = Block(hcl, "module\\s+\"[a-z_-]+\"");
        ASSERT_FALSE(call.empty()) << root << " calls no module";
        Keys given = Arguments(call);
        given.erase("source");
        EXPECT_EQ(Minus(wanted.required, given), Keys{}) << root << " does not pass these required variables";
        EXPECT_EQ(Minus(given, wanted.all), Keys{})
            << root << " passes variables its module does not declare";
        // Every variable the root reads is declared by it (a typo would fail only at plan time).
        const Keys declared = ModuleVariables(hcl).all;
        const std::regex var_use("var\\.([a-z_][a-z0-9_]*)");
        for (std::sregex_iterator it(hcl.begin(), hcl.end(), var_use), end; it != end; ++it)
          EXPECT_TRUE(declared.count((*it)[1])) << root << " reads undeclared var." << (*it)[1];
        // The tier's own values (tier.auto.tfvars) set variables the shared root declares, the
        // same ones for every tier.
        const Keys tier_values = Arguments(Hcl(root.parent_path() / "tier.auto.tfvars"));
        EXPECT_FALSE(tier_values.empty()) << root.parent_path() << "/tier.auto.tfvars sets nothing";
        EXPECT_EQ(Minus(tier_values, declared), Keys{})
            << root.parent_path() << "/tier.auto.tfvars sets undeclared";
        auto& first_tier = tier_values_of[std::string(flavour) + "/" + module];
        if (first_tier.empty()) first_tier = tier_values;
        EXPECT_EQ(tier_values, first_tier) << root.parent_path() << ": tiers set different variables";
        if (std::string(module) == "dedicated") {
          EXPECT_NE(Block(hcl, "output\\s+\"targets\"").find("module.dedicated.targets"), std::string::npos)
              << root;
          const std::string secrets = Block(hcl, "output\\s+\"target_secrets\"");
          EXPECT_NE(secrets.find("module.dedicated.target_secrets"), std::string::npos) << root;
          EXPECT_TRUE(std::regex_search(secrets, std::regex("sensitive\\s*=\\s*true"))) << root;
        }
        ++roots;
      }
    }
  }
  EXPECT_EQ(roots, 8);
}

// A mutated module must fail the checks above: the parsers see what they claim to see.
TEST(TerraformModuleTargets, TheParsersSeeAMissingKeyAndAMissingVariable) {
  const std::string hcl = Hcl(kAzureDedicated);
  const Keys secrets = SettingKeys(Block(hcl, "output\\s+\"target_secrets\""));
  ASSERT_TRUE(secrets.count("data.dedicated.nats_url"));
  std::string mutated = std::regex_replace(hcl, std::regex("\"data\\.dedicated\\.nats_url\""), "\"x\"");
  EXPECT_FALSE(SettingKeys(Block(mutated, "output\\s+\"target_secrets\"")).count("data.dedicated.nats_url"));
  const Variables v = ModuleVariables(hcl);
  EXPECT_TRUE(v.required.count("database_admin_password"));
  EXPECT_FALSE(v.required.count("messaging_server_url")) << "a variable with a default counted as required";
  EXPECT_EQ(Arguments("a = 1\nb {\n  c = 2\n}\nd = {\n  e = 3\n}\n"), (Keys{"a", "d"}));
}

TEST(TerraformModuleTargets, AzurermRootsValidateWhereTheProviderCanBeHad) {
  if (RunCommand("command -v terraform >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "the `terraform` binary is not on PATH: config/terraform/azurerm is not validated";
  const char* mirror = std::getenv("MATIH_TF_PROVIDER_MIRROR");
  if (!mirror || !*mirror)
    GTEST_SKIP()
        << "hashicorp/azurerm cannot be installed on this offline machine, so `terraform validate` "
           "of config/terraform/azurerm is skipped (only `terraform fmt -check` and the static checks "
           "above ran); set MATIH_TF_PROVIDER_MIRROR to a filesystem mirror holding hashicorp/azurerm "
           "4.x to validate them";
  const fs::path work = fs::temp_directory_path() / ("matih-azurerm-validate-" + std::to_string(::getpid()));
  fs::create_directories(work);
  std::ofstream(work / "terraformrc")
      << "provider_installation {\n  filesystem_mirror {\n    path = \"" << mirror << "\"\n  }\n}\n";
  for (const char* dir : {"dedicated/professional", "dedicated/enterprise", "ai-services/professional",
                          "ai-services/enterprise"}) {
    const std::string env = "TF_CLI_CONFIG_FILE='" + (work / "terraformrc").string() +
                            "' CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_DATA_DIR='" +
                            (work / std::to_string(std::hash<std::string>{}(dir))).string() + "' ";
    std::string out;
    EXPECT_EQ(0, RunCommand("cd '" + (kModules / "azurerm" / dir).string() + "' && " + env +
                                "terraform init -backend=false -input=false -no-color 2>&1 && " + env +
                                "terraform validate -no-color 2>&1",
                            &out))
        << "azurerm/" << dir << ": " << out;
  }
  fs::remove_all(work);
}

}  // namespace
}  // namespace matih::testing
