#include "telemetry/logger.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

namespace matih::runner {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

std::shared_ptr<spdlog::logger> Sink() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("matih", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");  // we format the whole line ourselves
    l->set_level(spdlog::level::info);
    return l;
  }();
  return logger;
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void Logger::Configure(LogFormat format, spdlog::level::level_enum level) {
  g_format = format;
  Sink()->set_level(level);
}

LogFormat Logger::format() { return g_format; }

bool Logger::Enabled(spdlog::level::level_enum level) { return Sink()->should_log(level); }

void Logger::Log(spdlog::level::level_enum level, const LogFields& f, std::string_view message) {
  auto sink = Sink();
  if (!sink->should_log(level)) return;
  auto level_name = spdlog::level::to_string_view(level);
  std::string line;
  if (g_format == LogFormat::kJson) {
    nlohmann::json j;
    j["ts"] = Timestamp();
    j["level"] = std::string(level_name.data(), level_name.size());
    if (!f.run_id.empty()) j["run"] = f.run_id;
    if (!f.tenant.empty()) j["tenant"] = f.tenant;
    if (!f.step.empty()) j["step"] = f.step;
    j["msg"] = message;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    // Appended piece by piece: GCC 12 at -O3 warns falsely on `a + " " + b` here (bug 105651).
    line = Timestamp();
    line += ' ';
    line.append(level_name.data(), level_name.size());
    if (!f.run_id.empty()) line.append(" run=").append(f.run_id);
    if (!f.tenant.empty()) line.append(" tenant=").append(f.tenant);
    if (!f.step.empty()) line.append(" step=").append(f.step);
    line += ' ';
    line.append(message);
  }
  sink->log(level, "{}", line);
}

}  // namespace matih::runner
