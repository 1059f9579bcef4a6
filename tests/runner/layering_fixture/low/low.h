// A fixture for runner_layering_violation_test: the lower layer.
#pragma once
