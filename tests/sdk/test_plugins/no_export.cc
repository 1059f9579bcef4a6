// no_export: a shared library in a plugin directory that is not a step plugin: it exports
// nothing at all. The host must refuse it with a message, not crash.
namespace {
int Unused() { return 42; }
}  // namespace

__attribute__((visibility("hidden"))) int matih_test_hidden_function() { return Unused(); }
