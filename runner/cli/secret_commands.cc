// secrets rotate-key: replaces the master key of the built-in secret store.
#include <optional>
#include <string>

#include "cli/commands.h"
#include "secrets/key_rotation.h"
#include "secrets/secret_key.h"

namespace matih::runner {
namespace po = boost::program_options;

int CmdSecretsRotateKey(CommandContext& ctx, const Args& args) {
  std::string new_key_file, old_key_file;
  po::options_description o("Options");
  o.add_options()("new-key-file", po::value(&new_key_file)->required(),
                  "the new master key: 32 raw bytes or 64 hex characters, mode 0600")(
      "old-key-file", po::value(&old_key_file),
      "the key in use (default: secrets.key_file of the config, else MATIH_SECRET_KEY)");
  po::positional_options_description pos;
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "secrets rotate-key --new-key-file FILE [--old-key-file FILE]",
                 "Re-wraps every tenant's data key of the built-in secret store under a new master key, in\n"
                 "one transaction; the values themselves are not decrypted or rewritten (values from before\n"
                 "envelope encryption are first moved under their tenant's data key). With a wrong old key\n"
                 "it refuses (exit 2) and changes nothing. Run it while no runner is working (between batch\n"
                 "passes), then point secrets.key_file (or MATIH_SECRET_KEY) of every runner at the new key.",
                 o, pos, args, vm, exit))
    return exit;

  std::optional<std::string> old_path;
  if (!old_key_file.empty())
    old_path = old_key_file;
  else if (!ctx.config().secret_key_file.empty())
    old_path = ctx.config().secret_key_file;
  auto old_key = SecretKey::Load(old_path);
  if (!old_key.ok())
    return ctx.Fail(Status(Code::kInvalidArgument, "old key: " + old_key.status().message()));
  auto new_key = SecretKey::FromFile(new_key_file);
  if (!new_key.ok())
    return ctx.Fail(Status(Code::kInvalidArgument, "new key: " + new_key.status().message()));
  auto db = ctx.database();  // checks that a database is configured
  if (!db.ok()) return ctx.Fail(db.status());

  auto report = RotateMasterKey(ctx.config().database_url, *old_key, *new_key);
  if (!report.ok()) return ctx.Fail(report.status());
  ctx.out() << "rotated the secret-store master key from key id " << old_key->id() << " to key id "
            << new_key->id() << ": " << report->data_keys_rewrapped << " tenant data key(s) re-wrapped";
  if (report->legacy_values_migrated > 0)
    ctx.out() << ", " << report->legacy_values_migrated << " older value(s) moved under "
              << report->data_keys_created << " new data key(s)";
  ctx.out() << ".\nThe old key no longer opens anything: set secrets.key_file = " << new_key_file
            << " (or MATIH_SECRET_KEY) for every runner before its next run.\n";
  return kExitOk;
}

}  // namespace matih::runner
