// audit verify.
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "store/audit_log.h"
#include "store/tenant_store.h"

namespace matih::runner {
namespace po = boost::program_options;

int CmdAuditVerify(CommandContext& ctx, const Args& args) {
  std::string slug, format = "table";
  po::options_description o("Options");
  o.add_options()("slug", po::value(&slug), "only this tenant's chain")("format", po::value(&format),
                                                                        "table | json");
  po::positional_options_description pos;
  pos.add("slug", 1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "audit verify [SLUG] [--format table|json]",
                 "Recomputes every audit hash chain and names the first broken or missing link.", o, pos,
                 args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  std::optional<std::string> only;
  if (!slug.empty()) {
    // Looked up first: an unknown or malformed slug is "no tenant" (exit 2), never a query error.
    if (auto t = TenantStore(**db).Get(slug); !t.ok()) return ctx.Fail(t.status());
    only = slug;
  }
  auto problems = AuditLog::Verify(**db, only);
  if (!problems.ok()) return ctx.Fail(problems.status());
  if (format == "json") {
    nlohmann::json j = {{"ok", problems->empty()}, {"problems", nlohmann::json::array()}};
    for (const auto& p : *problems)
      j["problems"].push_back({{"slug", p.slug}, {"seq", p.seq}, {"problem", p.what}});
    ctx.out() << j.dump(2) << "\n";
  } else if (problems->empty()) {
    ctx.out() << "audit trail verified: every chain is intact\n";
  } else {
    for (const auto& p : *problems) ctx.out() << "BROKEN  " << p.slug << ": " << p.what << "\n";
  }
  // A broken chain is bad data, not bad usage: exit 1 so schedulers alert on it.
  return problems->empty() ? kExitOk : kExitError;
}

}  // namespace matih::runner
