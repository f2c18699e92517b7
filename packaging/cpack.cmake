# The .deb: `cpack -G DEB` in the build directory (scripts/package-deb.sh does it). Dependencies
# come from dpkg-shlibdeps (libip4tc2, libip6tc2, libnl-3-200, libnl-route-3-200, libmnl0,
# libnftnl11, libstdc++6, libc6), plus libnftables1 as a recommendation: nftables mode loads it
# at run time, iptables mode runs without it. /usr/bin/istio-iptables is a link to snare.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "snare")
set(CPACK_PACKAGE_VENDOR "snare developers")
set(CPACK_PACKAGE_CONTACT "snare developers <snare@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "service-mesh traffic interception (istio-iptables drop-in) through libiptc")
set(CPACK_PACKAGE_DESCRIPTION
    "snare writes the iptables rules that send a pod's TCP traffic through its sidecar proxy, with
istio-iptables' flags and rules, through libiptc (no iptables binaries), all or nothing. It also
verifies live rules and ships a REDIRECT/TPROXY-aware relay (snare proxy).")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libnftables1")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_LICENSE "GPL-2+")
set(CPACK_RESOURCE_FILE_LICENSE "${CMAKE_SOURCE_DIR}/LICENSE")
set(CPACK_STRIP_FILES ON)
include(CPack)
