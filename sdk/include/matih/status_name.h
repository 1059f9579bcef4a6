/* matih/status_name.h - the name of a step ABI status code, as step_abi.h spells it.
 *
 * C and C++, no state, safe from any thread. The runner (logs, `plugins try`) and matih/testing.hpp
 * use it, so a status reads the same everywhere a plugin author meets it. */
#ifndef MATIH_STATUS_NAME_H_
#define MATIH_STATUS_NAME_H_

#include <matih/step_abi.h>

/* "OK", "IN_SYNC", ...; "UNKNOWN" for a code this SDK does not define. */
static inline const char* matih_status_name(matih_status s) {
  switch (s) {
    case MATIH_STATUS_OK: return "OK";
    case MATIH_STATUS_IN_SYNC: return "IN_SYNC";
    case MATIH_STATUS_DRIFTED: return "DRIFTED";
    case MATIH_STATUS_ABSENT: return "ABSENT";
    case MATIH_STATUS_UNAVAILABLE: return "UNAVAILABLE";
    case MATIH_STATUS_ABORTED: return "ABORTED";
    case MATIH_STATUS_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case MATIH_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case MATIH_STATUS_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case MATIH_STATUS_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case MATIH_STATUS_NOT_FOUND: return "NOT_FOUND";
    case MATIH_STATUS_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case MATIH_STATUS_CANCELLED: return "CANCELLED";
    case MATIH_STATUS_INTERNAL: return "INTERNAL";
    case MATIH_STATUS_UNIMPLEMENTED: return "UNIMPLEMENTED";
    default: return "UNKNOWN";
  }
}

#endif /* MATIH_STATUS_NAME_H_ */
