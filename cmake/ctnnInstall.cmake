# cmake --install + find_package(ctnn CONFIG REQUIRED)
include(CMakePackageConfigHelpers)
install(TARGETS ctnn EXPORT ctnnTargets)
install(DIRECTORY include/ctnn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ctnnTargets NAMESPACE ctnn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ctnn)
configure_package_config_file(cmake/ctnnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ctnnConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ctnn)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ctnnConfigVersion.cmake
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/ctnnConfig.cmake ${PROJECT_BINARY_DIR}/ctnnConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ctnn)
