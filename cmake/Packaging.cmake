# The Debian package (CPack DEB generator): `bash ci/package.sh` builds it.
#
#   /usr/sbin/fpm-sink, /usr/bin/fpm-sinkctl      (install() rules of app/, control/)
#   /usr/share/man/man8/fpm-sink.8.gz             (ManPages.cmake)
#   /usr/share/man/man1/fpm-sinkctl.1.gz
#   /lib/systemd/system/fpm-sink.service          not enabled: no maintainer scripts
#   /etc/fpm-sink/fpm-sink.toml                   a conffile: dpkg keeps local edits
#   /usr/share/doc/fpm-sink/{README.md,copyright,changelog.Debian.gz,frr-config/}
#
# Depends comes from dpkg-shlibdeps over the binaries, so it names exactly the
# Debian library packages (and minimum versions) the build linked against;
# tests/integration/package installs the .deb into a fresh Debian 12 to prove
# they resolve from Debian alone.
include(ManPages)

fpm_man_page(fpm-sink 8)
# Section 1: fpm-sinkctl lives in /usr/bin and only reads state (Debian policy
# puts /usr/bin commands in section 1, /usr/sbin daemons in 8; vtysh(1) and
# systemctl(1) are the same kind of tool).
fpm_man_page(fpm-sinkctl 1)

set(FPM_SINK_DOC_DIR share/doc/fpm-sink)
install(FILES ${PROJECT_SOURCE_DIR}/dist/fpm-sink.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/dist/fpm-sink.toml DESTINATION /etc/fpm-sink)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/dist/copyright
        DESTINATION ${FPM_SINK_DOC_DIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/frr-config/ DESTINATION ${FPM_SINK_DOC_DIR}/frr-config)

# Debian wants a changelog in every package (changelog.Debian for a package
# with a Debian revision, here -1); this one points at the git history.
set(changelog ${PROJECT_BINARY_DIR}/debian/changelog.Debian)
string(TIMESTAMP changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
set(FPM_SINK_DEB_MAINTAINER "fpm-sink maintainers <fpm-sink@invalid>"
    CACHE STRING "Maintainer field of the Debian package")
file(WRITE ${changelog}
     "fpm-sink (${PROJECT_VERSION}-1) unstable; urgency=medium\n\n"
     "  * Built from the fpm-sink source tree; see its git history.\n\n"
     " -- ${FPM_SINK_DEB_MAINTAINER}  ${changelog_date}\n")
add_custom_command(
  OUTPUT ${changelog}.gz
  COMMAND ${GZIP} -9nkf ${changelog}
  DEPENDS ${changelog}
  VERBATIM)
add_custom_target(deb-changelog ALL DEPENDS ${changelog}.gz)
install(FILES ${changelog}.gz DESTINATION ${FPM_SINK_DOC_DIR})

# dpkg treats a file listed in the control archive's conffiles as the admin's:
# an upgrade never overwrites local edits, and remove (not purge) keeps it.
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "/etc/fpm-sink/fpm-sink.toml\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fpm-sink)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # a RelWithDebInfo build packs stripped binaries
set(CPACK_PACKAGE_CONTACT ${FPM_SINK_DEB_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "XDP fast path fed by FRRouting's FPM stream")
# The long description; CPack puts the summary above it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "fpm-sink listens on the Forwarding Plane Manager socket of FRR's zebra\n"
    "(module dplane_fpm_nl), keeps a model of the selected routes and next-hop\n"
    "groups, and programs an XDP program's longest-prefix-match tables, ECMP\n"
    "groups and neighbour rewrites. Packets it cannot forward go to the kernel,\n"
    "which zebra keeps programming as before.\n"
    "\n"
    "The systemd unit is installed but not enabled.")
string(REPLACE ";" "" CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_DEBIAN_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # fpm-sink_<version>-1_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS frr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
