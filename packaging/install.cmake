# Install rules of the runtime package (COMPONENT runtime) other than the binary, whose rule is in
# runner/CMakeLists.txt: the built-in plugins, the config, the systemd units and the scheduling
# examples. The SDK's rules (COMPONENT dev) are in sdk/CMakeLists.txt. Included by cpack.cmake.
#
# Paths: the package installs under /usr (CPACK_PACKAGING_INSTALL_PREFIX), so relative
# destinations land in /usr; config and units use absolute paths, as Debian wants them.

set(MATIH_INSTALL_PLUGIN_DIR lib/matih-provisioner/plugins)
set(MATIH_INSTALL_CONFIG_DIR /etc/matih-provisioner)
set(MATIH_INSTALL_UNIT_DIR /lib/systemd/system)
# Debian wants /usr/share/doc/<package>; the project name (matih_provisioner) differs from it.
set(MATIH_INSTALL_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/matih-provisioner)

# Built-in plugins: every MODULE library under plugins/ that builds into the plugin output folder
# (test plugins build elsewhere). Found from the build system, so plugins/ needs no install rules.
function(_matih_collect_plugins dir out)
  get_property(_targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(_subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  set(_found "")
  foreach(_t IN LISTS _targets)
    get_target_property(_type ${_t} TYPE)
    get_target_property(_outdir ${_t} LIBRARY_OUTPUT_DIRECTORY)
    if(_type STREQUAL "MODULE_LIBRARY" AND _outdir STREQUAL MATIH_PLUGIN_OUTPUT_DIR)
      list(APPEND _found ${_t})
    endif()
  endforeach()
  foreach(_sub IN LISTS _subdirs)
    _matih_collect_plugins(${_sub} _more)
    list(APPEND _found ${_more})
  endforeach()
  set(${out} ${_found} PARENT_SCOPE)
endfunction()

set(MATIH_BUILTIN_PLUGINS "")
if(MATIH_BUILD_PLUGINS)
  _matih_collect_plugins(${PROJECT_SOURCE_DIR}/plugins MATIH_BUILTIN_PLUGINS)
endif()
if(MATIH_BUILTIN_PLUGINS)
  install(TARGETS ${MATIH_BUILTIN_PLUGINS}
    LIBRARY DESTINATION ${MATIH_INSTALL_PLUGIN_DIR} COMPONENT runtime)
endif()
# The folder exists even before the first plugin lands, so the runner's default path is valid.
install(DIRECTORY DESTINATION ${MATIH_INSTALL_PLUGIN_DIR} COMPONENT runtime)

# Config: everything under config/ (catalog.yaml, templates/, ...) plus the example runner config.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/config/ DESTINATION ${MATIH_INSTALL_CONFIG_DIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/matih-provisioner.conf
  DESTINATION ${MATIH_INSTALL_CONFIG_DIR} COMPONENT runtime)

# Scheduling: the systemd pair is installed (enable the timer to use it); the cron line and the
# Kubernetes manifests are examples, since installing them would schedule a second runner.
install(FILES ${PROJECT_SOURCE_DIR}/cron/matih-provisioner.service ${PROJECT_SOURCE_DIR}/cron/matih-provisioner.timer
  DESTINATION ${MATIH_INSTALL_UNIT_DIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/cron/matih-provisioner.cron ${PROJECT_SOURCE_DIR}/cron/README.md
  DESTINATION ${MATIH_INSTALL_DOC_DIR}/examples COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/cron/kubernetes
  DESTINATION ${MATIH_INSTALL_DOC_DIR}/examples COMPONENT runtime)

# Operating: the runbook, and the alerting rules and dashboard it refers to.
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md DESTINATION ${MATIH_INSTALL_DOC_DIR} COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/packaging/monitoring
  DESTINATION ${MATIH_INSTALL_DOC_DIR} COMPONENT runtime)

# Debian conffiles: every file the package puts under /etc, so upgrades keep local edits.
file(GLOB_RECURSE _config_files RELATIVE ${PROJECT_SOURCE_DIR}/config CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/config/*)
set(_conffiles "${MATIH_INSTALL_CONFIG_DIR}/matih-provisioner.conf\n")
foreach(_f IN LISTS _config_files)
  string(APPEND _conffiles "${MATIH_INSTALL_CONFIG_DIR}/${_f}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/packaging/debian/conffiles "${_conffiles}")
