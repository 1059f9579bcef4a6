# CPack: Debian packages, one per install component.
#   runtime -> matih-provisioner      the binary, built-in plugins (/usr/lib/matih-provisioner/plugins),
#                                     config (/etc/matih-provisioner), systemd units (/lib/systemd/system)
#   dev     -> matih-provisioner-dev  SDK headers and the CMake package, for third-party plugins
# Build them from a build folder with: cpack -G DEB (see README.md, Packaging).
include(${CMAKE_CURRENT_LIST_DIR}/install.cmake)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME matih-provisioner)
set(CPACK_PACKAGE_VENDOR "MATIH")
set(CPACK_PACKAGE_CONTACT "MATIH platform team <platform@matih.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "MATIH Tenant Provisioner: batch reconciler for tenant provisioning")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://matih.example/provisioner")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME matih-provisioner)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "Turns newly created tenants into operational data platforms and keeps active tenants converged.\n\
Runs as a batch job (systemd timer, cron or Kubernetes CronJob): claims due tenants from\n\
PostgreSQL, runs their provisioning steps as plugins, records an audit trail and exits.")
# Library dependencies of the binary and the plugins come from dpkg-shlibdeps.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/packaging/debian/conffiles
  ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
  ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME matih-provisioner-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "SDK for MATIH Tenant Provisioner step plugins.\n\
The stable C ABI header, the header-only C++ layer and a CMake package\n\
(find_package(MatihStepSdk)) to build step plugins outside the provisioner's source tree.")

include(CPack)
