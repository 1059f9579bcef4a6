# matih_add_plugin(): how every step plugin is built, built-in or test. A MODULE that links the
# SDK alone, with hidden visibility and a version script, so `nm -D` shows only the entry point.

set(MATIH_PLUGIN_VERSION_SCRIPT ${PROJECT_SOURCE_DIR}/plugins/plugin.map CACHE INTERNAL "")
set(MATIH_PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins CACHE INTERNAL "")

# matih_add_plugin(<name> SOURCES ... [LIBRARIES ...] [OUTPUT_DIR dir])
function(matih_add_plugin name)
  cmake_parse_arguments(P "" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${MATIH_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  target_link_libraries(${name} PRIVATE matih::step_sdk ${P_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    LINK_DEPENDS ${MATIH_PLUGIN_VERSION_SCRIPT})
  target_link_options(${name} PRIVATE "-Wl,--version-script=${MATIH_PLUGIN_VERSION_SCRIPT}")
  if(NOT MATIH_SANITIZE)
    target_link_options(${name} PRIVATE "-Wl,--no-undefined")
  endif()
  matih_strict(${name})
endfunction()
