// faulty: a plugin written straight against the C ABI whose kinds fail the way real plugins do
// when they go wrong, so the isolation tests can show the runner survives each: a segfault,
// abort(), exit(), a hang that ignores its cancel flag (and one that honours it), memory
// allocated without bound, a C++ exception thrown across the ABI. faulty.echo behaves, and
// reports which process served it, so a test can see a worker was replaced.
//
// Params (JSON, read by hand to stay dependency-free): "pid_file" (hang kinds write their pid
// there first), "seconds" (how long the hang kinds run; default 3600).
#include <matih/step_abi.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string View(matih_str s) { return s.data ? std::string(s.data, s.size) : std::string(); }
matih_str Str(const std::string& s) { return matih_str{s.data(), s.size()}; }

// The string value of "key" in a flat JSON object, or "".
std::string Param(matih_step_context* ctx, const char* key) {
  std::string params = View(ctx->host->callback_step_params_json(ctx));
  std::string needle = std::string("\"") + key + "\"";
  auto at = params.find(needle);
  if (at == std::string::npos) return {};
  at = params.find(':', at + needle.size());
  if (at == std::string::npos) return {};
  ++at;
  while (at < params.size() && (params[at] == ' ' || params[at] == '"')) ++at;
  auto end = params.find_first_of("\",}", at);
  return params.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

void WritePid(matih_step_context* ctx) {
  std::string path = Param(ctx, "pid_file");
  if (path.empty()) return;
  if (FILE* f = std::fopen(path.c_str(), "w")) {
    std::fprintf(f, "%d\n", static_cast<int>(getpid()));
    std::fclose(f);
  }
}

double Seconds(matih_step_context* ctx) {
  std::string s = Param(ctx, "seconds");
  return s.empty() ? 3600.0 : std::atof(s.c_str());
}

matih_status Ok(void*, matih_step_context*) { return MATIH_STATUS_OK; }
matih_status InSync(void*, matih_step_context*) { return MATIH_STATUS_IN_SYNC; }

matih_status Segfault(void*, matih_step_context*) {
  volatile int* nowhere = nullptr;
  *nowhere = 1;
  return MATIH_STATUS_OK;
}
matih_status Abort(void*, matih_step_context*) { std::abort(); }
matih_status Exit(void*, matih_step_context*) { std::exit(3); }

// Ignores its cancel flag and its deadline; keeps reading an output of another step and a
// setting while it runs, as a slow plugin would.
matih_status HangRude(void*, matih_step_context* ctx) {
  WritePid(ctx);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(Seconds(ctx));
  size_t seen = 0;
  while (std::chrono::steady_clock::now() < until) {
    matih_str value{nullptr, 0};
    std::string step = "earlier-step";
    std::string key = "value";
    if (ctx->host->callback_get_output(ctx, Str(step), Str(key), &value) == MATIH_STATUS_OK)
      seen += value.size;
    std::string setting = "faulty.setting";
    if (ctx->host->callback_get_setting(ctx, Str(setting), &value) == MATIH_STATUS_OK) seen += value.size;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return seen > 0 ? MATIH_STATUS_OK : MATIH_STATUS_NOT_FOUND;
}

// Honours its cancel flag.
matih_status HangPolite(void*, matih_step_context* ctx) {
  WritePid(ctx);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(Seconds(ctx));
  while (std::chrono::steady_clock::now() < until) {
    if (ctx->host->callback_is_cancelled(ctx)) return MATIH_STATUS_CANCELLED;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return MATIH_STATUS_OK;
}

// Leaks 16 MiB blocks, touching every page, until the allocator gives up (std::bad_alloc, which
// then escapes through the C ABI).
matih_status Hog(void*, matih_step_context*) {
  static std::vector<char*> leaked;
  for (;;) {
    char* block = new char[16u << 20];
    std::memset(block, 1, 16u << 20);
    leaked.push_back(block);
  }
}

matih_status Throw(void*, matih_step_context*) { throw std::runtime_error("faulty threw across the C ABI"); }

// Stores a secret, reads it back, reads a setting and another step's output, and records what it
// saw (and its pid) as outputs.
matih_status Echo(void*, matih_step_context* ctx) {
  const matih_host_api* h = ctx->host;
  std::string pid = std::to_string(getpid());
  h->callback_set_output(ctx, Str("pid"), Str(pid));
  matih_str value{nullptr, 0};
  if (h->callback_get_setting(ctx, Str("faulty.setting"), &value) == MATIH_STATUS_OK)
    h->callback_set_output(ctx, Str("setting"), value);
  if (h->callback_get_output(ctx, Str("earlier-step"), Str("value"), &value) == MATIH_STATUS_OK)
    h->callback_set_output(ctx, Str("earlier"), value);
  std::string secret = "echo-secret-" + View(h->callback_tenant_slug(ctx));
  matih_status put = h->callback_put_secret(ctx, Str("token"), Str(secret));
  h->callback_set_output(ctx, Str("put"), Str(std::to_string(put)));
  if (put == MATIH_STATUS_OK) {
    matih_status got = h->callback_get_secret(ctx, Str("token"), &value);
    bool same = got == MATIH_STATUS_OK && View(value) == secret;
    h->callback_set_output(ctx, Str("secret_roundtrip"), Str(same ? "yes" : "no"));
  }
  return MATIH_STATUS_OK;
}

matih_status EchoObserve(void*, matih_step_context* ctx) {
  std::string pid = std::to_string(getpid());
  std::string msg = "served by " + pid;
  ctx->host->callback_set_message(ctx, Str(msg));
  return MATIH_STATUS_DRIFTED;
}

matih_status ValidateParams(void*, matih_str params, char* error, size_t error_size) {
  if (View(params).find("\"bad\"") != std::string::npos) {
    std::snprintf(error, error_size, "param 'bad' is refused");
    return MATIH_STATUS_INVALID_ARGUMENT;
  }
  return MATIH_STATUS_OK;
}

const matih_step_kind kKinds[] = {
    {sizeof(matih_step_kind), "faulty.segfault", "observe and apply dereference NULL", nullptr, &Segfault,
     &Segfault, &Ok, nullptr, 0},
    {sizeof(matih_step_kind), "faulty.abort", "observe and apply call abort()", nullptr, &Abort, &Abort, &Ok,
     nullptr, 0},
    {sizeof(matih_step_kind), "faulty.exit", "observe and apply call exit(3)", nullptr, &Exit, &Exit, &Ok,
     nullptr, 0},
    {sizeof(matih_step_kind), "faulty.hang", "observe and apply run on, ignoring cancel", nullptr, &HangRude,
     &HangRude, &Ok, nullptr, 0},
    {sizeof(matih_step_kind), "faulty.hang_polite", "observe and apply run until cancelled", nullptr,
     &HangPolite, &HangPolite, &Ok, nullptr, 0},
    {sizeof(matih_step_kind), "faulty.hog", "apply allocates without bound", nullptr, &InSync, &Hog, &Ok,
     nullptr, 0},
    {sizeof(matih_step_kind), "faulty.throw", "observe throws across the C ABI", nullptr, &Throw, &Throw, &Ok,
     nullptr, 0},
    {sizeof(matih_step_kind), "faulty.echo", "behaves; reports its process and what it saw", nullptr,
     &EchoObserve, &Echo, &Ok, &ValidateParams, 0},
};

const matih_setting kSettings[] = {
    {sizeof(matih_setting), 0, "faulty.setting", "a value echoed back"},
};

const matih_plugin kPlugin = {sizeof(matih_plugin),
                              MATIH_STEP_ABI_VERSION_MAJOR,
                              MATIH_STEP_ABI_VERSION_MINOR,
                              "faulty",
                              "0.0.1",
                              sizeof kKinds / sizeof kKinds[0],
                              kKinds,
                              sizeof(matih_step_kind),
                              1,
                              kSettings,
                              sizeof(matih_setting),
                              0,
                              nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) const matih_plugin* matih_step_plugin_init(
    uint32_t, uint32_t, const matih_host_api*) {
  return &kPlugin;
}
