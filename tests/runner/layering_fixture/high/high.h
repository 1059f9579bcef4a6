// A fixture for runner_layering_violation_test: the higher layer, which may include the lower.
#pragma once
#include "low/low.h"
