// ServiceCatalog: the names of the services a tenant may request (config/service-catalog.yaml).
//
// The file is a YAML map with a `services` list whose items have at least a `name`. Load reads it
// each time (it is small, and operators edit it without restarting anything), but parses it only
// when its text changed: the last parse is kept per process, keyed by path and text (parsing was
// most of step 1's CPU in a 10,000-tenant import). Immutable after Load; safe to share between
// threads, and Load may be called from any thread.
#pragma once

#include <set>
#include <string>

namespace matih::plugins {

class ServiceCatalog {
 public:
  // PermanentError when the file cannot be read or has the wrong shape.
  static ServiceCatalog Load(const std::string& path);

  bool Contains(const std::string& name) const { return names_.count(name) != 0; }
  const std::set<std::string>& names() const { return names_; }

 private:
  std::set<std::string> names_;
};

}  // namespace matih::plugins
