// The commands of matih-provisioner, one function per command, grouped by file:
// tenant_commands.cc (tenants, history), operator_commands.cc (rollback, delete, suspend,
// resume, retry, upgrade), run_commands.cc (run, plan), audit_commands.cc, catalog_commands.cc
// (steps, plugins, migrate). Each takes the words after its name and returns the exit code.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "cli/command_context.h"

namespace matih::runner {

using Args = std::vector<std::string>;

int CmdMigrate(CommandContext& ctx, const Args& args);
int CmdTenantsAdd(CommandContext& ctx, const Args& args);
int CmdTenantsImport(CommandContext& ctx, const Args& args);
int CmdTenantsList(CommandContext& ctx, const Args& args);
int CmdTenantsShow(CommandContext& ctx, const Args& args);
int CmdStepsList(CommandContext& ctx, const Args& args);
int CmdPluginsVerify(CommandContext& ctx, const Args& args);
int CmdPluginsTry(CommandContext& ctx, const Args& args);  // plugin_try_command.cc
int CmdRun(CommandContext& ctx, const Args& args);
int CmdPlan(CommandContext& ctx, const Args& args);
int CmdRollback(CommandContext& ctx, const Args& args);
int CmdDelete(CommandContext& ctx, const Args& args);
int CmdCancel(CommandContext& ctx, const Args& args);
int CmdSuspend(CommandContext& ctx, const Args& args);
int CmdResume(CommandContext& ctx, const Args& args);
int CmdRetry(CommandContext& ctx, const Args& args);
int CmdUpgrade(CommandContext& ctx, const Args& args);
int CmdHistory(CommandContext& ctx, const Args& args);
int CmdAuditVerify(CommandContext& ctx, const Args& args);
int CmdStatus(CommandContext& ctx, const Args& args);            // status_commands.cc
int CmdSecretsRotateKey(CommandContext& ctx, const Args& args);  // secret_commands.cc

// Parses `args` against `options` (plus --help) and the positional names; prints usage and
// returns kExitOk through `exit` on --help, kExitUsage on an error naming the problem.
// Returns true when the command should go on.
bool ParseArgs(CommandContext& ctx, const std::string& usage, const std::string& summary,
               boost::program_options::options_description options,
               const boost::program_options::positional_options_description& positional, const Args& args,
               boost::program_options::variables_map& vm, int& exit);

// "table" or "json" from --format; false (and a message) for anything else.
bool CheckFormat(CommandContext& ctx, const std::string& format, int& exit);

}  // namespace matih::runner
