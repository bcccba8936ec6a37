# The Debian package: `cmake --build BUILD --target ltrack_deb` (also built
# with the VM suite, whose Package tests install it) writes
# BUILD/package/ltrack_<version>_<arch>.deb with CPack's DEB generator.
# Contents and what is tested: docs/operations.md, "The Debian package".
include(GNUInstallDirs)
# cpack runs the `preinstall` target, which by default builds `all`; the VM
# suite (part of `all`) depends on the package, so that would recurse. The
# package's own command depends on exactly what it installs instead.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# Man pages, gzipped as Debian installs them.
set(ltrack_man_pages)
foreach(page ltrackd ltrackctl)
  set(gz ${PROJECT_BINARY_DIR}/man/${page}.8.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/man/${page}.8 > ${gz}
    DEPENDS ${PROJECT_SOURCE_DIR}/man/${page}.8
    VERBATIM)
  list(APPEND ltrack_man_pages ${gz})
endforeach()
install(FILES ${ltrack_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
# ltrack.toml(5): the policy format.
set(ltrack_man5 ${PROJECT_BINARY_DIR}/man/ltrack.toml.5.gz)
add_custom_command(OUTPUT ${ltrack_man5}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/man/ltrack.toml.5 > ${ltrack_man5}
  DEPENDS ${PROJECT_SOURCE_DIR}/man/ltrack.toml.5
  VERBATIM)
install(FILES ${ltrack_man5} DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
list(APPEND ltrack_man_pages ${ltrack_man5})
add_custom_target(ltrack_man ALL DEPENDS ${ltrack_man_pages})

# /usr/share/doc/ltrack: the machine-readable copyright file and the Debian
# changelog (gzipped as dh_installchangelogs does); the changelog's newest
# entry must be this version.
set(ltrack_deb_release 1)
file(STRINGS ${PROJECT_SOURCE_DIR}/packaging/debian/changelog ltrack_changelog_top LIMIT_COUNT 1)
if(NOT ltrack_changelog_top MATCHES "^ltrack \\(${PROJECT_VERSION}-${ltrack_deb_release}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog starts with '${ltrack_changelog_top}', "
                      "not an entry for ${PROJECT_VERSION}-${ltrack_deb_release}")
endif()
set(ltrack_changelog_gz ${PROJECT_BINARY_DIR}/package-doc/changelog.Debian.gz)
add_custom_command(OUTPUT ${ltrack_changelog_gz}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/package-doc
  COMMAND gzip -9n -c ${PROJECT_SOURCE_DIR}/packaging/debian/changelog > ${ltrack_changelog_gz}
  DEPENDS ${PROJECT_SOURCE_DIR}/packaging/debian/changelog
  VERBATIM)
add_custom_target(ltrack_changelog ALL DEPENDS ${ltrack_changelog_gz})
install(FILES ${ltrack_changelog_gz} ${PROJECT_SOURCE_DIR}/packaging/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/ltrack)
# /var/log/ltrack, 0750 root:adm, at every boot and from postinst.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/ltrack.tmpfiles
        DESTINATION lib/tmpfiles.d RENAME ltrack.conf)
# lintian's overrides, each with its reason (the lintian_clean test).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME ltrack)

# bash completion, generated from the programs' --help (CLI11's rendering of
# their definitions) whenever they are rebuilt: packaging/bash_completion.py.
set(ltrack_completions)
foreach(program ltrackd ltrackctl)
  set(out ${PROJECT_BINARY_DIR}/completions/${program})
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/completions
    COMMAND python3 ${PROJECT_SOURCE_DIR}/packaging/bash_completion.py generate $<TARGET_FILE:${program}> ${out}
    DEPENDS ${program} ${PROJECT_SOURCE_DIR}/packaging/bash_completion.py
    VERBATIM)
  list(APPEND ltrack_completions ${out})
endforeach()
add_custom_target(ltrack_completions ALL DEPENDS ${ltrack_completions})
install(FILES ${ltrack_completions} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

file(GLOB ltrack_shipped_policies ${PROJECT_SOURCE_DIR}/policies/*.toml)
install(FILES ${ltrack_shipped_policies} DESTINATION ${CMAKE_INSTALL_DATADIR}/ltrack/policies)
install(FILES ${PROJECT_SOURCE_DIR}/policyd/systemd/ltrackd.service DESTINATION lib/systemd/system)
file(GLOB ltrack_docs ${PROJECT_SOURCE_DIR}/docs/*.md ${PROJECT_SOURCE_DIR}/docs/*.json)
install(FILES ${ltrack_docs} ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/ltrack)
# The host's policy: audit mode, so installing never breaks a host; a
# conffile (packaging/debian/conffiles), so an edited one survives upgrades.
# `cmake --install` never overwrites an existing one either.
install(CODE "
  if(EXISTS \"\$ENV{DESTDIR}/etc/ltrack/policy.toml\")
    message(STATUS \"Keeping \$ENV{DESTDIR}/etc/ltrack/policy.toml (the host's policy)\")
  else()
    file(INSTALL \"${PROJECT_SOURCE_DIR}/policies/default.toml\" DESTINATION /etc/ltrack
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ RENAME policy.toml)
  endif()")

execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE ltrack_deb_arch
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT ltrack_deb_arch)
  set(ltrack_deb_arch amd64)
endif()
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ltrack)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ltrack maintainers <maintainers@users.noreply.b-seed-a9871825.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "BPF LSM guard for machine-learning model-serving hosts")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "ltrackd enforces a TOML policy with BPF LSM programs on file_open,\n bprm_check_security and socket_connect (model files scanned for pickle\n imports are refused at open), and logs every decision; ltrackctl controls\n it. The installed policy is audit mode: nothing is refused until it is\n replaced.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${ltrack_deb_arch})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${ltrack_deb_release})
set(CPACK_DEBIAN_FILE_NAME ltrack_${PROJECT_VERSION}-${ltrack_deb_release}_${ltrack_deb_arch}.deb)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON) # /etc/ltrack lands in the package, not on the build host
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# The shared libraries' packages as dpkg-shlibdeps finds them (libbpf1,
# which brings libelf1, zlib1g, libspdlog1.10-fmt9, libfmt9,
# libtomlplusplus3, libstdc++6, libgcc-s1, libc6).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The maintainer scripts' deb-systemd-helper and deb-systemd-invoke, as
# debhelper's ${misc:Depends} would add them.
# python3:any: the package installs the audit hook module for governed
# interpreters into /usr/lib/python3/dist-packages (python/).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.54~), python3:any")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
include(CPack)

set(ltrack_deb_file ${PROJECT_BINARY_DIR}/package/${CPACK_DEBIAN_FILE_NAME})
file(GLOB ltrack_packaging_inputs ${PROJECT_SOURCE_DIR}/packaging/debian/*)
add_custom_command(OUTPUT ${ltrack_deb_file}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/package
  COMMAND ${CMAKE_CPACK_COMMAND} -G DEB --config ${PROJECT_BINARY_DIR}/CPackConfig.cmake > ${PROJECT_BINARY_DIR}/package/cpack.log
  DEPENDS ltrackd ltrackctl ltrack_pyhook ${LTRACK_PYHOOK_PY} ${ltrack_man_pages} ${ltrack_shipped_policies} ${ltrack_docs} ${ltrack_changelog_gz} ${ltrack_completions}
          ${PROJECT_SOURCE_DIR}/policyd/systemd/ltrackd.service ${ltrack_packaging_inputs}
  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
  COMMENT "Building ${CPACK_DEBIAN_FILE_NAME}")
add_custom_target(ltrack_deb DEPENDS ${ltrack_deb_file})
if(TARGET ltrack_vm_tests)
  add_dependencies(ltrack_vm_tests ltrack_deb)
  target_compile_definitions(ltrack_vm_tests PRIVATE LTRACK_DEB="${ltrack_deb_file}")
endif()

if(LTRACK_TESTS)
  # `ltrackd --help` and `ltrackctl --help` (and each command's) against the man pages.
  add_test(NAME man_pages_match_help
    COMMAND python3 ${PROJECT_SOURCE_DIR}/man/check_options.py $<TARGET_FILE:ltrackd> $<TARGET_FILE:ltrackctl>
            ${PROJECT_SOURCE_DIR}/man)
  # ltrack.toml(5) names every key and section parse_policy.cpp accepts, and its example compiles.
  add_test(NAME man_policy_keys
    COMMAND python3 ${PROJECT_SOURCE_DIR}/man/check_policy_keys.py
            ${PROJECT_SOURCE_DIR}/policy/parse_policy.cpp ${PROJECT_SOURCE_DIR}/man/ltrack.toml.5
            $<TARGET_FILE:ltrackctl>)
  # The unit's sandbox: systemd-analyze security --offline scores it <= 4.0.
  add_test(NAME unit_security_score
    COMMAND sh ${PROJECT_SOURCE_DIR}/packaging/tests/unit_security.sh
            ${PROJECT_SOURCE_DIR}/policyd/systemd/ltrackd.service 4.0)
  set_tests_properties(unit_security_score PROPERTIES SKIP_RETURN_CODE 77)
  # The completions offer every subcommand, option and choice --help lists.
  foreach(program ltrackd ltrackctl)
    add_test(NAME bash_completion_${program}
      COMMAND python3 ${PROJECT_SOURCE_DIR}/packaging/bash_completion.py check $<TARGET_FILE:${program}>
              ${PROJECT_BINARY_DIR}/completions/${program})
  endforeach()
  # lintian on the .deb: no error, no warning (overrides: packaging/debian/lintian-overrides).
  add_test(NAME lintian_clean
    COMMAND sh ${PROJECT_SOURCE_DIR}/packaging/tests/lintian.sh ${ltrack_deb_file})
  set_tests_properties(lintian_clean PROPERTIES SKIP_RETURN_CODE 77)
endif()
