// A fixture for runner_layering_violation_test: a lower layer that includes a higher one.
#include "high/high.h"
#include "low/low.h"
