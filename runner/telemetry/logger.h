// Logger: the runner's log lines, as text for people or JSON lines for machines.
//
// Every line carries the run, tenant and step it belongs to (empty when not known). Callers never
// pass secret values; the logger has no way to tell a secret from any other text.
// Safe to call from any thread after Configure.
#pragma once

#include <spdlog/common.h>

#include <string>
#include <string_view>

namespace matih::runner {

struct LogFields {
  std::string_view run_id;
  std::string_view tenant;
  std::string_view step;
};

enum class LogFormat { kText, kJson };

class Logger {
 public:
  // Sets up the process-wide sink (stderr). `level` is trace|debug|info|warn|error|off.
  static void Configure(LogFormat format, spdlog::level::level_enum level);
  static LogFormat format();
  static bool Enabled(spdlog::level::level_enum level);
  static void Log(spdlog::level::level_enum level, const LogFields& fields, std::string_view message);
  static void Info(const LogFields& f, std::string_view m) { Log(spdlog::level::info, f, m); }
  static void Warn(const LogFields& f, std::string_view m) { Log(spdlog::level::warn, f, m); }
  static void Error(const LogFields& f, std::string_view m) { Log(spdlog::level::err, f, m); }
  static void Debug(const LogFields& f, std::string_view m) { Log(spdlog::level::debug, f, m); }
};

}  // namespace matih::runner
