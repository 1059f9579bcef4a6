/*
 * matih/step_abi.h - the stable C ABI between matih-provisioner (the host) and step plugins.
 *
 * A plugin is a shared library that exports exactly one symbol, matih_step_plugin_init (see the
 * end of this file). The host calls it once after loading, handing over its ABI version and a
 * table of host services; the plugin answers with a table of the step kinds it implements.
 *
 * Rules that keep old plugins loading as the host grows:
 *   - Plain C only: no C++ type, no exception and no allocator crosses this boundary.
 *   - Every struct that can grow starts with `struct_size`; fields are only ever appended at the
 *     end. A reader checks MATIH_ABI_HAS_FIELD before touching a field newer than the struct it
 *     was given. A function whose meaning changes gets a new `_v2` name beside the old one.
 *   - The major version must match exactly; the minor version is negotiated (each side uses
 *     only what both understand).
 *   - Status codes are a fixed list; a value is never renumbered or reused.
 *
 * Naming follows who calls whom: `on_*` functions are exported by the plugin and called by the
 * host; `callback_*` functions are provided by the host and called by the plugin.
 *
 * Ownership tags on every pointer:
 *   [borrowed]  the callee may read it only during the call; the caller keeps ownership.
 *   [call]      valid until the plugin's current on_* call returns; owned by the host.
 *   [static]    owned by the plugin; valid until the plugin is unloaded (the host never unloads
 *               a plugin during a run).
 * Memory is always freed by whoever allocated it: the plugin never frees host memory and the
 * host never frees plugin memory. Strings are UTF-8 and passed with an explicit length; they
 * need not be NUL-terminated unless stated.
 *
 * Threads: the host may call the on_* functions of one kind concurrently from several worker
 * threads, each with its own context (one tenant per context). A context and everything read
 * through it belong to the thread of that call. matih_step_plugin_init is called once, before
 * any other call, from one thread.
 *
 * Changing this file changes the ABI: tests/sdk/abi_golden_test.cc holds its hash and says how
 * to bump the version.
 */
#ifndef MATIH_STEP_ABI_H_
#define MATIH_STEP_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MATIH_STEP_ABI_VERSION_MAJOR 1
/* 1.0: first release. 1.1: matih_step_kind.on_validate_params, callback_get_extension.
 * 1.2: matih_step_context.lease_epoch; callback_delete_secret, callback_get_shared_secret;
 *      matih_plugin.settings (declared [targets] settings) and matih_plugin.shared_secrets;
 *      secrets of a 1.2 plugin live in a namespace of its own (see callback_put_secret);
 *      later within 1.2, the setting flag MATIH_SETTING_KEY_FILE (a bit older hosts ignore, so
 *      no version step: a plugin declaring it still loads in every 1.2 host).
 * 1.3: matih_step_kind.flags (MATIH_KIND_ADOPTABLE); older plugins' kinds count as flags 0. */
#define MATIH_STEP_ABI_VERSION_MINOR 3

/* True when a struct given with `struct_size` is large enough to hold `field`. */
#define MATIH_ABI_HAS_FIELD(ptr, type, field) \
  ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* ---------------------------------------------------------------------------------------------
 * Status codes. A fixed list: values are never renumbered or reused.
 * ------------------------------------------------------------------------------------------- */
typedef int32_t matih_status;

/* Success answers. */
#define MATIH_STATUS_OK 0        /* apply / remove / validate succeeded */
#define MATIH_STATUS_IN_SYNC 1   /* observe: the target matches the desired state */
#define MATIH_STATUS_DRIFTED 2   /* observe: the target exists but differs; message = short diff */
#define MATIH_STATUS_ABSENT 3    /* observe: the target does not exist */
/* Transient errors: the host retries with backoff. */
#define MATIH_STATUS_UNAVAILABLE 10       /* the target could not be reached or was busy */
#define MATIH_STATUS_ABORTED 11           /* a conflict (lock, concurrent change); try again */
#define MATIH_STATUS_DEADLINE_EXCEEDED 12 /* the call ran past its deadline */
/* Permanent errors: the host stops the flow for this tenant. */
#define MATIH_STATUS_INVALID_ARGUMENT 20    /* the tenant's spec or the step's params are wrong */
#define MATIH_STATUS_FAILED_PRECONDITION 21 /* the world is not in a state this step can act on */
#define MATIH_STATUS_PERMISSION_DENIED 22   /* credentials were refused */
#define MATIH_STATUS_NOT_FOUND 23           /* something the step depends on does not exist */
#define MATIH_STATUS_RESOURCE_EXHAUSTED 24  /* a quota or capacity limit was reached */
#define MATIH_STATUS_CANCELLED 25           /* the host asked the step to stop */
#define MATIH_STATUS_INTERNAL 26            /* a bug or an unexpected exception in the plugin */
#define MATIH_STATUS_UNIMPLEMENTED 27       /* the kind does not support this operation */

/* Log levels, as in the host's logger. */
typedef int32_t matih_log_level;
#define MATIH_LOG_TRACE 0
#define MATIH_LOG_DEBUG 1
#define MATIH_LOG_INFO 2
#define MATIH_LOG_WARN 3
#define MATIH_LOG_ERROR 4

/* A string with an explicit length. */
typedef struct matih_str {
  const char* data; /* see the ownership tag where the struct is used */
  size_t size;
} matih_str;

/* Opaque: one step call for one tenant. Created by the host before an on_* call and destroyed
 * after it returns; a plugin must not keep it. */
typedef struct matih_step_context matih_step_context;

/* ---------------------------------------------------------------------------------------------
 * Host services, provided by the host (callback_*). Every function takes the context of the
 * current call and may be called only from the thread of that call, while it runs.
 * ------------------------------------------------------------------------------------------- */
typedef struct matih_host_api {
  uint32_t struct_size; /* sizeof(matih_host_api) as the host was built */
  uint32_t abi_major;
  uint32_t abi_minor;

  /* Logging. `message` [borrowed]; `file` [borrowed, NUL-terminated, may be NULL]. The host adds
   * run, tenant and step to every line. Never pass a secret value here. */
  void (*callback_log)(matih_step_context* ctx, matih_log_level level, matih_str message,
                       const char* file, int32_t line);
  /* Nonzero when `level` would be written, so a plugin can skip building expensive messages. */
  int32_t (*callback_log_enabled)(matih_step_context* ctx, matih_log_level level);

  /* The tenant and the step. Each returns a [call] string. */
  matih_str (*callback_tenant_id)(matih_step_context* ctx);   /* UUID */
  matih_str (*callback_tenant_slug)(matih_step_context* ctx); /* RFC 1035 label */
  matih_str (*callback_tenant_tier)(matih_step_context* ctx); /* free|starter|professional|enterprise */
  matih_str (*callback_tenant_spec_json)(matih_step_context* ctx);  /* the tenant's spec, a JSON object */
  matih_str (*callback_step_name)(matih_step_context* ctx);         /* e.g. "create-namespace" */
  matih_str (*callback_step_params_json)(matih_step_context* ctx);  /* catalog params, a JSON object */
  matih_str (*callback_run_id)(matih_step_context* ctx);

  /* A host setting for plugins, from the runner's configuration (section [targets]), e.g.
   * "gitops.repository". Returns OK with a [call] string, or NOT_FOUND. */
  matih_status (*callback_get_setting)(matih_step_context* ctx, matih_str key, matih_str* value);

  /* Outputs. Reading: an output `key` of the earlier step `step_name` of this tenant (or of this
   * step, as recorded by an earlier run); OK with a [call] string, or NOT_FOUND. Writing: sets
   * an output of this step, recorded when the call succeeds. Outputs are visible to operators:
   * never put a secret in one. Arguments [borrowed]. */
  matih_status (*callback_get_output)(matih_step_context* ctx, matih_str step_name, matih_str key,
                                      matih_str* value);
  matih_status (*callback_set_output)(matih_step_context* ctx, matih_str key, matih_str value);

  /* Secrets of this tenant, in the host's encrypted store. put: stores (or replaces) `name`.
   * get: OK with a [call] value (the host wipes it after the call), NOT_FOUND when there is no
   * such secret, or another error when the store could not answer (a wrong key, the database
   * down): only NOT_FOUND means absent. The host never logs or records secret values.
   * Since 1.2 each plugin has a namespace of its own, named after matih_plugin.name: `name` is
   * relative to it, and no other plugin can read or overwrite it (except the names the plugin
   * lists in matih_plugin.shared_secrets, which others may read). Plugins built for 1.0 and 1.1
   * share one legacy namespace per tenant. Arguments [borrowed]. */
  matih_status (*callback_put_secret)(matih_step_context* ctx, matih_str name, matih_str value);
  matih_status (*callback_get_secret)(matih_step_context* ctx, matih_str name, matih_str* value);

  /* The deadline of this call as Unix time in milliseconds, and whether the host asks the step
   * to stop (nonzero): long operations should poll it and return MATIH_STATUS_CANCELLED. */
  int64_t (*callback_deadline_unix_ms)(matih_step_context* ctx);
  int32_t (*callback_is_cancelled)(matih_step_context* ctx);
  /* Nonzero when the host only plans: observe is called, apply and remove are not. */
  int32_t (*callback_is_dry_run)(matih_step_context* ctx);

  /* Sets the message of this call's answer: the short diff for DRIFTED, the reason for an error.
   * `message` [borrowed]; the last call wins. Never put a secret in it. */
  void (*callback_set_message)(matih_step_context* ctx, matih_str message);

  /* Since 1.1. An optional host extension by name and version ("matih.xxx", 1), or NULL when the
   * host has none. The returned table is [static] for the host's lifetime; its layout is defined
   * by the extension's own header and starts with struct_size. `name` [borrowed, NUL-terminated].*/
  const void* (*callback_get_extension)(const char* name, uint32_t version);

  /* Since 1.2. Deletes secret `name` of this tenant in this plugin's namespace; OK also when it
   * was absent. Refused (FAILED_PRECONDITION) in a dry run. `name` [borrowed]. */
  matih_status (*callback_delete_secret)(matih_step_context* ctx, matih_str name);
  /* Since 1.2. Reads secret `name` that plugin `owner` (its matih_plugin.name) stored for this
   * tenant and listed in its shared_secrets: OK with a [call] value, NOT_FOUND, or
   * PERMISSION_DENIED when the owner does not share that name. Arguments [borrowed]. */
  matih_status (*callback_get_shared_secret)(matih_step_context* ctx, matih_str owner, matih_str name,
                                             matih_str* value);
} matih_host_api;

/* What the host passes with every call: the host services, and the context to hand back. */
struct matih_step_context {
  uint32_t struct_size;
  const matih_host_api* host; /* [static] for the host's lifetime */
  /* Since 1.2 (check with MATIH_ABI_HAS_FIELD). The fencing token of the runner's lease on this
   * tenant: it grows every time a runner claims the tenant, so a target that can fence (a lock
   * row, a commit trailer) refuses a write carrying an epoch lower than one it has seen. 0 when
   * the call holds no lease (plan, tests). */
  int64_t lease_epoch;
  /* Host-private fields follow; a plugin must not read past this point. */
};

/* ---------------------------------------------------------------------------------------------
 * Step kinds, provided by the plugin (on_*).
 * ------------------------------------------------------------------------------------------- */
typedef struct matih_step_kind {
  uint32_t struct_size;    /* sizeof(matih_step_kind) as the plugin was built */
  const char* name;        /* [static] NUL-terminated, unique across plugins: "dns.zone" */
  const char* description; /* [static] NUL-terminated, one line for `steps list` */
  void* kind_data;         /* [static] passed back to every on_* call of this kind */

  /* Reads the real target and answers IN_SYNC, DRIFTED (with a short diff as message), ABSENT,
   * or an error. Must change nothing. */
  matih_status (*on_observe)(void* kind_data, matih_step_context* ctx);
  /* Converges the target to the desired state; safe to repeat any number of times. */
  matih_status (*on_apply)(void* kind_data, matih_step_context* ctx);
  /* Undoes apply (rollback, deprovisioning); answers OK when the target is already absent. */
  matih_status (*on_remove)(void* kind_data, matih_step_context* ctx);

  /* Since 1.1; may be NULL. Checks a catalog entry's params (a JSON object) when the catalog is
   * loaded, before any run: OK, or INVALID_ARGUMENT with the reason written to `error`
   * (at most `error_size` bytes including a terminating NUL). `params_json` [borrowed];
   * `error` [borrowed] buffer owned by the host. No context: this is not a step call. */
  matih_status (*on_validate_params)(void* kind_data, matih_str params_json, char* error,
                                     size_t error_size);

  /* Since 1.3 (read with MATIH_ABI_HAS_FIELD; absent means 0). MATIH_KIND_* bits. */
  uint32_t flags;
} matih_step_kind;

/* Since 1.3: the kind's objects are adoptable. Whatever an apply made, even one interrupted or
 * whose result the host never recorded, on_observe finds it again by the tenant and the params
 * alone (a name derived from them, a lookup), and answers IN_SYNC or DRIFTED, never ABSENT, once
 * it exists; an apply run again never makes a second object. The host may then record the
 * step's intent and result late (with later steps, per phase or per short interval) instead of
 * committing the intent before the apply: a crash loses at most results that the next run
 * observes again. Do not set it for a kind that makes something observe cannot find afterwards
 * (a registration that returns a generated id and offers no lookup). */
#define MATIH_KIND_ADOPTABLE 0x1u

/* Since 1.2: a runner setting the plugin reads through callback_get_setting, declared so the host
 * can refuse unknown keys in [targets] and list the settings in `plugins verify`. */
#define MATIH_SETTING_REQUIRED 0x1u /* a step of this plugin fails without it */
#define MATIH_SETTING_SECRET 0x2u   /* the value is a credential: never printed */
/* The value is the path of a key file (an HMAC or encryption key the plugin reads). Hosts of this
 * release check it when a run or plan starts, before anything is claimed, and refuse to start
 * (exit 2, naming the file and the problem) unless it exists, is a regular file, grants group and
 * others no access (mode 0600 or 0400), and holds a key of at least 32 bytes: 64 or more hex
 * digits, base64 of 32 or more bytes, or 32 or more raw bytes (surrounding whitespace ignored).
 * Additive: older hosts ignore the bit, and the plugin must still check what it reads. */
#define MATIH_SETTING_KEY_FILE 0x4u
typedef struct matih_setting {
  uint32_t struct_size;    /* sizeof(matih_setting) as the plugin was built */
  uint32_t flags;          /* MATIH_SETTING_* */
  const char* name;        /* [static] NUL-terminated key under [targets]: "dns.api_url" */
  const char* description; /* [static] NUL-terminated, one line */
} matih_setting;

/* The plugin's answer to matih_step_plugin_init. [static]. */
typedef struct matih_plugin {
  uint32_t struct_size; /* sizeof(matih_plugin) as the plugin was built */
  uint32_t abi_major;   /* MATIH_STEP_ABI_VERSION_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* MATIH_STEP_ABI_VERSION_MINOR the plugin was built with */
  const char* name;     /* [static] NUL-terminated: "matih-kubernetes" */
  const char* version;  /* [static] NUL-terminated: the plugin's own version, "1.4.2" */
  size_t kind_count;
  const matih_step_kind* kinds; /* [static] array of kind_count entries */
  /* Size of one element of `kinds`, so the host can walk an array of older, smaller structs. */
  size_t kind_struct_size;

  /* Since 1.2. The settings the plugin reads; array of setting_count elements of
   * setting_struct_size bytes each. [static]; NULL when setting_count is 0. */
  size_t setting_count;
  const matih_setting* settings;
  size_t setting_struct_size;
  /* Since 1.2. Names of this plugin's secrets that other plugins may read with
   * callback_get_shared_secret; a name ending in '*' shares every name with that prefix.
   * [static] array of shared_secret_count NUL-terminated strings; NULL when the count is 0. */
  size_t shared_secret_count;
  const char* const* shared_secrets;
} matih_plugin;

#define MATIH_STEP_PLUGIN_INIT_SYMBOL "matih_step_plugin_init"

/* The one exported entry point. Called once by the host after loading, from one thread, before
 * any on_* call. `host` is [static] for the host's lifetime. Returns the plugin's table, or NULL
 * when the plugin cannot run with this host. The host refuses a plugin whose abi_major differs
 * from its own, naming both versions. */
typedef const matih_plugin* (*matih_step_plugin_init_fn)(uint32_t host_abi_major,
                                                          uint32_t host_abi_minor,
                                                          const matih_host_api* host);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MATIH_STEP_ABI_H_ */
