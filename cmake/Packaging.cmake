# `cpack -G DEB` in a build directory makes apitoken_VERSION_ARCH.deb
# (scripts/check-deb.sh builds, installs and removes it). Some destinations
# are absolute (/etc, /lib/systemd, the PAM directory), so the prefix is
# /usr (the default here).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME apitoken)
set(CPACK_PACKAGE_VENDOR "apitoken")
set(CPACK_PACKAGE_CONTACT "apitoken developers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Jenkins-style API tokens for every PAM service")
set(CPACK_PACKAGE_DESCRIPTION "Users create named, revocable, expiring API tokens with apitokenctl \
and use them in place of their password with any PAM service (pam_apitoken.so); apitokend \
keeps only Argon2id hashes.")
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# dpkg-shlibdeps (package dpkg-dev) adds the libraries with their versions;
# without it CPack would silently leave them out and apitokend would not
# start on a host that lacks them, so they are then named here.
find_program(APITOKEN_DPKG_SHLIBDEPS dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(APITOKEN_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "dbus, adduser")
else()
  message(STATUS "dpkg-shlibdeps not found (apt-get install dpkg-dev): "
                 "the .deb names its libraries without versions")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "dbus, adduser, libc6, libstdc++6, libgcc-s1, libsodium23, liblmdb0, libsystemd0, libpam0g, zlib1g, libunistring2")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
# The Cockpit page (/usr/share/cockpit/apitoken) shows up once cockpit is installed.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "cockpit")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/systemd/debian/postinst
  ${PROJECT_SOURCE_DIR}/systemd/debian/prerm
  ${PROJECT_SOURCE_DIR}/systemd/debian/postrm
  ${PROJECT_SOURCE_DIR}/systemd/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
