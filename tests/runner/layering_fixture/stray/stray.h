// A fixture for runner_layering_violation_test: a folder that is not a declared layer.
#pragma once
