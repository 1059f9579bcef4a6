/* compat_v1_0: a plugin written in plain C against the frozen step ABI 1.0 header
 * (tests/sdk/abi_v1_0), whose structs lack on_validate_params and callback_get_extension.
 * The compatibility test loads it into the current host and runs it.
 *
 * Kind compat.marker: apply records the outputs "applied" = "yes" and "slug"; observe answers
 * IN_SYNC when this step's "applied" output (from an earlier run) says so, else ABSENT.
 * Kind compat.tier: apply records the output "tier". Two kinds, so the host must walk the array
 * by the plugin's (1.0, smaller) kind_struct_size to find the second one intact. */
#include <matih/step_abi.h>
#include <string.h>

#if MATIH_STEP_ABI_VERSION_MINOR != 0
#error "compat_v1_0 must be built against the frozen 1.0 header"
#endif

static matih_str lit(const char* s) {
  matih_str r;
  r.data = s;
  r.size = strlen(s);
  return r;
}

static matih_status observe(void* kind_data, matih_step_context* ctx) {
  matih_str value = {0, 0};
  (void)kind_data;
  if (ctx->host->callback_get_output(ctx, ctx->host->callback_step_name(ctx), lit("applied"), &value) ==
          MATIH_STATUS_OK &&
      value.size == 3 && memcmp(value.data, "yes", 3) == 0) {
    return MATIH_STATUS_IN_SYNC;
  }
  return MATIH_STATUS_ABSENT;
}

static matih_status apply(void* kind_data, matih_step_context* ctx) {
  matih_status s;
  (void)kind_data;
  ctx->host->callback_log(ctx, MATIH_LOG_INFO, lit("compat.marker applied by a 1.0 plugin"), __FILE__,
                          __LINE__);
  s = ctx->host->callback_set_output(ctx, lit("applied"), lit("yes"));
  if (s != MATIH_STATUS_OK) return s;
  return ctx->host->callback_set_output(ctx, lit("slug"), ctx->host->callback_tenant_slug(ctx));
}

static matih_status remove_marker(void* kind_data, matih_step_context* ctx) {
  (void)kind_data;
  (void)ctx;
  return MATIH_STATUS_OK;
}

static matih_status apply_tier(void* kind_data, matih_step_context* ctx) {
  (void)kind_data;
  return ctx->host->callback_set_output(ctx, lit("tier"), ctx->host->callback_tenant_tier(ctx));
}

static matih_step_kind kinds[2];
static matih_plugin table;

__attribute__((visibility("default"))) const matih_plugin* matih_step_plugin_init(
    uint32_t host_abi_major, uint32_t host_abi_minor, const matih_host_api* host) {
  (void)host_abi_minor;
  if (host == NULL || host_abi_major != MATIH_STEP_ABI_VERSION_MAJOR) return NULL;
  kinds[0].struct_size = sizeof(matih_step_kind);
  kinds[0].name = "compat.marker";
  kinds[0].description = "Records a marker output (a plugin built against step ABI 1.0)";
  kinds[0].kind_data = NULL;
  kinds[0].on_observe = observe;
  kinds[0].on_apply = apply;
  kinds[0].on_remove = remove_marker;
  kinds[1] = kinds[0];
  kinds[1].name = "compat.tier";
  kinds[1].description = "Records the tenant's tier (a plugin built against step ABI 1.0)";
  kinds[1].on_apply = apply_tier;
  table.struct_size = sizeof(matih_plugin);
  table.abi_major = MATIH_STEP_ABI_VERSION_MAJOR;
  table.abi_minor = MATIH_STEP_ABI_VERSION_MINOR;
  table.name = "compat-v1-0";
  table.version = "1.0.0";
  table.kind_count = 2;
  table.kinds = kinds;
  table.kind_struct_size = sizeof(matih_step_kind);
  return &table;
}
