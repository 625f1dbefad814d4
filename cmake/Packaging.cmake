# `cpack -G DEB` in a build directory makes apitoken_VERSION_ARCH.deb.
# Configure with -DCMAKE_INSTALL_PREFIX=/usr (as scripts/build-deb.sh does):
# some destinations are absolute (/etc, /lib/systemd, the PAM directory).
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
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "dbus, adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/systemd/debian/postinst
  ${PROJECT_SOURCE_DIR}/systemd/debian/prerm
  ${PROJECT_SOURCE_DIR}/systemd/debian/postrm
  ${PROJECT_SOURCE_DIR}/systemd/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
