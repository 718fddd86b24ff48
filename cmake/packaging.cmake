# Install rules and the Debian package (cpack -G DEB in the build folder, or dev/package).
# What goes where and what the maintainer scripts do: docs/operations.md, "Installing the package".
# Paths follow Debian 12: the program under /usr, units in /lib/systemd/system, configuration in /etc.

set(DMVLOG_PKG_SRC ${CMAKE_SOURCE_DIR}/packaging)
set(DMVLOG_PKG_GEN ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${DMVLOG_PKG_GEN})

# The man page and the Debian changelog are installed gzipped (gzip -9n: no name or time stamp, so the
# package is reproducible). Made at configure time; editing either re-runs cmake.
foreach(_src dmvlog.1 deb/changelog)
  get_filename_component(_name ${_src} NAME)
  set(_in ${DMVLOG_PKG_SRC}/${_src})
  set(_out ${DMVLOG_PKG_GEN}/${_name}.gz)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_in})
  if(NOT EXISTS ${_out} OR ${_in} IS_NEWER_THAN ${_out})
    execute_process(COMMAND gzip -9n -c ${_in} OUTPUT_FILE ${_out} RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "gzip -9n ${_in} failed (${_rc})")
    endif()
  endif()
endforeach()

# The changelog's newest entry must be this version (dmvlog (VERSION-REVISION) ...).
set(DMVLOG_DEB_REVISION 1)
file(STRINGS ${DMVLOG_PKG_SRC}/deb/changelog _first LIMIT_COUNT 1)
if(NOT _first MATCHES "^dmvlog \\(${PROJECT_VERSION}-${DMVLOG_DEB_REVISION}\\) ")
  message(WARNING "packaging/deb/changelog starts with '${_first}', not dmvlog (${PROJECT_VERSION}-${DMVLOG_DEB_REVISION}): "
                  "add an entry for this version (the package test fails until then)")
endif()

set(_rw_r__r__ OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Debian's hardening: read-only relocations resolved at start (lintian: hardening-no-bindnow). Link only.
target_link_options(dmvlog PRIVATE LINKER:-z,relro LINKER:-z,now)
install(TARGETS dmvlog RUNTIME DESTINATION bin)

set(_units ${DMVLOG_PKG_SRC}/dmvlog-digest.service ${DMVLOG_PKG_SRC}/dmvlog-digest.timer)
if(EXISTS ${DMVLOG_PKG_SRC}/dmvlog.service)
  list(PREPEND _units ${DMVLOG_PKG_SRC}/dmvlog.service)
endif()
install(FILES ${_units} DESTINATION /lib/systemd/system PERMISSIONS ${_rw_r__r__})

# The example configuration as the real one: a conffile, root:dmvlog 0640 (the group is set by postinst
# through dpkg-statoverride, since the user does not exist when dpkg unpacks).
install(FILES ${DMVLOG_PKG_SRC}/dmvlog.example.toml DESTINATION /etc/dmvlog RENAME dmvlog.toml
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

install(FILES ${DMVLOG_PKG_SRC}/dmvlog.sysusers DESTINATION lib/sysusers.d RENAME dmvlog.conf PERMISSIONS ${_rw_r__r__})
install(FILES ${DMVLOG_PKG_SRC}/dmvlog.tmpfiles DESTINATION lib/tmpfiles.d RENAME dmvlog.conf PERMISSIONS ${_rw_r__r__})
install(FILES ${DMVLOG_PKG_GEN}/dmvlog.1.gz DESTINATION share/man/man1 PERMISSIONS ${_rw_r__r__})
install(FILES ${DMVLOG_PKG_SRC}/deb/copyright DESTINATION share/doc/dmvlog PERMISSIONS ${_rw_r__r__})
install(FILES ${DMVLOG_PKG_GEN}/changelog.gz DESTINATION share/doc/dmvlog RENAME changelog.Debian.gz
        PERMISSIONS ${_rw_r__r__})
# The example again, unchanged, for comparing with an edited /etc/dmvlog/dmvlog.toml.
install(FILES ${DMVLOG_PKG_SRC}/dmvlog.example.toml DESTINATION share/doc/dmvlog/examples PERMISSIONS ${_rw_r__r__})
# Lintian tags this package raises on purpose, each with its reason (docs/operations.md lists them).
install(FILES ${DMVLOG_PKG_SRC}/deb/lintian-overrides DESTINATION share/lintian/overrides RENAME dmvlog
        PERMISSIONS ${_rw_r__r__})
# SQL, schema and collector declarations are compiled into the binary (cmake/embed.cmake): no data files.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dmvlog)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "dmvlog project <dmvlog@example.org>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE DMVLOG_DEB_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${DMVLOG_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${DMVLOG_DEB_REVISION})
set(CPACK_DEBIAN_FILE_NAME dmvlog_${PROJECT_VERSION}-${DMVLOG_DEB_REVISION}_${DMVLOG_DEB_ARCH}.deb)
# Where `cpack` (dev/package, the package tests) writes it.
set(DMVLOG_DEB_FILE ${CPACK_PACKAGE_DIRECTORY}/${CPACK_DEBIAN_FILE_NAME})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "dmvlog project <dmvlog@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Libraries come from dpkg-shlibdeps (the binary's own links), added to these: adduser for postinst
# without systemd, tzdata for time zones (the date library reads the system's tz database).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, tzdata")
# An ODBC driver: FreeTDS (tdsodbc registers itself with unixODBC), or Microsoft's msodbcsql18.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tdsodbc | msodbcsql18")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "SQL Server DMV logging agent
dmvlog polls SQL Server's dynamic management views and extended events over
ODBC (unixODBC with FreeTDS or Microsoft's driver) at per-collector intervals
and writes every snapshot to a store: SQLite on the host, or PostgreSQL as a
central repository for many hosts. Afterwards it answers the questions of an
incident: what was running at a given second, which queries used the CPU in an
hour, who blocked whom; and it sends an hourly blocking digest.
.
The package installs the service dmvlog.service (not enabled), the hourly
digest timer, and an example configuration as /etc/dmvlog/dmvlog.toml.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${DMVLOG_PKG_SRC}/deb/conffiles ${DMVLOG_PKG_SRC}/deb/postinst
    ${DMVLOG_PKG_SRC}/deb/prerm ${DMVLOG_PKG_SRC}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# cpack builds only what the package holds (dev/package builds dmvlog first), not the tests and benchmarks.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CPack)
