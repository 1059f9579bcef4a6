// throwing: a plugin on the C++ layer whose steps throw; <matih/step.hpp> must turn every
// exception into a status and a message at the boundary.
#include <matih/step.hpp>
#include <stdexcept>

namespace {

class Throws final : public matih::Step {
 public:
  matih::Observation observe(matih::Context&) override { throw 42; }  // not even a std::exception
  void apply(matih::Context&) override { throw std::runtime_error("disk on fire"); }
  void remove(matih::Context&) override { throw matih::TransientError("target busy, retry me"); }
  void validate_params(std::string_view) override { throw std::runtime_error("params are cursed"); }
};

}  // namespace

MATIH_PLUGIN("throwing", "0.0.1") { plugin.add<Throws>("bad.throws", "Throws from every operation"); }
